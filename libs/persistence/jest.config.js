const preset = require('../../jest.preset.js');

// The repositories' component specs run against the real PostgreSQL: one database template per run.
module.exports = { ...preset.base, ...preset.services, displayName: 'persistence', rootDir: __dirname };
