module.exports = { ...require('../../jest.preset.js').base, displayName: 'observability', rootDir: __dirname };
