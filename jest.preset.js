// Shared jest settings: swc transpiles TypeScript (with decorator metadata, which NestJS DI needs)
// and the @callbacks/* aliases resolve to the libraries' sources, as in tsconfig.base.json.
const path = require('node:path');
const fs = require('node:fs');

const swcrc = JSON.parse(fs.readFileSync(path.join(__dirname, '.swcrc'), 'utf8'));
const { paths } = require('./tsconfig.base.json').compilerOptions;

const moduleNameMapper = Object.fromEntries(Object.entries(paths).map(([alias, [target]]) => [`^${alias}$`, path.join(__dirname, target)]));

const base = {
  testEnvironment: 'node',
  // NestJS 12 ships ES modules only. Node 20 loads them through require(esm), but jest's module
  // system does not, so swc compiles those packages to CommonJS for the tests (cached after the first run).
  transform: { '^.+\\.(ts|js|mjs)$': ['@swc/jest', { ...swcrc, swcrc: false }] },
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|file-type|strtok3|token-types|@tokenizer|uint8array-extras|load-esm)/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
};

/** For projects whose specs talk to the real PostgreSQL and Redis: one database template per run. */
const services = {
  globalSetup: path.join(__dirname, 'libs/testing/src/global-setup.ts'),
  globalTeardown: path.join(__dirname, 'libs/testing/src/global-teardown.ts'),
  testTimeout: 30_000,
};

module.exports = { base, services };
