// System tests: the API and workers together against real PostgreSQL and Redis, plus checks of
// workspace files (the compose file) that belong to no single project.
const preset = require('../jest.preset.js');

module.exports = {
  ...preset.base,
  ...preset.services,
  displayName: 'system',
  rootDir: __dirname,
  testMatch: ['<rootDir>/**/*.spec.ts', '<rootDir>/**/*.e2e-spec.ts'],
};
