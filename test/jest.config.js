// Cross-app checks (the compose file, the README's promises) that belong to no single project.
const preset = require('../jest.preset.js');

module.exports = { ...preset.base, displayName: 'workspace', rootDir: __dirname, testMatch: ['<rootDir>/**/*.spec.ts'] };
