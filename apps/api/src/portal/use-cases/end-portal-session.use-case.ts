import { Injectable } from '@nestjs/common';
import { PortalRepository } from '@callbacks/persistence';

/** Signing out deletes the session row: the cookie, wherever a copy of it is, stops working. */
@Injectable()
export class EndPortalSession {
  constructor(private readonly portal: PortalRepository) {}

  async execute(sessionId: string): Promise<void> {
    await this.portal.deleteSession(sessionId);
  }
}
