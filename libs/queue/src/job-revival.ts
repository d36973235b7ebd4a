import type { Queue } from 'bullmq';

/**
 * A reconciler's question about the job of a row PostgreSQL still holds as pending: is it alive
 * (waiting, delayed, active), was it failed (retried here), or is it missing (never added, lost
 * with Redis's data, or completed without finishing the row: removed here so it can be added again)?
 */
export async function reviveJob(queue: Queue, jobId: string): Promise<'alive' | 'retried' | 'missing'> {
  const state = await queue.getJobState(jobId);
  if (state === 'failed') {
    await (await queue.getJob(jobId))?.retry('failed');
    return 'retried';
  }
  if (state === 'completed') await queue.remove(jobId);
  return state === 'unknown' || state === 'completed' ? 'missing' : 'alive';
}
