import { Injectable } from '@nestjs/common';
import { PortalRepository } from '@callbacks/persistence';
import { hashPortalToken, isPortalToken } from '../../auth/portal-session-cookie';

export type ShowPortalLinkResult = { kind: 'usable'; partnerName: string } | { kind: 'used' | 'expired' | 'unknown' };

/** What a sign-in link would do, without using it: whose portal it opens, or why it opens none. */
@Injectable()
export class ShowPortalLink {
  constructor(private readonly portal: PortalRepository) {}

  async execute(token: string): Promise<ShowPortalLinkResult> {
    const link = isPortalToken(token) ? await this.portal.link(hashPortalToken(token)) : null;
    if (!link) return { kind: 'unknown' };
    if (link.usedAt !== null) return { kind: 'used' };
    return link.expired ? { kind: 'expired' } : { kind: 'usable', partnerName: link.partnerName };
  }
}
