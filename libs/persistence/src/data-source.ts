import { DataSource, type DataSourceOptions } from 'typeorm';
import { ApiKeyEntity } from './entities/api-key.entity';
import { AuditEntryEntity } from './entities/audit-entry.entity';
import { CallbackEntity } from './entities/callback.entity';
import { DeliveryAttemptEntity } from './entities/delivery-attempt.entity';
import { IdempotencyKeyEntity } from './entities/idempotency-key.entity';
import { NotificationEntity } from './entities/notification.entity';
import { OperatorEventEntity } from './entities/operator-event.entity';
import { PartnerEntity } from './entities/partner.entity';
import { PortalLinkEntity } from './entities/portal-link.entity';
import { PortalSessionEntity } from './entities/portal-session.entity';
import { InitialSchema1764180000000 } from './migrations/1764180000000-InitialSchema';
import { DeliveryLog1764190000000 } from './migrations/1764190000000-DeliveryLog';
import { CaseColumnsAndRequestHash1764400000000 } from './migrations/1764400000000-CaseColumnsAndRequestHash';
import { DataLifecycleIndexes1764410000000 } from './migrations/1764410000000-DataLifecycleIndexes';
import { EncryptedCallbackHeaders1764430000000 } from './migrations/1764430000000-EncryptedCallbackHeaders';
import { ParkedAndFailedJobAttempts1764440000000 } from './migrations/1764440000000-ParkedAndFailedJobAttempts';
import { CallbackLifecycle1764500000000 } from './migrations/1764500000000-CallbackLifecycle';
import { PortalSessions1764700000000 } from './migrations/1764700000000-PortalSessions';
import { PortalSessionCredentials1765100000000 } from './migrations/1765100000000-PortalSessionCredentials';
import { ApiKeyMacFormat1765100000001 } from './migrations/1765100000001-ApiKeyMacFormat';
import { AuditEntries1765200000000 } from './migrations/1765200000000-AuditEntries';
import { OverdueIndexWithoutParked1765350000000 } from './migrations/1765350000000-OverdueIndexWithoutParked';
import { CallbackTransport1765400000000 } from './migrations/1765400000000-CallbackTransport';
import { CallbackDisabledGone1765450000000 } from './migrations/1765450000000-CallbackDisabledGone';
import { DeliveryPolicy1765500000000 } from './migrations/1765500000000-DeliveryPolicy';

export const ENTITIES = [
  PartnerEntity,
  ApiKeyEntity,
  CallbackEntity,
  NotificationEntity,
  DeliveryAttemptEntity,
  IdempotencyKeyEntity,
  OperatorEventEntity,
  PortalLinkEntity,
  PortalSessionEntity,
  AuditEntryEntity,
];
export const MIGRATIONS = [
  InitialSchema1764180000000,
  DeliveryLog1764190000000,
  CaseColumnsAndRequestHash1764400000000,
  DataLifecycleIndexes1764410000000,
  EncryptedCallbackHeaders1764430000000,
  ParkedAndFailedJobAttempts1764440000000,
  CallbackLifecycle1764500000000,
  PortalSessions1764700000000,
  PortalSessionCredentials1765100000000,
  ApiKeyMacFormat1765100000001,
  AuditEntries1765200000000,
  OverdueIndexWithoutParked1765350000000,
  CallbackTransport1765400000000,
  CallbackDisabledGone1765450000000,
  DeliveryPolicy1765500000000,
];

/**
 * Waiting for a pooled connection (or a new one) gives up after this long: the API answers 503
 * rather than queueing requests behind a stalled database.
 */
export const CONNECTION_TIMEOUT_MS = 5_000;
/** The client gives up on a statement this long after PostgreSQL's statement_timeout would have ended it (a stalled network). */
const QUERY_TIMEOUT_MARGIN_MS = 5_000;

/**
 * The timeouts of a pool serving requests: `statement_timeout` ends a statement in PostgreSQL,
 * `query_timeout` gives up on it in the client when the network stalls and PostgreSQL's answer
 * never comes. Not for migrations, which may run long.
 */
export function poolTimeouts(statementTimeoutMs: number): { statement_timeout: number; query_timeout: number } {
  return { statement_timeout: statementTimeoutMs, query_timeout: statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS };
}

/**
 * The one definition of our PostgreSQL connection, used by both apps, the tests and `npm run migrate`.
 * `statementTimeoutMs`: the apps' statement timeout (DATABASE_STATEMENT_TIMEOUT_MS); none for migrations.
 */
export function dataSourceOptions(databaseUrl: string, poolSize = 10, statementTimeoutMs?: number): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    migrationsRun: false,
    poolSize,
    extra: {
      connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
      application_name: 'partner-callbacks',
      ...(statementTimeoutMs === undefined ? {} : poolTimeouts(statementTimeoutMs)),
    },
  };
}

export function createDataSource(databaseUrl: string, poolSize?: number): DataSource {
  return new DataSource(dataSourceOptions(databaseUrl, poolSize));
}
