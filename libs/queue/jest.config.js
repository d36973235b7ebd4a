module.exports = { ...require('../../jest.preset.js').base, displayName: 'queue', rootDir: __dirname };
