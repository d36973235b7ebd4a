import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '@callbacks/config';
import { interpolateTree, type Variables } from './support/compose-interpolation';

const root = join(__dirname, '..');
type Service = {
  image?: string;
  build?: string;
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  deploy?: { replicas?: number };
  container_name?: string;
  volumes?: string[];
  stop_grace_period?: string;
};

type ComposeFile = { services: Record<string, Service>; volumes: Record<string, unknown> };
const readCompose = (file: string) => parse(readFileSync(join(root, file), 'utf8'), { merge: true }) as ComposeFile;
const KEYS = { ADMIN_API_KEY: 'a'.repeat(32), SECRETS_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') };

/** The file as `docker compose config` would see it with these variables (shell and .env): every value interpolated. */
const resolved = (file: ComposeFile, variables: Variables) => interpolateTree(file, variables);

describe('docker-compose.yml (no Docker engine here: the file, interpolated as the Compose Specification says)', () => {
  const compose = readCompose('docker-compose.yml');
  const { services } = compose;

  it('runs redis, postgres, a migrate step, the api, scalable workers and a demo receiver', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'migrate', 'postgres', 'receiver', 'redis', 'worker']);
  });

  it('configures Redis for BullMQ: AOF every second, noeviction, a volume and a healthcheck', () => {
    const command = services.redis.command!.join(' ');
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--appendfsync everysec/);
    expect(command).toMatch(/--maxmemory-policy noeviction/);
    expect(services.redis.volumes).toEqual(['redis-data:/data']);
    expect(services.redis.healthcheck?.test).toContain('ping');
  });

  it('keeps PostgreSQL on a volume with the database the default DATABASE_URL names', () => {
    expect(services.postgres.volumes).toEqual(['postgres-data:/var/lib/postgresql/data']);
    expect(services.postgres.environment).toMatchObject({ POSTGRES_DB: 'webhooks', POSTGRES_PASSWORD: 'postgres' });
    expect(Object.keys(compose.volumes).sort()).toEqual(['postgres-data', 'redis-data']);
  });

  it('migrates before the api and workers start, once the databases are healthy', () => {
    expect(services.migrate.command).toEqual(['node', 'dist/apps/api/apps/api/src/migrate.js']);
    expect(services.migrate.depends_on?.postgres.condition).toBe('service_healthy');
    for (const name of ['api', 'worker']) {
      expect(services[name].depends_on).toMatchObject({
        migrate: { condition: 'service_completed_successfully' },
        redis: { condition: 'service_healthy' },
      });
    }
  });

  it('builds one image for every app and points each at the compose services', () => {
    for (const name of ['migrate', 'api', 'worker', 'receiver'])
      expect(services[name]).toMatchObject({ build: '.', image: 'partner-callbacks:local' });
    for (const name of ['migrate', 'api', 'worker']) {
      expect(services[name].environment).toMatchObject({
        DATABASE_URL: 'postgres://postgres:postgres@postgres:5432/webhooks',
        REDIS_URL: 'redis://redis:6379',
      });
    }
    expect(services.api.ports).toEqual(['3000:3000']);
    expect(services.worker.command).toEqual([
      'node',
      '--max-old-space-size=128',
      '--max-semi-space-size=8',
      'dist/apps/worker/apps/worker/src/main.js',
    ]);
  });

  it('gives the api and workers an environment the apps accept, once the keys are set', () => {
    for (const name of ['api', 'worker']) {
      const { config, warnings } = loadConfig(resolved(compose, KEYS).services[name].environment!);
      expect(config.nodeEnv).toBe('production');
      expect(config.adminApiKey).toBe(KEYS.ADMIN_API_KEY);
      expect(config.secretsEncryptionKey).toEqual(Buffer.from(KEYS.SECRETS_ENCRYPTION_KEY, 'base64'));
      expect(warnings).toEqual([]);
    }
  });

  it('refuses to start in production without the operator and encryption keys: no public default', () => {
    for (const name of ['migrate', 'api', 'worker']) {
      const environment = services[name].environment!;
      expect(environment.NODE_ENV).toMatch(/production/);
    }
    // The whole file, as compose reads it: either key unset or empty stops it, with a message saying how to make one.
    expect(() => resolved(compose, {})).toThrow(
      /required variable (ADMIN_API_KEY|SECRETS_ENCRYPTION_KEY) is missing a value: .*openssl rand/,
    );
    expect(() => resolved(compose, { ADMIN_API_KEY: KEYS.ADMIN_API_KEY })).toThrow(/SECRETS_ENCRYPTION_KEY is missing a value/);
    expect(() => resolved(compose, { SECRETS_ENCRYPTION_KEY: KEYS.SECRETS_ENCRYPTION_KEY })).toThrow(/ADMIN_API_KEY is missing a value/);
    expect(() => resolved(compose, { ...KEYS, ADMIN_API_KEY: '' })).toThrow(/ADMIN_API_KEY is missing a value/);
    expect(() => resolved(compose, { ...KEYS, SECRETS_ENCRYPTION_KEY: '' })).toThrow(/SECRETS_ENCRYPTION_KEY is missing a value/);
    expect(resolved(compose, KEYS).services.api.environment).toMatchObject(KEYS);
  });

  it('publishes only the API’s port: PostgreSQL, Redis, worker metrics and the demo receiver stay inside', () => {
    const published = Object.entries(services).filter(([, service]) => service.ports !== undefined);
    expect(published).toEqual([['api', expect.objectContaining({ ports: ['3000:3000'] })]]);
  });

  it('has a services-only file for development on the host, on loopback, configured as the full one', () => {
    const dev = readCompose('docker-compose.dev.yml');
    expect(Object.keys(dev.services).sort()).toEqual(['postgres', 'redis']);
    expect(dev.services.redis.ports).toEqual(['127.0.0.1:6379:6379']);
    expect(dev.services.postgres.ports).toEqual(['127.0.0.1:5432:5432']);
    for (const name of ['redis', 'postgres']) {
      const { ports: _ports, ...rest } = dev.services[name];
      expect(rest).toEqual(services[name]);
    }
    expect(dev.volumes).toEqual(compose.volumes);
  });

  it('lets workers scale: two replicas by default, no host port, no fixed container name, time to drain', () => {
    expect(services.worker.deploy?.replicas).toBe(2);
    expect(services.worker.ports).toBeUndefined();
    expect(services.worker.container_name).toBeUndefined();
    expect(services.worker.environment?.WORKER_PORT).toBe('3001');
    expect(services.worker.stop_grace_period).toBe('30s');
  });

  it('health-checks the api and workers on their readiness endpoints', () => {
    expect(services.api.healthcheck?.test.join(' ')).toContain('3000/health/ready');
    expect(services.worker.healthcheck?.test.join(' ')).toContain('3001/health/ready');
  });

  it('has a multi-stage Dockerfile that runs as a non-root user', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile.match(/^FROM node:24-/gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
  });
});
