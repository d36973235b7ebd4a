import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import type { CaseErasedDto, EraseCaseDto } from '@callbacks/contracts';
import { type AuditOrigin, AuditTrail } from '../../audit/audit-trail';
import { DomainError } from '../../common/domain-error';
import { NotificationEraser } from '../notification-eraser';

/**
 * A data subject's erasure (GDPR art. 17): every notification about one process or simulation, for
 * every partner, with its attempts. Pending ones are cancelled and never sent. The audit trail gets
 * one entry when it is done (batches commit one by one; one cut short is repeated, and recorded then).
 */
@Injectable()
export class EraseCase {
  constructor(
    private readonly eraser: NotificationEraser,
    private readonly auditTrail: AuditTrail,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('EraseCase');
  }

  async execute(request: EraseCaseDto, origin: AuditOrigin): Promise<CaseErasedDto> {
    const { processUniqueId, simulationUniqueId } = request;
    if ((processUniqueId === undefined) === (simulationUniqueId === undefined)) {
      const message =
        processUniqueId === undefined
          ? 'or simulationUniqueId is required (exactly one)'
          : 'and simulationUniqueId are exclusive: give exactly one';
      throw DomainError.validation([{ field: 'processUniqueId', message }]);
    }
    const [selection, caseId] =
      processUniqueId !== undefined ? (['process', processUniqueId] as const) : (['simulation', simulationUniqueId!] as const);
    const audit = { action: 'case_erased', [`${selection}UniqueId`]: caseId };
    const erased = await this.eraser.erase(selection, caseId, audit);
    this.logger.info(
      {
        audit: true,
        ...audit,
        deletedNotifications: erased.notifications,
        deletedAttempts: erased.attempts,
        removedJobs: erased.removedJobs,
      },
      'case erased',
    );
    await this.auditTrail.record(origin, {
      action: 'case_erased',
      partnerId: null,
      target: `${selection}:${caseId}`,
      details: { deletedNotifications: erased.notifications, deletedAttempts: erased.attempts },
    });
    return { deletedNotifications: erased.notifications };
  }
}
