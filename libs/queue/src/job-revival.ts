import type { Job, JobState, Queue } from 'bullmq';

/**
 * What a job's BullMQ state means to the service, the one reading of it:
 * - `will_run`: waiting, delayed, active (or another state BullMQ runs by itself): leave it;
 * - `failed`: it runs again only if someone retries it;
 * - `completed`: it ran and will not run again; its id is taken until it is removed;
 * - `missing`: never added, removed, or lost with Redis's data.
 */
export type JobFate = 'will_run' | 'failed' | 'completed' | 'missing';

export function jobFate(state: JobState | 'unknown'): JobFate {
  if (state === 'failed' || state === 'completed') return state;
  return state === 'unknown' ? 'missing' : 'will_run';
}

/** What a reconciler did with the job of a row PostgreSQL still holds as pending. */
export type Revival = 'alive' | 'retried' | 'left_failed' | 'missing';

/**
 * A reconciler's repair of the job of a row PostgreSQL still holds as pending: a job that will run
 * is left alone; a failed one is retried unless `retryFailed` says no; a completed one (it finished
 * without finishing the row) is removed so that it can be added again; a missing one is reported,
 * for the caller to add it again.
 */
export async function reviveJob(
  queue: Queue,
  jobId: string,
  retryFailed: (job: Job) => Promise<boolean> = async () => true,
  /** The job's state when the caller has just read it (finding its queue); read here otherwise. */
  state?: JobState | 'unknown',
): Promise<Revival> {
  const fate = jobFate(state ?? (await queue.getJobState(jobId)));
  if (fate === 'will_run') return 'alive';
  if (fate === 'failed') {
    const job = await queue.getJob(jobId);
    if (!job || !(await retryFailed(job))) return 'left_failed';
    await job.retry('failed');
    return 'retried';
  }
  if (fate === 'completed') await queue.remove(jobId);
  return 'missing';
}
