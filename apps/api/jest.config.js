const preset = require('../../jest.preset.js');

module.exports = { ...preset.base, ...preset.services, displayName: 'api', rootDir: __dirname };
