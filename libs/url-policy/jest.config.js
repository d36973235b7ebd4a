module.exports = { ...require('../../jest.preset.js').base, displayName: 'url-policy', rootDir: __dirname };
