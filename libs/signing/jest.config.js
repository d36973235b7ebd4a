module.exports = { ...require('../../jest.preset.js').base, displayName: 'signing', rootDir: __dirname };
