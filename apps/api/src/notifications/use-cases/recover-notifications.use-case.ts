import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { MAX_RECOVERY_NOTIFICATIONS, notificationTypeName, type RecoverNotificationsDto, type RecoveringDto } from '@callbacks/contracts';
import { Metrics } from '@callbacks/observability';
import { CallbackLookup } from '../../callbacks/callback-lookup';
import { DomainError } from '../../common/domain-error';
import { PartnerLookup } from '../../partners/partner-lookup';
import { NEW_DELIVERY_ROUND, NEW_ROUND_COLUMNS, newRoundDelivery, type NewRoundRow } from '../delivery-round';
import { DeliveryScheduler } from '../delivery-scheduler';

/** Which callbacks a recovery covers: one (the partner route) or all of a partner's (the operator route). */
export type RecoveryScope = { partnerId: string; notificationTypeId: number } | { partnerId: string; notificationTypeId: null };

/** Notifications a recovery takes: failed, or skipped because their callback was disabled. */
const RECOVERABLE = `(status = 'failed' OR (status = 'skipped' AND status_reason = 'callback_disabled'))`;

/**
 * "Recover since": a new delivery round (same webhook-id) for every recoverable notification of
 * the scope's enabled callbacks accepted in [since, until). One UPDATE … RETURNING in a
 * transaction takes the rows: a second call while the first runs finds them pending and takes
 * none, and a window with more than MAX_RECOVERY_NOTIFICATIONS rolls back (422), storing nothing.
 */
@Injectable()
export class RecoverNotifications {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly callbacks: CallbackLookup,
    private readonly partners: PartnerLookup,
    private readonly scheduler: DeliveryScheduler,
    private readonly metrics: Metrics,
  ) {}

  async execute(scope: RecoveryScope, body: RecoverNotificationsDto): Promise<RecoveringDto> {
    const window = this.window(body);
    const types = await this.enabledTypes(scope);
    const rows = types.length === 0 ? [] : await this.startRounds(scope.partnerId, types, window);
    await this.scheduler.scheduleMany(rows.map(newRoundDelivery));
    this.metrics.recoveryRequests.inc({ scope: scope.notificationTypeId === null ? 'partner' : 'callback' });
    for (const typeId of types) {
      const recovered = rows.filter((row) => row.notification_type_id === typeId).length;
      if (recovered > 0) this.metrics.notificationsRecovered.inc({ type: notificationTypeName(typeId) }, recovered);
    }
    return { recovering: rows.length };
  }

  private window(body: RecoverNotificationsDto): { since: Date; until: Date | null } {
    const since = new Date(body.since);
    const until = body.until === undefined ? null : new Date(body.until);
    // Older notifications are deleted by the retention sweep: there is nothing to recover there.
    const oldest = new Date(Date.now() - this.config.retentionPeriodMs);
    if (since < oldest) {
      throw DomainError.validation([{ field: 'since', message: `must not be older than RETENTION_PERIOD (${oldest.toISOString()})` }]);
    }
    if (until && until <= since) throw DomainError.validation([{ field: 'until', message: 'must be later than since' }]);
    return { since, until };
  }

  /** The types to recover: the callback's (404 when none, 409 while disabled), or all the partner's enabled ones. */
  private async enabledTypes(scope: RecoveryScope): Promise<number[]> {
    if (scope.notificationTypeId !== null) {
      const callback = await this.callbacks.require(scope.partnerId, scope.notificationTypeId);
      if (!callback.enabled) {
        throw new DomainError(
          409,
          'callback_disabled',
          `the callback for notification type ${scope.notificationTypeId} is disabled (${callback.disabledReason}); PUT it with enabled: true first, or its notifications would only be skipped again`,
        );
      }
      return [callback.notificationTypeId];
    }
    await this.partners.require(scope.partnerId);
    const rows = (await this.dataSource.query(
      `SELECT notification_type_id FROM callbacks WHERE partner_id = $1 AND enabled ORDER BY notification_type_id`,
      [scope.partnerId],
    )) as Array<{
      notification_type_id: number;
    }>;
    return rows.map((row) => row.notification_type_id);
  }

  private startRounds(partnerId: string, types: number[], window: { since: Date; until: Date | null }): Promise<NewRoundRow[]> {
    return this.dataSource.transaction(async (manager) => {
      const [rows] = (await manager.query(
        `UPDATE notifications SET ${NEW_DELIVERY_ROUND}
          WHERE id IN (
                  SELECT id FROM notifications
                   WHERE partner_id = $1 AND notification_type_id = ANY($2::smallint[]) AND created_at >= $3
                     AND ($4::timestamptz IS NULL OR created_at < $4) AND ${RECOVERABLE}
                   LIMIT $5 FOR UPDATE)
            AND ${RECOVERABLE}
          RETURNING ${NEW_ROUND_COLUMNS}`,
        [partnerId, types, window.since, window.until, MAX_RECOVERY_NOTIFICATIONS + 1],
      )) as [NewRoundRow[], number];
      if (rows.length > MAX_RECOVERY_NOTIFICATIONS) {
        throw new DomainError(
          422,
          'recovery_window_too_large',
          `more than ${MAX_RECOVERY_NOTIFICATIONS} notifications to recover in this window; narrow it (a later since, or an until) and call again`,
        );
      }
      return rows;
    });
  }
}
