const preset = require('../../jest.preset.js');

module.exports = { ...preset.base, ...preset.services, displayName: 'persistence', rootDir: __dirname };
