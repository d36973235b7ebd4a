module.exports = { ...require('../../jest.preset.js').base, displayName: 'contracts', rootDir: __dirname };
