import { isIP } from 'node:net';
import { parseDuration, parseDurationList } from './duration';
import { OTLP_ENDPOINT_VARIABLES, tracingConfig } from './tracing';

export type Environment = Record<string, string | undefined>;

export interface AppConfig {
  nodeEnv: string;
  port: number;
  workerPort: number;
  databaseUrl: string;
  redisUrl: string;
  /**
   * REDIS_CLUSTER_NODES: the seed nodes of a Redis Cluster, or null for one Redis at REDIS_URL.
   * In cluster mode REDIS_URL still gives the user, password and TLS (rediss:) of every node.
   */
  redisClusterNodes: RedisNode[] | null;
  /** Redis key prefix, always a hash tag ("{whk}") so a queue's keys share one Redis Cluster slot. */
  queuePrefix: string;
  /** Delivery queues, each under its own hash tag; callbacks are spread over them (see @callbacks/queue). */
  queueShards: number;
  adminApiKey: string | null;
  secretsEncryptionKey: Buffer;
  /** Older keys, accepted for reading while `npm run secrets:reencrypt` moves rows to the current one. */
  previousSecretsEncryptionKeys: Buffer[];
  retryScheduleMs: number[];
  deliveryTimeoutMs: number;
  workerConcurrency: number;
  allowInsecureCallbacks: boolean;
  reconcileIntervalMs: number;
  logLevel: string;
  /** Requests per minute per partner (all its keys and portal sessions) on partner routes (the operator key is not limited). */
  partnerRateLimitPerMinute: number;
  /** Test echoes, redeliveries and recoveries per minute per partner. */
  echoRateLimitPerMinute: number;
  /** Refused credentials (API keys, session cookies, sign-in links) per minute per client address before it gets 429. */
  authFailureLimitPerMinute: number;
  /**
   * TRUST_PROXY: the proxies whose X-Forwarded-For names the client address (IP addresses, CIDR
   * ranges, or `loopback`, `linklocal`, `uniquelocal`); null: the connection's own address.
   */
  trustProxy: string[] | null;
  /** Deliveries in flight to one callback across all workers, for a callback whose delivery policy sets no maxInFlight; more wait, parked. */
  callbackMaxInFlight: number;
  /**
   * How long a parked delivery sleeps before it looks for a slot by itself (with ±10 % jitter): a
   * last resort; slots are handed over as deliveries end, and the reconciler finds lost wakes.
   */
  parkTimeoutMs: number;
  /** DELIVERY_MAX_IN_FLIGHT_LIMIT: the largest delivery.maxInFlight a partner may choose (1 to 100). */
  deliveryMaxInFlightLimit: number;
  /** DELIVERY_RATE_PER_SECOND_LIMIT: the largest delivery.ratePerSecond a partner may choose (1 to 1000). */
  deliveryRatePerSecondLimit: number;
  /** Consecutive failures that open a callback's circuit. */
  circuitFailureThreshold: number;
  /** How long an open circuit holds deliveries back before one probe is let through. */
  circuitOpenMs: number;
  /** Delivered, failed and skipped notifications unchanged for longer than this are deleted (pending never). */
  retentionPeriodMs: number;
  /** How often the retention sweep runs (in one worker at a time). */
  retentionSweepIntervalMs: number;
  /** Audit trail entries older than this are deleted by the retention sweep. */
  auditRetentionPeriodMs: number;
  /** OpenTelemetry tracing is on (an OTLP endpoint is set); the SDK itself reads the OTEL_* variables. */
  tracingEnabled: boolean;
  /** WEBHOOK_TRACEPARENT: webhooks carry a W3C traceparent header (opt-in: it tells partners about our traces). */
  webhookTraceparent: boolean;
  /** The API's address as browsers reach it (portal sign-in links); null: taken from each request's Host. */
  publicBaseUrl: string | null;
  /** A callback whose attempts have all failed for this long (a span, not a count) is disabled. */
  callbackDisableAfterMs: number;
  /** Where operator events go, and the secret that signs them; null: no operator events. */
  operatorWebhook: OperatorWebhookConfig | null;
  /** notification.exhausted events of one callback are coalesced into at most one per this span. */
  operatorExhaustedCoalesceMs: number;
  /** WEBHOOK_PROXY_URL: every outbound request (deliveries, operator events, token requests) tunnels through this HTTP CONNECT proxy; null: direct. */
  webhookProxyUrl: string | null;
  /** WEBHOOK_CLIENT_CERT and WEBHOOK_CLIENT_KEY: PEM files of the client certificate outbound TLS presents (the worker reads and checks them); null: none. */
  webhookClientCertificate: ClientCertificatePaths | null;
  /**
   * DELIVERY_LOCK_MS: how long a delivery job's lock lasts without renewal; a worker that died (or
   * lost Redis) with deliveries in flight has them taken by another worker after about this long.
   */
  deliveryLockMs: number;
  /** INTAKE_QUEUE_MAX: notifications the API holds at once between receiving and committing them (waiting to commit, or committing); more: 503. */
  intakeQueueMax: number;
  /** INTAKE_QUEUE_MAX_BYTES: their payload bytes at most; more: 503. */
  intakeQueueMaxBytes: number;
  /** INTAKE_TIMEOUT_MS: how long an intake request waits for its commit before it is answered 503 (and what it wrote is abandoned). */
  intakeTimeoutMs: number;
  /** DATABASE_STATEMENT_TIMEOUT_MS: PostgreSQL's statement_timeout for the apps' pools, and how long one waits for a pooled connection. */
  databaseStatementTimeoutMs: number;
}

export interface ClientCertificatePaths {
  certPath: string;
  keyPath: string;
}

export interface OperatorWebhookConfig {
  url: string;
  /** whsec_… (Standard Webhooks). */
  secret: string;
}

export interface RedisNode {
  host: string;
  port: number;
}

/** Warnings that are not fatal but must be shown once at start. */
export interface LoadedConfig {
  config: AppConfig;
  warnings: string[];
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_DATABASE_URL = 'postgres://postgres:postgres@127.0.0.1:5432/webhooks';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_RETRY_SCHEDULE = '5s,5m,30m,2h,5h,10h,10h';
export const DEFAULT_CALLBACK_DISABLE_AFTER = '5d';
export const DEFAULT_OPERATOR_EXHAUSTED_COALESCE = '1h';
/** The BullMQ job lock's default (DELIVERY_LOCK_MS, see @callbacks/queue); one attempt must end well inside it. */
export const MAX_DELIVERY_TIMEOUT_MS = 50_000;
export const DEFAULT_DELIVERY_LOCK_MS = 60_000;
/** What DELIVERY_LOCK_MS must leave beyond DELIVERY_TIMEOUT_MS: the time to record the attempt. */
export const DELIVERY_LOCK_MARGIN_MS = 2_000;
/** More shards than a cluster has masters only adds queues to poll; 64 leaves room to grow. */
export const MAX_QUEUE_SHARDS = 64;
// Development only: anyone can read this key, so production refuses to start with it.
const DEV_SECRETS_KEY = Buffer.from('partner-callbacks-dev-only-key!!', 'utf8');

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function read(env: Environment, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** TRUST_PROXY: comma-separated addresses, CIDR ranges or the names Express knows; each checked here. */
function trustProxy(env: Environment): string[] | null {
  const raw = read(env, 'TRUST_PROXY');
  if (raw === undefined) return null;
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const [address, bits, ...rest] = entry.split('/');
    const version = isIP(address);
    const validBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (version === 6 ? 128 : 32));
    if (!PROXY_NAMES.includes(entry) && (version === 0 || !validBits || rest.length > 0))
      throw new ConfigError('TRUST_PROXY', `"${entry}" is not an IP address, a CIDR range or one of ${PROXY_NAMES.join(', ')}`);
  }
  if (entries.length === 0) throw new ConfigError('TRUST_PROXY', 'names no proxy; leave it unset to trust none');
  return entries;
}

function integer(env: Environment, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function duration(env: Environment, name: string, fallback: string, minMs: number): number {
  const raw = read(env, name) ?? fallback;
  const ms = parseDuration(raw, { days: true });
  if (ms === null) throw new ConfigError(name, `expected a duration such as "${fallback}" (units ms, s, m, h, d), got "${raw}"`);
  if (ms < minMs) throw new ConfigError(name, `must be at least ${minMs} ms, got ${ms} ms`);
  return ms;
}

function boolean(env: Environment, name: string, fallback: boolean): boolean {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new ConfigError(name, `expected "true" or "false", got "${raw}"`);
}

function url(env: Environment, name: string, fallback: string, protocols: string[]): string {
  return readUrl(name, read(env, name) ?? fallback, protocols);
}

function readUrl(name: string, raw: string, protocols: string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return raw;
}

/** OPERATOR_WEBHOOK_URL and OPERATOR_WEBHOOK_SECRET come together; the URL's host is checked again when sending. */
function operatorWebhook(env: Environment, allowInsecure: boolean): OperatorWebhookConfig | null {
  const rawUrl = read(env, 'OPERATOR_WEBHOOK_URL');
  const secret = read(env, 'OPERATOR_WEBHOOK_SECRET');
  if (rawUrl === undefined) {
    if (secret !== undefined) throw new ConfigError('OPERATOR_WEBHOOK_URL', 'is required when OPERATOR_WEBHOOK_SECRET is set');
    return null;
  }
  const url = allowInsecure
    ? readUrl('OPERATOR_WEBHOOK_URL', rawUrl, ['https:', 'http:'])
    : readUrl('OPERATOR_WEBHOOK_URL', rawUrl, ['https:']);
  if (secret === undefined) throw new ConfigError('OPERATOR_WEBHOOK_SECRET', 'is required when OPERATOR_WEBHOOK_URL is set');
  const key = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret);
  if (!key || Buffer.from(key[1], 'base64').length < 24) {
    throw new ConfigError(
      'OPERATOR_WEBHOOK_SECRET',
      'must be "whsec_" followed by at least 24 bytes in base64 (try: echo whsec_$(openssl rand -base64 32))',
    );
  }
  return { url, secret };
}

/** http://[user:password@]host:port: an HTTP proxy that answers CONNECT (its credentials go in Proxy-Authorization). */
function webhookProxyUrl(env: Environment): string | null {
  const raw = read(env, 'WEBHOOK_PROXY_URL');
  if (raw === undefined) return null;
  const parsed = new URL(readUrl('WEBHOOK_PROXY_URL', raw, ['http:']));
  if ((parsed.pathname !== '/' && parsed.pathname !== '') || parsed.search || parsed.hash)
    throw new ConfigError('WEBHOOK_PROXY_URL', 'must be http://[user:password@]host:port, without a path or query');
  return raw;
}

/** Both files or neither; the worker reads them at start and checks that they make a pair. */
function webhookClientCertificate(env: Environment): ClientCertificatePaths | null {
  const certPath = read(env, 'WEBHOOK_CLIENT_CERT');
  const keyPath = read(env, 'WEBHOOK_CLIENT_KEY');
  if (certPath === undefined && keyPath === undefined) return null;
  if (certPath === undefined) throw new ConfigError('WEBHOOK_CLIENT_CERT', 'is required when WEBHOOK_CLIENT_KEY is set');
  if (keyPath === undefined) throw new ConfigError('WEBHOOK_CLIENT_KEY', 'is required when WEBHOOK_CLIENT_CERT is set');
  return { certPath, keyPath };
}

/** A 32-byte AES key given as 64 hex characters or as base64. */
export function parseEncryptionKey(name: string, raw: string): Buffer {
  if (/^[0-9a-fA-F]{64}$/.test(raw)) return Buffer.from(raw, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(raw)) return Buffer.from(raw, 'base64');
  throw new ConfigError(name, 'must be 32 bytes, as 64 hex characters or base64 (try: openssl rand -base64 32)');
}

function queuePrefix(env: Environment): string {
  const raw = read(env, 'QUEUE_PREFIX') ?? 'whk';
  const bare = raw.replace(/^\{(.*)\}$/, '$1');
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(bare)) {
    throw new ConfigError('QUEUE_PREFIX', 'use 1 to 64 letters, digits, "_", "." or "-"');
  }
  return `{${bare}}`;
}

/** "host:port,host:port" (IPv6 hosts in brackets: "[::1]:7000"). */
function redisClusterNodes(env: Environment): RedisNode[] | null {
  const raw = read(env, 'REDIS_CLUSTER_NODES');
  if (raw === undefined) return null;
  return raw.split(',').map((entry) => {
    const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(entry.trim());
    const port = Number(match?.[3]);
    if (!match || port < 1 || port > 65535) {
      throw new ConfigError(
        'REDIS_CLUSTER_NODES',
        `expected host:port entries separated by commas (e.g. "10.0.0.1:6379,10.0.0.2:6379"), got "${entry.trim()}"`,
      );
    }
    return { host: match[1] ?? match[2], port };
  });
}

export function loadConfig(env: Environment): LoadedConfig {
  const warnings: string[] = [];
  const nodeEnv = read(env, 'NODE_ENV') ?? 'development';
  const production = nodeEnv === 'production';

  const retrySchedule = read(env, 'RETRY_SCHEDULE') ?? DEFAULT_RETRY_SCHEDULE;
  const retryScheduleMs = parseDurationList(retrySchedule);
  if (retryScheduleMs === null) {
    throw new ConfigError('RETRY_SCHEDULE', `expected comma-separated durations such as "${DEFAULT_RETRY_SCHEDULE}" (units ms, s, m, h)`);
  }
  if (retryScheduleMs.length > 50) throw new ConfigError('RETRY_SCHEDULE', 'at most 50 retries');

  const rawKey = read(env, 'SECRETS_ENCRYPTION_KEY');
  let secretsEncryptionKey: Buffer = DEV_SECRETS_KEY;
  if (rawKey) {
    secretsEncryptionKey = parseEncryptionKey('SECRETS_ENCRYPTION_KEY', rawKey);
  } else if (production) {
    throw new ConfigError('SECRETS_ENCRYPTION_KEY', 'is required when NODE_ENV=production');
  } else {
    warnings.push('SECRETS_ENCRYPTION_KEY is not set: signing secrets are encrypted with a public development key');
  }

  const previousSecretsEncryptionKeys = (read(env, 'SECRETS_ENCRYPTION_KEY_PREVIOUS') ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter(Boolean)
    .map((key) => parseEncryptionKey('SECRETS_ENCRYPTION_KEY_PREVIOUS', key));

  const adminApiKey = read(env, 'ADMIN_API_KEY') ?? null;
  if (adminApiKey === null) warnings.push('ADMIN_API_KEY is not set: admin routes, platform events and Bull Board answer 401');
  else if (adminApiKey.length < 16) warnings.push('ADMIN_API_KEY is shorter than 16 characters');

  const allowInsecureCallbacks = boolean(env, 'ALLOW_INSECURE_CALLBACKS', false);
  if (allowInsecureCallbacks) {
    if (production) throw new ConfigError('ALLOW_INSECURE_CALLBACKS', 'must not be true when NODE_ENV=production');
    warnings.push('ALLOW_INSECURE_CALLBACKS=true: http:// and private or loopback callback URLs are allowed (development and tests only)');
  }

  for (const name of OTLP_ENDPOINT_VARIABLES) if (read(env, name) !== undefined) url(env, name, '', ['http:', 'https:']);
  const tracingEnabled = tracingConfig(env, '').enabled;
  const webhookTraceparent = boolean(env, 'WEBHOOK_TRACEPARENT', false);
  if (webhookTraceparent && !tracingEnabled)
    warnings.push('WEBHOOK_TRACEPARENT=true has no effect without an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT): tracing is off');

  const logLevel = read(env, 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);

  const config: AppConfig = {
    nodeEnv,
    port: integer(env, 'PORT', 3000, 0, 65535),
    workerPort: integer(env, 'WORKER_PORT', 3001, 0, 65535),
    databaseUrl: url(env, 'DATABASE_URL', DEFAULT_DATABASE_URL, ['postgres:', 'postgresql:']),
    redisUrl: url(env, 'REDIS_URL', DEFAULT_REDIS_URL, ['redis:', 'rediss:']),
    redisClusterNodes: redisClusterNodes(env),
    queuePrefix: queuePrefix(env),
    queueShards: integer(env, 'QUEUE_SHARDS', 1, 1, MAX_QUEUE_SHARDS),
    adminApiKey,
    secretsEncryptionKey,
    previousSecretsEncryptionKeys,
    retryScheduleMs,
    deliveryTimeoutMs: integer(env, 'DELIVERY_TIMEOUT_MS', 15_000, 100, MAX_DELIVERY_TIMEOUT_MS),
    workerConcurrency: integer(env, 'WORKER_CONCURRENCY', 50, 1, 1000),
    allowInsecureCallbacks,
    reconcileIntervalMs: integer(env, 'RECONCILE_INTERVAL_MS', 15_000, 100, 3_600_000),
    logLevel,
    partnerRateLimitPerMinute: integer(env, 'PARTNER_RATE_LIMIT_PER_MINUTE', 600, 1, 1_000_000),
    echoRateLimitPerMinute: integer(env, 'ECHO_RATE_LIMIT_PER_MINUTE', 30, 1, 1_000_000),
    authFailureLimitPerMinute: integer(env, 'AUTH_FAILURE_LIMIT_PER_MINUTE', 60, 1, 1_000_000),
    trustProxy: trustProxy(env),
    callbackMaxInFlight: integer(env, 'CALLBACK_MAX_IN_FLIGHT', 10, 1, 10_000),
    parkTimeoutMs: integer(env, 'PARK_TIMEOUT_MS', 86_400_000, 60_000, 30 * 86_400_000),
    deliveryMaxInFlightLimit: integer(env, 'DELIVERY_MAX_IN_FLIGHT_LIMIT', 100, 1, 100),
    deliveryRatePerSecondLimit: integer(env, 'DELIVERY_RATE_PER_SECOND_LIMIT', 1000, 1, 1000),
    circuitFailureThreshold: integer(env, 'CIRCUIT_FAILURE_THRESHOLD', 5, 1, 1_000),
    circuitOpenMs: integer(env, 'CIRCUIT_OPEN_MS', 30_000, 100, 3_600_000),
    retentionPeriodMs: duration(env, 'RETENTION_PERIOD', '30d', 1_000),
    retentionSweepIntervalMs: integer(env, 'RETENTION_SWEEP_INTERVAL_MS', 60_000, 100, 86_400_000),
    auditRetentionPeriodMs: duration(env, 'AUDIT_RETENTION_PERIOD', '400d', 1_000),
    tracingEnabled,
    webhookTraceparent,
    publicBaseUrl:
      read(env, 'PUBLIC_BASE_URL') === undefined ? null : url(env, 'PUBLIC_BASE_URL', '', ['http:', 'https:']).replace(/\/+$/, ''),
    callbackDisableAfterMs: duration(env, 'CALLBACK_DISABLE_AFTER', DEFAULT_CALLBACK_DISABLE_AFTER, 1_000),
    operatorWebhook: operatorWebhook(env, allowInsecureCallbacks),
    operatorExhaustedCoalesceMs: duration(env, 'OPERATOR_EXHAUSTED_COALESCE', DEFAULT_OPERATOR_EXHAUSTED_COALESCE, 1_000),
    webhookProxyUrl: webhookProxyUrl(env),
    webhookClientCertificate: webhookClientCertificate(env),
    deliveryLockMs: integer(env, 'DELIVERY_LOCK_MS', DEFAULT_DELIVERY_LOCK_MS, 1_000, 3_600_000),
    intakeQueueMax: integer(env, 'INTAKE_QUEUE_MAX', 10_000, 1, 1_000_000),
    intakeQueueMaxBytes: integer(env, 'INTAKE_QUEUE_MAX_BYTES', 64 * 1024 * 1024, 256 * 1024, 4 * 1024 * 1024 * 1024),
    intakeTimeoutMs: integer(env, 'INTAKE_TIMEOUT_MS', 5_000, 100, 60_000),
    databaseStatementTimeoutMs: integer(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 30_000, 100, 3_600_000),
  };
  // One attempt must end inside the lock, even if no renewal gets through, or two workers could send it at once.
  if (config.deliveryLockMs < config.deliveryTimeoutMs + DELIVERY_LOCK_MARGIN_MS)
    throw new ConfigError(
      'DELIVERY_LOCK_MS',
      `must be at least DELIVERY_TIMEOUT_MS + ${DELIVERY_LOCK_MARGIN_MS} ms (${config.deliveryTimeoutMs + DELIVERY_LOCK_MARGIN_MS}), got ${config.deliveryLockMs}`,
    );
  return { config, warnings };
}

/** The operator's defaults and caps for callbacks' delivery policies (see resolveDeliveryPolicy in @callbacks/contracts). */
export function deliveryPolicyBounds(config: AppConfig): {
  defaultMaxInFlight: number;
  maxInFlightLimit: number;
  ratePerSecondLimit: number;
  timeoutMs: number;
} {
  return {
    defaultMaxInFlight: config.callbackMaxInFlight,
    maxInFlightLimit: config.deliveryMaxInFlightLimit,
    ratePerSecondLimit: config.deliveryRatePerSecondLimit,
    timeoutMs: config.deliveryTimeoutMs,
  };
}
