// `npm test` runs every project's specs (unit and e2e) in one jest invocation.
module.exports = {
  // A global option: jest ignores it inside project configs when it runs several projects.
  testTimeout: 30_000,
  projects: [
    '<rootDir>/libs/config',
    '<rootDir>/libs/contracts',
    '<rootDir>/libs/signing',
    '<rootDir>/libs/url-policy',
    '<rootDir>/libs/queue',
    '<rootDir>/libs/persistence',
    '<rootDir>/libs/observability',
    '<rootDir>/libs/telemetry',
    '<rootDir>/libs/testing',
    '<rootDir>/apps/api',
    '<rootDir>/apps/worker',
    '<rootDir>/test',
  ],
};
