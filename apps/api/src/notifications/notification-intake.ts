import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { type NotificationAcceptedDto, type NotificationStatus, notificationTypeName } from '@callbacks/contracts';
import { Metrics } from '@callbacks/observability';
import { IDEMPOTENCY_WINDOW_HOURS } from '@callbacks/persistence';
import { DomainError } from '../common/domain-error';
import { PartnerLookup } from '../partners/partner-lookup';
import { DeliveryScheduler } from './delivery-scheduler';

/** An Idempotency-Key and who sent it: keys are scoped to their caller. */
export interface IdempotencyKey {
  caller: string;
  key: string;
}

export interface IncomingNotification {
  partnerId: string;
  notificationTypeId: number;
  /** The validated payload, for the fields intake indexes (the case it is about). */
  payload: Record<string, unknown>;
  /** The payload exactly as received: what is stored and sent. */
  payloadText: string;
  test: boolean;
  /** Echo requests need a callback (404 otherwise); platform events are recorded as skipped. */
  requireCallback: boolean;
  idempotency?: IdempotencyKey;
}

/** What an idempotency key is bound to: the same key may only replay the same partner, type and payload. */
function requestHash(incoming: IncomingNotification): string {
  return createHash('sha256').update(`${incoming.partnerId}\n${incoming.notificationTypeId}\n${incoming.payloadText}`).digest('hex');
}

function caseId(payload: Record<string, unknown>, field: 'processUniqueId' | 'simulationUniqueId'): string | null {
  const value = payload[field];
  return typeof value === 'string' ? value : null;
}

const UNIQUE_VIOLATION = '23505';

/**
 * Durable intake: the notification row is committed in PostgreSQL before the 202 is sent, and only
 * then handed to the queue. With an Idempotency-Key the key row is written in the same
 * transaction, so two concurrent requests with one key yield one notification.
 */
@Injectable()
export class NotificationIntake {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly partners: PartnerLookup,
    private readonly scheduler: DeliveryScheduler,
    private readonly metrics: Metrics,
  ) {}

  async accept(incoming: IncomingNotification): Promise<NotificationAcceptedDto> {
    for (let tries = 0; ; tries++) {
      try {
        return await this.acceptOnce(incoming);
      } catch (error) {
        // Another request with the same key committed first: replay its response.
        if ((error as { code?: string }).code !== UNIQUE_VIOLATION || !incoming.idempotency || tries > 0) throw error;
      }
    }
  }

  private async acceptOnce(incoming: IncomingNotification): Promise<NotificationAcceptedDto> {
    const accepted = await this.dataSource.transaction(async (manager) => {
      const hash = incoming.idempotency ? requestHash(incoming) : null;
      if (incoming.idempotency) {
        const replay = await this.replay(manager, incoming.idempotency, hash!);
        if (replay) return { replayed: true as const, response: replay };
      }
      const status = await this.initialStatus(manager, incoming);
      const notificationId = randomUUID();
      await manager.query(
        `INSERT INTO notifications (id, partner_id, notification_type_id, payload, process_unique_id, simulation_unique_id, test, status, status_reason, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          notificationId,
          incoming.partnerId,
          incoming.notificationTypeId,
          incoming.payloadText,
          caseId(incoming.payload, 'processUniqueId'),
          caseId(incoming.payload, 'simulationUniqueId'),
          incoming.test,
          status.status,
          status.reason,
          status.status === 'pending' ? new Date() : null,
        ],
      );
      if (incoming.idempotency) {
        await manager.query(`INSERT INTO idempotency_keys (caller, key, notification_id, response_status, request_hash) VALUES ($1, $2, $3, $4, $5)`, [
          incoming.idempotency.caller,
          incoming.idempotency.key,
          notificationId,
          status.status,
          hash,
        ]);
      }
      return { replayed: false as const, response: { notificationId, status: status.status } };
    });
    if (accepted.replayed) return accepted.response;
    this.metrics.notificationsAccepted.inc({
      type: notificationTypeName(incoming.notificationTypeId),
      status: accepted.response.status,
      source: incoming.test ? 'echo' : 'event',
    });
    if (accepted.response.status === 'pending') {
      await this.scheduler.schedule({ notificationId: accepted.response.notificationId, partnerUniqueId: incoming.partnerId, notificationTypeId: incoming.notificationTypeId, round: 0, test: incoming.test });
    }
    return accepted.response;
  }

  /** The first response to this key, when the key is fresh and was used for the same request; 422 for another request. */
  private async replay(manager: EntityManager, { caller, key }: IdempotencyKey, hash: string): Promise<NotificationAcceptedDto | null> {
    const rows = (await manager.query(
      `SELECT notification_id, response_status, request_hash, created_at > now() - make_interval(hours => $3) AS fresh FROM idempotency_keys WHERE caller = $1 AND key = $2`,
      [caller, key, IDEMPOTENCY_WINDOW_HOURS],
    )) as Array<{ notification_id: string; response_status: NotificationStatus; request_hash: string | null; fresh: boolean }>;
    const [row] = rows;
    if (!row) return null;
    if (row.fresh && row.request_hash !== null && row.request_hash !== hash) {
      throw new DomainError(
        422,
        'idempotency_key_reused',
        `Idempotency-Key "${key}" was already used within ${IDEMPOTENCY_WINDOW_HOURS} hours for a different request (partner, type or payload); use a new key`,
        [{ field: 'Idempotency-Key', message: 'was already used for a different request' }],
      );
    }
    if (row.fresh) return { notificationId: row.notification_id, status: row.response_status };
    await manager.query('DELETE FROM idempotency_keys WHERE caller = $1 AND key = $2', [caller, key]);
    return null;
  }

  private async initialStatus(manager: EntityManager, incoming: IncomingNotification): Promise<{ status: NotificationStatus; reason: string | null }> {
    const rows = (await manager.query('SELECT enabled FROM callbacks WHERE partner_id = $1 AND notification_type_id = $2', [
      incoming.partnerId,
      incoming.notificationTypeId,
    ])) as Array<{ enabled: boolean }>;
    const [callback] = rows;
    if (!callback) {
      await this.partners.require(incoming.partnerId);
      if (incoming.requireCallback) {
        throw DomainError.notFound('callback_not_found', `partner ${incoming.partnerId} has no callback for notification type ${incoming.notificationTypeId}`);
      }
      return { status: 'skipped', reason: 'no_callback' };
    }
    return callback.enabled ? { status: 'pending', reason: null } : { status: 'skipped', reason: 'callback_disabled' };
  }
}
