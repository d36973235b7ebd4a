import type { JobsOptions, Queue } from 'bullmq';
import { notificationTypeName } from '@callbacks/contracts';

/*
 * Queue and job names live here and nowhere else. Renaming one strands the jobs already queued
 * under the old name: drain the queue (or let the reconciler re-enqueue from PostgreSQL) first.
 */
export const DELIVERY_QUEUE = 'deliveries';
/** Job names are "deliver <type name>", e.g. "deliver status.changed", to read well in Bull Board. */
export const DELIVER_JOB = 'deliver';

/**
 * A delivery job carries ids only: the worker loads the payload, the callback and its secret from
 * PostgreSQL when it sends, so Redis never holds a secret and an updated URL is used at once.
 * The type name and partner make the job recognisable in Bull Board.
 */
export interface DeliveryJobData {
  notificationId: string;
  partnerUniqueId: string;
  notificationTypeId: number;
  notificationType: string;
  /** Which delivery round the job belongs to: each redelivery starts a new one, older jobs are stale. */
  round: number;
  test: boolean;
}

/**
 * The job lock's default (DELIVERY_LOCK_MS sets it). It must outlast one HTTP attempt (DELIVERY_TIMEOUT_MS
 * is capped at 50 s; the configuration refuses a lock shorter than the timeout plus a margin) or a second
 * worker could take the same delivery while the first is still sending it.
 */
export const DELIVERY_LOCK_DURATION_MS = 60_000;

/**
 * How often workers look for jobs whose worker died (lock expired): a quarter of the lock, at most
 * 15 s (the default). A killed worker's deliveries are back in the queue within the lock duration
 * plus up to two of these intervals. Stalls do not count as attempts; a job that stalls too often
 * fails (see below).
 */
export const DELIVERY_STALLED_INTERVAL_MS = 15_000;

/** The BullMQ worker options that follow from DELIVERY_LOCK_MS. */
export function deliveryLockOptions(lockMs: number): { lockDuration: number; stalledInterval: number } {
  return { lockDuration: lockMs, stalledInterval: Math.min(DELIVERY_STALLED_INTERVAL_MS, Math.round(lockMs / 4)) };
}

/**
 * A job whose worker died under it (lock lost) this many times goes back to the queue; one more
 * and BullMQ fails it without running it, with the reason below. A payload that kills every worker
 * it reaches thus takes down three, not all of them forever: its notification ends failed
 * (worker_crash) and only an operator's retry or a partner's redelivery runs it again.
 */
export const DELIVERY_MAX_STALLED_COUNT = 2;
/** BullMQ's failedReason for a job that stalled more than DELIVERY_MAX_STALLED_COUNT times. */
export const STALLED_TOO_OFTEN = 'job stalled more than allowable limit';

/**
 * Job ids are the notification id (dedupe: adding the same delivery twice is a no-op while the job
 * exists), suffixed for redelivery rounds. UUIDs contain no ":" and are never digits only.
 */
export function deliveryJobId(notificationId: string, round: number): string {
  return round === 0 ? notificationId : `${notificationId}-r${round}`;
}

/** Finished jobs of each kind that Redis keeps for Bull Board, at most (the newest ones). */
export const KEPT_FINISHED_JOBS = 10_000;

/**
 * Attempts and backoff here cover infrastructure failures only (PostgreSQL unreachable while the
 * job runs): a failed HTTP attempt is rescheduled by the processor with moveToDelayed, which does
 * not count as a job attempt. Completed jobs are kept an hour for Bull Board, failed ones a week,
 * and either kind at most KEPT_FINISHED_JOBS: one dead partner can fail far more than that in a
 * week, and Redis runs with noeviction, so an unbounded failed set would end with Redis refusing
 * writes for every partner. 10,000 jobs with their logs take a few tens of MB; the delivery log in
 * PostgreSQL keeps every attempt, and nothing (redeliver, recover, the reconciler) needs the job.
 */
export const DELIVERY_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 3_600, count: KEPT_FINISHED_JOBS },
  removeOnFail: { age: 7 * 24 * 3_600, count: KEPT_FINISHED_JOBS },
};

/** A delivery to hand to the queue; the job's wire fields (partnerUniqueId, the type's name) are made here. */
export interface DeliveryToEnqueue {
  notificationId: string;
  partnerId: string;
  notificationTypeId: number;
  round: number;
  test: boolean;
  /** When the attempt is due; now or in the past means at once. */
  dueAt?: Date | null;
}

/**
 * Adds delivery jobs to one queue (one pipeline for many). Adding a job that exists already
 * changes nothing. Callers hand deliveries to `enqueueDeliveries`, which picks each one's shard.
 */
export async function addDeliveryJobs(queue: Queue, deliveries: DeliveryToEnqueue[], now = Date.now()): Promise<void> {
  if (deliveries.length === 0) return;
  await queue.addBulk(
    deliveries.map(({ dueAt, partnerId, ...ids }) => {
      const data: DeliveryJobData = { ...ids, partnerUniqueId: partnerId, notificationType: notificationTypeName(ids.notificationTypeId) };
      return {
        name: `${DELIVER_JOB} ${data.notificationType}`,
        data,
        opts: {
          ...DELIVERY_JOB_OPTIONS,
          jobId: deliveryJobId(data.notificationId, data.round),
          delay: dueAt ? Math.max(0, dueAt.getTime() - now) : 0,
        },
      };
    }),
  );
}
