import { Injectable, type OnModuleInit } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { DeliveryQueues } from '@callbacks/queue';

const REPORT_EVERY_MS = 30_000;

/**
 * While Redis is unreachable, BullMQ emits a connection error every few hundred milliseconds.
 * This logs the first one and then at most one every 30 s, as JSON through pino.
 */
@Injectable()
export class RedisErrorReporter implements OnModuleInit {
  private lastReportAt = 0;
  private suppressed = 0;

  constructor(
    private readonly queues: DeliveryQueues,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('Redis');
  }

  onModuleInit(): void {
    for (const queue of this.queues.all) queue.on('error', (error: Error) => this.report(error));
  }

  report(error: Error): void {
    const now = Date.now();
    if (now - this.lastReportAt < REPORT_EVERY_MS) {
      this.suppressed++;
      return;
    }
    this.logger.warn(
      { err: { message: error.message, code: (error as NodeJS.ErrnoException).code }, suppressed: this.suppressed },
      'Redis connection error',
    );
    this.lastReportAt = now;
    this.suppressed = 0;
  }
}
