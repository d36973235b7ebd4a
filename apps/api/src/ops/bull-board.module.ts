import { type DynamicModule, Module } from '@nestjs/common';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule } from '@bull-board/nestjs';
import type { NextFunction, Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { queueShards } from '@callbacks/queue';
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
    const detail =
      adminApiKey === null
        ? 'Bull Board is disabled: ADMIN_API_KEY is not set'
        : 'Bull Board needs the operator credentials (user admin, password ADMIN_API_KEY)';
    sendProblem(
      response,
      new DomainError(401, 'unauthorized', detail, undefined, {
        'WWW-Authenticate': 'Basic realm="Partner Callbacks queues", charset="UTF-8"',
      }),
    );
  };
}

/**
 * Bull Board at /admin/queues: waiting, active, delayed (the retries), completed and failed
 * deliveries, one entry per queue shard.
 */
@Module({})
export class QueueBoardModule {
  static register(config: AppConfig): DynamicModule {
    const shards = queueShards(config);
    return {
      module: QueueBoardModule,
      imports: [
        BullBoardModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (appConfig: AppConfig) => ({
            route: BULL_BOARD_ROUTE,
            adapter: ExpressAdapter,
            middleware: boardBasicAuth(appConfig.adminApiKey),
            boardOptions: { uiConfig: { boardTitle: 'Partner Callbacks' } },
          }),
        }),
        BullBoardModule.forFeature(
          ...shards.map((shard) => ({
            name: shard.queueName,
            adapter: BullMQAdapter,
            options: {
              displayName: shards.length === 1 ? 'Webhook deliveries' : `Webhook deliveries, shard ${shard.index + 1} of ${shards.length}`,
              description:
                'One job per notification (job id = notification id). Delayed jobs are retries; failed ones exhausted the schedule.' +
                (shards.length === 1
                  ? ''
                  : ` Callbacks are spread over ${shards.length} shards; this one's keys start with ${shard.prefix}.`),
            },
          })),
        ),
      ],
    };
  }
}
