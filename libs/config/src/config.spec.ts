import { ConfigError, DEFAULT_DATABASE_URL, loadConfig } from './config';
import { parseDuration, parseDurationList } from './duration';

const OPERATOR_SECRET = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('durations', () => {
  it.each([
    ['250ms', 250],
    ['5s', 5_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['2h', 7_200_000],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['5', '5d', '5w', '-5s', 's', '5 s s', ''])('rejects %p', (text) => expect(parseDuration(text)).toBeNull());

  it('parses days only where a period may be that long', () => {
    expect(parseDuration('30d', { days: true })).toBe(2_592_000_000);
    expect(parseDuration('4s', { days: true })).toBe(4_000);
    expect(parseDuration('30d')).toBeNull();
    expect(parseDurationList('1s,1d')).toBeNull();
  });

  it('parses a list and rejects a list with one bad step', () => {
    expect(parseDurationList('5s, 5m,30m')).toEqual([5_000, 300_000, 1_800_000]);
    expect(parseDurationList('5s,soon')).toBeNull();
    expect(parseDurationList('')).toEqual([]);
  });
});

describe('loadConfig', () => {
  it('applies the contract defaults', () => {
    const { config, warnings } = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      workerPort: 3001,
      databaseUrl: DEFAULT_DATABASE_URL,
      redisUrl: 'redis://127.0.0.1:6379',
      redisClusterNodes: null,
      queuePrefix: '{whk}',
      queueShards: 1,
      adminApiKey: null,
      retryScheduleMs: [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
      deliveryTimeoutMs: 15_000,
      workerConcurrency: 50,
      allowInsecureCallbacks: false,
      partnerRateLimitPerMinute: 600,
      echoRateLimitPerMinute: 30,
      callbackMaxInFlight: 10,
      parkTimeoutMs: 86_400_000,
      deliveryMaxInFlightLimit: 100,
      deliveryRatePerSecondLimit: 1000,
      circuitFailureThreshold: 5,
      circuitOpenMs: 30_000,
      retentionPeriodMs: 30 * 86_400_000,
      retentionSweepIntervalMs: 60_000,
      auditRetentionPeriodMs: 400 * 86_400_000,
    });
    expect(config.secretsEncryptionKey).toHaveLength(32);
    expect(warnings.join('\n')).toMatch(/SECRETS_ENCRYPTION_KEY is not set/);
  });

  it('reads every variable', () => {
    const key = Buffer.alloc(32, 7);
    const { config, warnings } = loadConfig({
      PORT: '8080',
      WORKER_PORT: '0',
      DATABASE_URL: 'postgresql://u:p@db:5432/x',
      REDIS_URL: 'rediss://cache:6380',
      QUEUE_PREFIX: 'staging',
      ADMIN_API_KEY: 'a-long-operator-key-123',
      SECRETS_ENCRYPTION_KEY: key.toString('base64'),
      RETRY_SCHEDULE: '1s,250ms',
      DELIVERY_TIMEOUT_MS: '2000',
      WORKER_CONCURRENCY: '8',
      ALLOW_INSECURE_CALLBACKS: 'true',
      RETENTION_PERIOD: '12h',
      RETENTION_SWEEP_INTERVAL_MS: '5000',
      AUDIT_RETENTION_PERIOD: '90d',
    });
    expect(config).toMatchObject({
      port: 8080,
      workerPort: 0,
      queuePrefix: '{staging}',
      adminApiKey: 'a-long-operator-key-123',
      retryScheduleMs: [1_000, 250],
      deliveryTimeoutMs: 2_000,
      workerConcurrency: 8,
      allowInsecureCallbacks: true,
      retentionPeriodMs: 43_200_000,
      retentionSweepIntervalMs: 5_000,
      auditRetentionPeriodMs: 90 * 86_400_000,
    });
    expect(config.secretsEncryptionKey.equals(key)).toBe(true);
    expect(warnings.join('\n')).toMatch(/ALLOW_INSECURE_CALLBACKS=true/);
  });

  it('keeps the delivery lock at 60 s by default and takes a shorter one that still outlasts an attempt', () => {
    expect(loadConfig({}).config.deliveryLockMs).toBe(60_000);
    expect(loadConfig({ DELIVERY_TIMEOUT_MS: '3000', DELIVERY_LOCK_MS: '5000' }).config.deliveryLockMs).toBe(5_000);
  });

  it('reads previous encryption keys for a key rotation', () => {
    const [a, b] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
    const { config } = loadConfig({ SECRETS_ENCRYPTION_KEY_PREVIOUS: `${a.toString('base64')}, ${b.toString('hex')}` });
    expect(config.previousSecretsEncryptionKeys.map((key) => key.toString('hex'))).toEqual([a.toString('hex'), b.toString('hex')]);
    expect(configError({ SECRETS_ENCRYPTION_KEY_PREVIOUS: 'short' }).variable).toBe('SECRETS_ENCRYPTION_KEY_PREVIOUS');
  });

  it('reads Redis Cluster seed nodes and the shard count', () => {
    const { config } = loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-2.internal:7001,[::1]:7002', QUEUE_SHARDS: '3' });
    expect(config.redisClusterNodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-2.internal', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(config.queueShards).toBe(3);
  });

  it('accepts a hex encryption key and keeps a braced prefix as is', () => {
    const { config } = loadConfig({ SECRETS_ENCRYPTION_KEY: 'ab'.repeat(32), QUEUE_PREFIX: '{whk}' });
    expect(config.secretsEncryptionKey.equals(Buffer.alloc(32, 0xab))).toBe(true);
    expect(config.queuePrefix).toBe('{whk}');
  });

  it('reads the egress proxy and the client certificate files (none by default)', () => {
    expect(loadConfig({}).config).toMatchObject({ webhookProxyUrl: null, webhookClientCertificate: null });
    const { config } = loadConfig({
      WEBHOOK_PROXY_URL: 'http://egress:p%40ss@proxy.internal:3128',
      WEBHOOK_CLIENT_CERT: '/etc/callbacks/client.pem',
      WEBHOOK_CLIENT_KEY: '/etc/callbacks/client.key',
    });
    expect(config.webhookProxyUrl).toBe('http://egress:p%40ss@proxy.internal:3128');
    expect(config.webhookClientCertificate).toEqual({ certPath: '/etc/callbacks/client.pem', keyPath: '/etc/callbacks/client.key' });
  });

  it('reads the callback lifecycle settings', () => {
    expect(loadConfig({}).config).toMatchObject({
      callbackDisableAfterMs: 5 * 86_400_000,
      operatorWebhook: null,
      operatorExhaustedCoalesceMs: 3_600_000,
    });
    const { config } = loadConfig({
      CALLBACK_DISABLE_AFTER: '3s',
      OPERATOR_WEBHOOK_URL: 'http://127.0.0.1:9999/ops',
      OPERATOR_WEBHOOK_SECRET: OPERATOR_SECRET,
      OPERATOR_EXHAUSTED_COALESCE: '2s',
      ALLOW_INSECURE_CALLBACKS: 'true',
    });
    expect(config).toMatchObject({
      callbackDisableAfterMs: 3_000,
      operatorWebhook: { url: 'http://127.0.0.1:9999/ops', secret: OPERATOR_SECRET },
      operatorExhaustedCoalesceMs: 2_000,
    });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL'],
    [{ QUEUE_PREFIX: 'a:b' }, 'QUEUE_PREFIX'],
    [{ RETRY_SCHEDULE: '5s,later' }, 'RETRY_SCHEDULE'],
    [{ DELIVERY_TIMEOUT_MS: '60000' }, 'DELIVERY_TIMEOUT_MS'],
    [{ WORKER_CONCURRENCY: '0' }, 'WORKER_CONCURRENCY'],
    [{ ALLOW_INSECURE_CALLBACKS: 'yes' }, 'ALLOW_INSECURE_CALLBACKS'],
    [{ SECRETS_ENCRYPTION_KEY: 'too-short' }, 'SECRETS_ENCRYPTION_KEY'],
    [{ NODE_ENV: 'production' }, 'SECRETS_ENCRYPTION_KEY'],
    [{ NODE_ENV: 'production', SECRETS_ENCRYPTION_KEY: 'ab'.repeat(32), ALLOW_INSECURE_CALLBACKS: 'true' }, 'ALLOW_INSECURE_CALLBACKS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ CALLBACK_MAX_IN_FLIGHT: '0' }, 'CALLBACK_MAX_IN_FLIGHT'],
    [{ CIRCUIT_OPEN_MS: 'soon' }, 'CIRCUIT_OPEN_MS'],
    [{ REDIS_CLUSTER_NODES: '10.0.0.1' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: 'redis://10.0.0.1:7000' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: '10.0.0.1:7000,,10.0.0.2:7000' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: '10.0.0.1:70000' }, 'REDIS_CLUSTER_NODES'],
    [{ QUEUE_SHARDS: '0' }, 'QUEUE_SHARDS'],
    [{ QUEUE_SHARDS: '65' }, 'QUEUE_SHARDS'],
    [{ RETENTION_PERIOD: '30' }, 'RETENTION_PERIOD'],
    [{ RETENTION_PERIOD: '10ms' }, 'RETENTION_PERIOD'],
    [{ AUDIT_RETENTION_PERIOD: '400' }, 'AUDIT_RETENTION_PERIOD'],
    [{ AUDIT_RETENTION_PERIOD: '10ms' }, 'AUDIT_RETENTION_PERIOD'],
    [{ RETENTION_SWEEP_INTERVAL_MS: '1m' }, 'RETENTION_SWEEP_INTERVAL_MS'],
    [{ PUBLIC_BASE_URL: 'ftp://portal.example.com' }, 'PUBLIC_BASE_URL'],
    [{ TRUST_PROXY: 'true' }, 'TRUST_PROXY'],
    [{ TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY'],
    [{ TRUST_PROXY: ' , ' }, 'TRUST_PROXY'],
    [{ AUTH_FAILURE_LIMIT_PER_MINUTE: '0' }, 'AUTH_FAILURE_LIMIT_PER_MINUTE'],
    [{ CALLBACK_DISABLE_AFTER: '5 days' }, 'CALLBACK_DISABLE_AFTER'],
    [{ CALLBACK_DISABLE_AFTER: '10ms' }, 'CALLBACK_DISABLE_AFTER'],
    [{ OPERATOR_WEBHOOK_URL: 'https://ops.example.com/hooks' }, 'OPERATOR_WEBHOOK_SECRET'],
    [{ OPERATOR_WEBHOOK_SECRET: OPERATOR_SECRET }, 'OPERATOR_WEBHOOK_URL'],
    [{ OPERATOR_WEBHOOK_URL: 'https://ops.example.com/hooks', OPERATOR_WEBHOOK_SECRET: 'hunter2' }, 'OPERATOR_WEBHOOK_SECRET'],
    [{ OPERATOR_WEBHOOK_URL: 'http://ops.example.com/hooks', OPERATOR_WEBHOOK_SECRET: OPERATOR_SECRET }, 'OPERATOR_WEBHOOK_URL'],
    [{ OPERATOR_EXHAUSTED_COALESCE: 'hourly' }, 'OPERATOR_EXHAUSTED_COALESCE'],
    [{ WEBHOOK_PROXY_URL: 'https://proxy.internal:3128' }, 'WEBHOOK_PROXY_URL'],
    [{ WEBHOOK_PROXY_URL: 'proxy.internal:3128' }, 'WEBHOOK_PROXY_URL'],
    [{ WEBHOOK_PROXY_URL: 'http://proxy.internal:3128/path' }, 'WEBHOOK_PROXY_URL'],
    [{ WEBHOOK_CLIENT_CERT: '/etc/callbacks/client.pem' }, 'WEBHOOK_CLIENT_KEY'],
    [{ WEBHOOK_CLIENT_KEY: '/etc/callbacks/client.key' }, 'WEBHOOK_CLIENT_CERT'],
    [{ DELIVERY_LOCK_MS: 'a minute' }, 'DELIVERY_LOCK_MS'],
    // An attempt must end inside the lock: 15 s of timeout (the default) need 17 s of lock.
    [{ DELIVERY_LOCK_MS: '16999' }, 'DELIVERY_LOCK_MS'],
    [{ DELIVERY_TIMEOUT_MS: '50000', DELIVERY_LOCK_MS: '51000' }, 'DELIVERY_LOCK_MS'],
  ])('rejects %p naming %s', (env, variable) => {
    const error = configError(env as Record<string, string>);
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
  });
});
