import { Module } from '@nestjs/common';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule } from '@bull-board/nestjs';
import type { NextFunction, Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { DELIVERY_QUEUE } from '@callbacks/queue';
import { secretsEqual } from '../auth/api-key';
import { DomainError } from '../common/domain-error';
import { sendProblem } from '../common/problem.filter';

export const BULL_BOARD_ROUTE = '/admin/queues';
const BOARD_USER = 'admin';

/** HTTP Basic auth for Bull Board: user "admin", password ADMIN_API_KEY; always 401 when no key is set. */
export function boardBasicAuth(adminApiKey: string | null) {
  return (request: Request, response: Response, next: NextFunction): void => {
    const [scheme, encoded] = (request.headers.authorization ?? '').split(' ');
    const [user, ...rest] = scheme === 'Basic' && encoded ? Buffer.from(encoded, 'base64').toString('utf8').split(':') : [];
    if (adminApiKey !== null && user === BOARD_USER && secretsEqual(rest.join(':'), adminApiKey)) return next();
    const detail = adminApiKey === null ? 'Bull Board is disabled: ADMIN_API_KEY is not set' : 'Bull Board needs the operator credentials (user admin, password ADMIN_API_KEY)';
    sendProblem(response, new DomainError(401, 'unauthorized', detail, undefined, { 'WWW-Authenticate': 'Basic realm="Partner Callbacks queues", charset="UTF-8"' }));
  };
}

/** Bull Board at /admin/queues: waiting, active, delayed (the retries), completed and failed deliveries. */
@Module({
  imports: [
    BullBoardModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        route: BULL_BOARD_ROUTE,
        adapter: ExpressAdapter,
        middleware: boardBasicAuth(config.adminApiKey),
        boardOptions: { uiConfig: { boardTitle: 'Partner Callbacks' } },
      }),
    }),
    BullBoardModule.forFeature({
      name: DELIVERY_QUEUE,
      adapter: BullMQAdapter,
      options: {
        displayName: 'Webhook deliveries',
        description: 'One job per notification (job id = notification id). Delayed jobs are retries; failed ones exhausted the schedule.',
      },
    }),
  ],
})
export class QueueBoardModule {}
