import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import type { DataSource, QueryRunner } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { Metrics } from '@callbacks/observability';
import { tryLockDatabase, unlockDatabase } from '@callbacks/persistence';
import { PERIODIC_PASSES, type PeriodicPass } from './periodic-pass';

/**
 * Runs every periodic pass of the worker: one timer per pass, at most one run of a pass at a time
 * in a process, and in the deployment at most one (the worker that takes the pass's PostgreSQL
 * advisory lock runs it; the others skip). At shutdown the timers stop, running passes are told to
 * stop (their signal aborts) and are waited for.
 */
@Injectable()
export class PeriodicPassRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Map<PeriodicPass, Promise<void>>();
  private readonly stop = new AbortController();

  constructor(
    @Inject(PERIODIC_PASSES) private readonly passes: PeriodicPass[],
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: Metrics,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('PeriodicPassRunner');
  }

  onApplicationBootstrap(): void {
    for (const pass of this.passes.filter((candidate) => candidate.enabled?.(this.config) ?? true)) {
      const timer = setInterval(() => void this.tick(pass), this.config[pass.interval]);
      timer.unref();
      this.timers.push(timer);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.stop.abort();
    await Promise.all(this.running.values());
  }

  /** One run of `pass` now, under its lock; null when another worker holds the lock. */
  async runOnce<Report>(pass: PeriodicPass<Report>): Promise<Report | null> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      return pass.lock.scope === 'transaction' ? await this.inTransaction(runner, pass) : await this.inSession(runner, pass);
    } finally {
      await runner.release();
    }
  }

  private async tick(pass: PeriodicPass): Promise<void> {
    if (this.running.has(pass)) return;
    const runs = this.metrics[pass.runs];
    const run = this.runOnce(pass)
      .then((report) => void runs.inc({ result: report === null ? 'skipped_locked' : 'ran' }))
      .catch((error: unknown) => {
        runs.inc({ result: 'error' });
        this.logger.warn({ err: error, pass: pass.name }, `${pass.name} failed; the next pass tries again`);
      })
      .finally(() => this.running.delete(pass));
    this.running.set(pass, run);
    await run;
  }

  private async inTransaction<Report>(runner: QueryRunner, pass: PeriodicPass<Report>): Promise<Report | null> {
    await runner.startTransaction();
    try {
      if (!(await tryLockDatabase(runner, pass.lock.id, 'transaction'))) {
        await runner.commitTransaction();
        return null;
      }
      const report = await pass.run({ db: runner, signal: this.stop.signal });
      await runner.commitTransaction();
      return report;
    } catch (error) {
      await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
  }

  private async inSession<Report>(runner: QueryRunner, pass: PeriodicPass<Report>): Promise<Report | null> {
    if (!(await tryLockDatabase(runner, pass.lock.id, 'session'))) return null;
    try {
      return await pass.run({ db: runner, signal: this.stop.signal });
    } finally {
      await unlockDatabase(runner, pass.lock.id);
    }
  }
}
