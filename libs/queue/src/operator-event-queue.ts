import type { Job, Queue } from 'bullmq';
import type { OperatorEventType } from '@callbacks/contracts';
import { DELIVERY_JOB_OPTIONS } from './delivery-queue';

/*
 * Operator events travel through the delivery queue (same workers, retries and Bull Board) under
 * their own job name, "operator-event <type>". Renaming it strands the jobs already queued: the
 * operator-event reconciler re-enqueues them from PostgreSQL.
 */
export const OPERATOR_EVENT_JOB = 'operator-event';

/** Ids only: the worker reads the event from PostgreSQL, and the signing secret from its config. */
export interface OperatorEventJobData {
  operatorEventId: string;
  operatorEventType: OperatorEventType;
}

/** Distinct from delivery job ids (notification ids), which are bare UUIDs. */
export function operatorEventJobId(operatorEventId: string): string {
  return `op-${operatorEventId}`;
}

export function isOperatorEventJob(job: Job): job is Job<OperatorEventJobData> {
  return job.name.startsWith(`${OPERATOR_EVENT_JOB} `);
}

export interface OperatorEventToEnqueue {
  id: string;
  type: OperatorEventType;
  /** When the first attempt is due (the end of a coalescing window); now or past: at once. */
  dueAt: Date;
}

/** Adds operator event jobs in one pipeline, with the delivery jobs' options; an event whose job exists already is left as it is. */
export async function enqueueOperatorEvents(queue: Queue, events: OperatorEventToEnqueue[], now = Date.now()): Promise<void> {
  if (events.length === 0) return;
  await queue.addBulk(
    events.map((event) => ({
      name: `${OPERATOR_EVENT_JOB} ${event.type}`,
      data: { operatorEventId: event.id, operatorEventType: event.type } satisfies OperatorEventJobData,
      opts: { ...DELIVERY_JOB_OPTIONS, jobId: operatorEventJobId(event.id), delay: Math.max(0, event.dueAt.getTime() - now) },
    })),
  );
}
