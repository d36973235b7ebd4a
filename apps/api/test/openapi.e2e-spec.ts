import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ApiTestApp, startApiTestApp } from './api-test-app';

const root = join(__dirname, '..', '..', '..');
/** Where the document is written: .redocly.lint-ignore.yaml (repository root) names this path. */
const OPENAPI_FILE = join(root, 'dist', 'openapi.json');
const REDOCLY = join(root, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');

interface LintReport {
  totals: { errors: number; warnings: number; ignored: number };
  problems: Array<{ ruleId: string; severity: string; message: string; location: Array<{ pointer: string }> }>;
}

describe('the OpenAPI document', () => {
  let api: ApiTestApp;

  beforeAll(async () => {
    api = await startApiTestApp();
  });

  afterAll(() => api.close());

  it('passes redocly lint (recommended rules) with no error and no warning', async () => {
    const { body } = await api.http.get('/docs-json').expect(200);
    mkdirSync(join(root, 'dist'), { recursive: true });
    writeFileSync(OPENAPI_FILE, JSON.stringify(body, null, 2));
    const run = spawnSync(process.execPath, [REDOCLY, 'lint', 'dist/openapi.json', '--format=json'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      timeout: 60_000,
    });
    const report = JSON.parse(run.stdout) as LintReport;
    const problems = report.problems.map(
      (problem) => `${problem.severity} ${problem.ruleId} at ${problem.location[0]?.pointer}: ${problem.message}`,
    );
    expect(problems).toEqual([]);
    expect(report.totals).toEqual({ errors: 0, warnings: 0, ignored: 1 });
    expect(run.status).toBe(0);
  });

  it('declares how to call it: a server, a license, and the bearer key on every operation but the public ones', async () => {
    const { body } = await api.http.get('/docs-json').expect(200);
    expect(body.servers).toEqual([{ url: '/', description: expect.any(String) }]);
    expect(body.info.license).toEqual({ name: 'MIT', url: 'https://spdx.org/licenses/MIT.html' });
    expect(body.security).toEqual([{ bearer: [] }]);
    const publicOperations = Object.entries(body.paths as Record<string, Record<string, { security?: unknown[] }>>).flatMap(
      ([path, operations]) =>
        Object.entries(operations)
          .filter(([, operation]) => Array.isArray(operation.security) && operation.security.length === 0)
          .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(publicOperations.sort()).toEqual(['GET /health', 'GET /health/ready', 'GET /metrics']);
  });
});
