import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PortalRepository } from '@callbacks/persistence';
import { type AuditOrigin, AuditTrail, portalSessionEnded } from '../../audit/audit-trail';

/** Signing out deletes the session row: the cookie, wherever a copy of it is, stops working. Audited in the same transaction. */
@Injectable()
export class EndPortalSession {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly portal: PortalRepository,
    private readonly audit: AuditTrail,
  ) {}

  async execute(session: { id: string; partnerId: string }, origin: AuditOrigin): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      if (!(await this.portal.deleteSession(session.id, manager))) return;
      await this.audit.record(origin, portalSessionEnded(session.partnerId, session.id, 'sign_out'), manager);
    });
  }
}
