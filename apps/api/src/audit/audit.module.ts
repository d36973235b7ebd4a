import { Global, Module } from '@nestjs/common';
import { AuditController } from './audit.controller';
import { AuditTrail } from './audit-trail';
import { ListAuditEntries } from './use-cases/list-audit-entries.use-case';

/** The audit trail: every module records into it; the operator reads it at GET /admin/audit, a partner on the portal's Activity page. */
@Global()
@Module({
  controllers: [AuditController],
  providers: [AuditTrail, ListAuditEntries],
  exports: [AuditTrail, ListAuditEntries],
})
export class AuditModule {}
