module.exports = { ...require('../../jest.preset.js').base, displayName: 'telemetry', rootDir: __dirname };
