module.exports = { ...require('../../jest.preset.js').base, displayName: 'persistence', rootDir: __dirname };
