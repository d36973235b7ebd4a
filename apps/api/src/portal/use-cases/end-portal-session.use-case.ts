import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { PortalSessionEntity } from '@callbacks/persistence';

/** Signing out deletes the session row: the cookie, wherever a copy of it is, stops working. */
@Injectable()
export class EndPortalSession {
  constructor(@InjectRepository(PortalSessionEntity) private readonly sessions: Repository<PortalSessionEntity>) {}

  async execute(sessionId: string): Promise<void> {
    await this.sessions.delete({ id: sessionId });
  }
}
