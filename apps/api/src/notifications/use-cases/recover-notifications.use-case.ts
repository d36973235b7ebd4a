import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { MAX_RECOVERY_NOTIFICATIONS, notificationTypeName, type RecoverNotificationsDto, type RecoveringDto } from '@callbacks/contracts';
import { Metrics } from '@callbacks/observability';
import { CallbackRepository, type NotificationDelivery, NotificationRepository } from '@callbacks/persistence';
import { type AuditOrigin, AuditTrail } from '../../audit/audit-trail';
import { CallbackLookup } from '../../callbacks/callback-lookup';
import { DomainError } from '../../common/domain-error';
import { PartnerLookup } from '../../partners/partner-lookup';
import { DeliveryScheduler } from '../delivery-scheduler';

/** Which callbacks a recovery covers: one (the partner route) or all of a partner's (the operator route). */
export type RecoveryScope = { partnerId: string; notificationTypeId: number } | { partnerId: string; notificationTypeId: null };

/**
 * "Recover since": a new delivery round (same webhook-id) for every recoverable notification of
 * the scope's enabled callbacks accepted in [since, until). One UPDATE … RETURNING in a
 * transaction takes the rows: a second call while the first runs finds them pending and takes
 * none, and a window with more than MAX_RECOVERY_NOTIFICATIONS rolls back (422), storing nothing
 * (its audit entry, written in the same transaction, included).
 */
@Injectable()
export class RecoverNotifications {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly notifications: NotificationRepository,
    private readonly callbackRows: CallbackRepository,
    private readonly callbacks: CallbackLookup,
    private readonly partners: PartnerLookup,
    private readonly scheduler: DeliveryScheduler,
    private readonly metrics: Metrics,
    private readonly audit: AuditTrail,
  ) {}

  async execute(scope: RecoveryScope, body: RecoverNotificationsDto, origin: AuditOrigin): Promise<RecoveringDto> {
    const window = this.window(body);
    const types = await this.enabledTypes(scope);
    const rows = await this.startRounds(scope, types, window, origin);
    await this.scheduler.scheduleMany(rows);
    this.metrics.recoveryRequests.inc({ scope: scope.notificationTypeId === null ? 'partner' : 'callback' });
    for (const typeId of types) {
      const recovered = rows.filter((row) => row.notificationTypeId === typeId).length;
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
    return this.callbackRows.enabledTypes(scope.partnerId);
  }

  /** In a transaction: a window with more than MAX_RECOVERY_NOTIFICATIONS rolls back. */
  private startRounds(
    scope: RecoveryScope,
    types: number[],
    window: { since: Date; until: Date | null },
    origin: AuditOrigin,
  ): Promise<NotificationDelivery[]> {
    return this.dataSource.transaction(async (manager) => {
      const rows =
        types.length === 0
          ? []
          : await this.notifications.startRecoveryRounds(scope.partnerId, types, window, MAX_RECOVERY_NOTIFICATIONS + 1, manager);
      if (rows.length > MAX_RECOVERY_NOTIFICATIONS) {
        throw new DomainError(
          422,
          'recovery_window_too_large',
          `more than ${MAX_RECOVERY_NOTIFICATIONS} notifications to recover in this window; narrow it (a later since, or an until) and call again`,
        );
      }
      await this.audit.record(
        origin,
        {
          action: 'notifications_recovered',
          partnerId: scope.partnerId,
          target: scope.notificationTypeId === null ? `partner:${scope.partnerId}` : `notification_type:${scope.notificationTypeId}`,
          details: {
            since: window.since.toISOString(),
            until: window.until?.toISOString() ?? null,
            notificationTypeIds: types,
            recovering: rows.length,
          },
        },
        manager,
      );
      return rows;
    });
  }
}
