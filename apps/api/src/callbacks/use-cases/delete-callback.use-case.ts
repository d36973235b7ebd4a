import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CallbackRepository } from '@callbacks/persistence';
import { type AuditOrigin, AuditTrail } from '../../audit/audit-trail';
import { CallbackHealthStore } from '../callback-health.store';
import { CallbackLookup, callbackNotFound } from '../callback-lookup';

/**
 * Deleting stops further deliveries at once: the worker reads the callback before every attempt.
 * Its circuit goes with it, so a callback created again for the type starts closed. The deletion
 * and its audit entry are one transaction.
 */
@Injectable()
export class DeleteCallback {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly lookup: CallbackLookup,
    private readonly callbacks: CallbackRepository,
    private readonly health: CallbackHealthStore,
    private readonly audit: AuditTrail,
  ) {}

  async execute(partnerId: string, notificationTypeId: number, origin: AuditOrigin): Promise<void> {
    const callback = await this.lookup.require(partnerId, notificationTypeId);
    await this.dataSource.transaction(async (manager) => {
      if (!(await this.callbacks.delete(callback.id, manager))) throw callbackNotFound(partnerId, notificationTypeId);
      await this.audit.record(
        origin,
        {
          action: 'callback_deleted',
          partnerId,
          target: `notification_type:${notificationTypeId}`,
          details: { callbackUrl: callback.callbackUrl },
        },
        manager,
      );
    });
    await this.health.reset(partnerId, notificationTypeId);
  }
}
