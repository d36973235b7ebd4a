import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PortalRepository } from '@callbacks/persistence';
import { type AuditOrigin, AuditTrail } from '../../audit/audit-trail';
import { CredentialMac } from '../../auth/credential-mac';
import { generatePortalToken, hashPortalToken } from '../../auth/portal-session-cookie';
import { PartnerLookup } from '../../partners/partner-lookup';

export const PORTAL_LINK_TTL_MS = 15 * 60 * 1000;
const SWEEP_AFTER_MS = 24 * 60 * 60 * 1000;

export interface NewPortalLink {
  token: string;
  expiresAt: Date;
}

/** A one-time sign-in link to the partner portal; only the token's hash is stored. The link and its audit entry are one transaction. */
@Injectable()
export class CreatePortalLink {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly partners: PartnerLookup,
    private readonly portal: PortalRepository,
    private readonly audit: AuditTrail,
    private readonly mac: CredentialMac,
  ) {}

  /** `apiKeyId`: the key making the link (null: the operator); revoking it ends the link and its session. */
  async execute(partnerId: string, apiKeyId: string | null, origin: AuditOrigin): Promise<NewPortalLink> {
    await this.partners.require(partnerId);
    const token = generatePortalToken(this.mac, 'portal-link');
    const expiresAt = new Date(Date.now() + PORTAL_LINK_TTL_MS);
    await this.dataSource.transaction(async (manager) => {
      await this.portal.insertLink({ tokenHash: hashPortalToken(token), partnerId, apiKeyId, expiresAt }, manager);
      await this.audit.record(
        origin,
        { action: 'portal_link_created', partnerId, target: null, details: { expiresAt: expiresAt.toISOString() } },
        manager,
      );
    });
    // Links a day past their expiry no longer need telling apart from forged ones.
    await this.portal.deleteLinksExpiredBefore(new Date(Date.now() - SWEEP_AFTER_MS));
    return { token, expiresAt };
  }
}
