import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '@callbacks/config';

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

/** Resolves "${NAME:-default}" the way compose does when NAME is unset. */
function withDefaults(environment: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, String(value).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]));
}

describe('docker-compose.yml (no Docker engine here, so the file itself is checked)', () => {
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
  const { services } = compose;

  it('runs redis, postgres, a migrate step, the api, scalable workers and a demo receiver', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'migrate', 'postgres', 'receiver', 'redis', 'worker']);
  });

  it('configures Redis for BullMQ: AOF every second, noeviction, a volume and a healthcheck', () => {
    const command = services.redis.command!.join(' ');
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--appendfsync everysec/);
    expect(command).toMatch(/--maxmemory-policy noeviction/);
    expect(services.redis.ports).toEqual(['6379:6379']);
    expect(services.redis.volumes).toEqual(['redis-data:/data']);
    expect(services.redis.healthcheck?.test).toContain('ping');
  });

  it('keeps PostgreSQL on a volume with the database the default DATABASE_URL names', () => {
    expect(services.postgres.volumes).toEqual(['postgres-data:/var/lib/postgresql/data']);
    expect(services.postgres.environment).toMatchObject({ POSTGRES_DB: 'webhooks', POSTGRES_PASSWORD: 'postgres' });
    expect(services.postgres.ports).toEqual(['5432:5432']);
    expect(Object.keys(compose.volumes).sort()).toEqual(['postgres-data', 'redis-data']);
  });

  it('migrates before the api and workers start, once the databases are healthy', () => {
    expect(services.migrate.command).toEqual(['node', 'dist/apps/api/apps/api/src/migrate.js']);
    expect(services.migrate.depends_on?.postgres.condition).toBe('service_healthy');
    for (const name of ['api', 'worker']) {
      expect(services[name].depends_on).toMatchObject({ migrate: { condition: 'service_completed_successfully' }, redis: { condition: 'service_healthy' } });
    }
  });

  it('builds one image for every app and points each at the compose services', () => {
    for (const name of ['migrate', 'api', 'worker', 'receiver']) expect(services[name]).toMatchObject({ build: '.', image: 'partner-callbacks:local' });
    for (const name of ['migrate', 'api', 'worker']) {
      expect(services[name].environment).toMatchObject({ DATABASE_URL: 'postgres://postgres:postgres@postgres:5432/webhooks', REDIS_URL: 'redis://redis:6379' });
    }
    expect(services.api.ports).toEqual(['3000:3000']);
    expect(services.worker.command).toEqual(['node', '--max-old-space-size=128', 'dist/apps/worker/apps/worker/src/main.js']);
  });

  it('gives the api and workers an environment the apps accept', () => {
    for (const name of ['api', 'worker']) {
      const { config } = loadConfig(withDefaults(services[name].environment!));
      expect(config.nodeEnv).toBe('production');
      expect(config.adminApiKey).not.toBeNull();
    }
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
