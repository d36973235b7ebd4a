import { Injectable } from '@nestjs/common';
import { PortalRepository } from '@callbacks/persistence';
import { CredentialMac } from '../../auth/credential-mac';
import { hashPortalToken, isPortalToken } from '../../auth/portal-session-cookie';
import { UnknownCredentials } from '../../auth/unknown-credentials';

export type ShowPortalLinkResult = { kind: 'usable'; partnerName: string } | { kind: 'used' | 'expired' | 'unknown' };

/** What a sign-in link would do, without using it: whose portal it opens, or why it opens none. */
@Injectable()
export class ShowPortalLink {
  constructor(
    private readonly portal: PortalRepository,
    private readonly mac: CredentialMac,
    private readonly unknown: UnknownCredentials,
  ) {}

  /** A forged token is told apart by its MAC, and a deleted link is remembered: neither costs a query. */
  async execute(token: string): Promise<ShowPortalLinkResult> {
    if (!isPortalToken(this.mac, 'portal-link', token)) return { kind: 'unknown' };
    const tokenHash = hashPortalToken(token);
    const link = this.unknown.has(tokenHash) ? null : await this.portal.link(tokenHash);
    if (!link) {
      this.unknown.add(tokenHash);
      return { kind: 'unknown' };
    }
    if (link.usedAt !== null) return { kind: 'used' };
    return link.expired ? { kind: 'expired' } : { kind: 'usable', partnerName: link.partnerName };
  }
}
