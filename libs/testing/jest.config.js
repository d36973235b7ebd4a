module.exports = { ...require('../../jest.preset.js').base, displayName: 'testing', rootDir: __dirname };
