import { callbackShard, parkedCallbackMember } from '@callbacks/queue';
import { createTestEnvironment, type TestEnvironment } from '@callbacks/testing';
import { CallbackGuard, type HandOver } from './callback-guard';
import type { Clock } from './clock';

/**
 * The guard's Lua scripts against a real Redis, with an explicit clock: leases, the waiting list,
 * hand-overs and the circuit, each step asked of the scripts directly (no worker, no HTTP, no sleep).
 */
describe('CallbackGuard (component: its scripts on Redis)', () => {
  let environment: TestEnvironment;
  let guard: CallbackGuard;
  const clock: Clock & { time: number } = {
    time: Date.parse('2026-11-27T12:00:00Z'),
    now: () => clock.time,
  };
  let typeId = 4;
  /** A fresh callback per test: its keys start empty. */
  let callback: { partnerId: string; notificationTypeId: number };
  const leaseMs = () => environment.config.deliveryTimeoutMs + 10_000;

  beforeAll(async () => {
    environment = await createTestEnvironment({ CIRCUIT_FAILURE_THRESHOLD: '3', CIRCUIT_OPEN_MS: '30000' });
    guard = new CallbackGuard(environment.config, clock);
  });
  afterAll(async () => {
    await guard.onApplicationShutdown();
    await environment.destroy();
  });
  beforeEach(() => {
    typeId++;
    callback = { partnerId: '6a1f0e44-5d0c-4c27-9a53-0b8c1f0a7e11', notificationTypeId: typeId };
  });

  const limits = { maxInFlight: 2, ratePerSecond: null };
  const admit = (jobId: string) => guard.admit(callback, jobId, limits);
  const release = (jobId: string, ok: boolean | null) => guard.release(callback, jobId, ok, limits);
  /** A hand-over to a job that may start now. */
  const handed = (jobId: string) => ({ jobId, startAt: clock.time });

  it('admits up to the cap, parks the rest in arrival order, and hands each freed slot to the longest-waiting job', async () => {
    expect(await admit('a')).toEqual({ admitted: true });
    expect(await admit('b')).toEqual({ admitted: true });
    expect(await admit('c')).toEqual({ admitted: false, reason: 'in_flight_cap', handedTo: null, waitMs: 0 });
    clock.time += 1;
    expect(await admit('d')).toEqual({ admitted: false, reason: 'in_flight_cap', handedTo: null, waitMs: 0 });

    expect(await release('a', true)).toEqual({ transition: 'ok', handedTo: handed('c') });
    // The woken job finds its slot reserved; the one still waiting stays parked.
    expect(await guard.handedStart(callback, 'c')).toBe(clock.time);
    expect(await admit('c')).toEqual({ admitted: true });
    expect(await release('b', null)).toEqual({ transition: 'ok', handedTo: handed('d') });
    expect(await admit('d')).toEqual({ admitted: true });
  });

  it('does not let a newcomer overtake a parked job when a lease expires, and gives that slot to the parked job', async () => {
    await admit('a');
    await admit('b');
    expect(await admit('parked')).toMatchObject({ admitted: false, reason: 'in_flight_cap' });
    // a's worker died: its lease runs out. A newcomer arriving now parks behind the waiting job and hands it the slot.
    clock.time += leaseMs() + 1;
    await admit('b'); // b is still being sent: renewing its lease keeps its slot
    expect(await admit('newcomer')).toEqual({ admitted: false, reason: 'in_flight_cap', handedTo: handed('parked'), waitMs: 0 });
    expect(await admit('parked')).toEqual({ admitted: true });
    expect(await guard.holdsLease(callback, 'a')).toBe(false);
    // The next freed slot goes to the newcomer, now first in line.
    expect(await release('b', true)).toEqual({ transition: 'ok', handedTo: handed('newcomer') });
  });

  it('opens the circuit after the threshold of consecutive failures, lets one probe through after the open time, and closes on its success', async () => {
    const fail = async (jobId: string) => {
      expect(await admit(jobId)).toEqual({ admitted: true });
      return (await release(jobId, false)).transition;
    };
    expect([await fail('f1'), await fail('f2'), await fail('f3')]).toEqual(['degraded', 'degraded', 'opened']);
    expect(await admit('held')).toEqual({ admitted: false, reason: 'circuit_open', handedTo: null, waitMs: 0 });

    clock.time += 30_000;
    expect(await admit('probe')).toEqual({ admitted: true });
    expect(await admit('second')).toEqual({ admitted: false, reason: 'circuit_probing', handedTo: null, waitMs: 0 });
    expect(await release('probe', true)).toEqual({ transition: 'closed', handedTo: null });
    expect(await admit('after')).toEqual({ admitted: true });
  });

  it('reopens the circuit when the probe fails, and a release without an attempt changes nothing', async () => {
    for (const jobId of ['f1', 'f2', 'f3']) {
      await admit(jobId);
      await release(jobId, false);
    }
    clock.time += 30_000;
    expect(await admit('probe')).toEqual({ admitted: true });
    expect(await release('probe', false)).toEqual({ transition: 'open', handedTo: null });
    expect(await admit('held')).toEqual({ admitted: false, reason: 'circuit_open', handedTo: null, waitMs: 0 });
    clock.time += 30_000;
    expect(await admit('probe-2')).toEqual({ admitted: true });
    expect(await release('probe-2', null)).toEqual({ transition: 'ok', handedTo: null });
    // The probe sent nothing: the circuit is as it was, and the next delivery may probe.
    expect(await admit('probe-3')).toEqual({ admitted: true });
  });

  it('hands on the slot of a woken job that finds the circuit open, instead of keeping it', async () => {
    await admit('a');
    await admit('b');
    await admit('p'); // parked
    expect(await release('a', false)).toEqual({ transition: 'degraded', handedTo: handed('p') });
    await admit('q'); // parked
    await admit('r'); // parked
    expect(await release('b', false)).toEqual({ transition: 'degraded', handedTo: handed('q') });
    // q runs and fails too: the circuit opens, and q's slot goes to r; p (woken, not yet run) still holds one.
    expect(await admit('q')).toEqual({ admitted: true });
    await admit('s'); // parked behind r
    expect(await release('q', false)).toEqual({ transition: 'opened', handedTo: handed('r') });
    // p runs now: held back by the open circuit, its slot goes on to s at once.
    expect(await admit('p')).toEqual({ admitted: false, reason: 'circuit_open', handedTo: handed('s'), waitMs: 0 });
    expect(await guard.handedStart(callback, 'p')).toBeNull();
    expect(await guard.handedStart(callback, 's')).toBe(clock.time);
  });

  it('keeps a handed slot for its job until the job runs, however late: the lease starts at pick-up', async () => {
    await admit('a');
    await admit('b');
    await admit('parked');
    expect(await release('a', true)).toEqual({ transition: 'ok', handedTo: handed('parked') });
    // The woken job sits behind a long wait list for ten lease times: its slot is not given away.
    clock.time += 10 * leaseMs();
    await admit('b'); // still being sent
    expect(await admit('newcomer')).toEqual({ admitted: false, reason: 'in_flight_cap', handedTo: null, waitMs: 0 });
    expect(await admit('parked')).toEqual({ admitted: true });
    expect(await guard.holdsLease(callback, 'parked')).toBe(true);
    // From its pick-up, it has a lease like any delivery: the next ends with its lease's time.
    clock.time += leaseMs() - 1;
    expect(await admit('late')).toEqual({ admitted: false, reason: 'in_flight_cap', handedTo: null, waitMs: 0 });
    clock.time += 2;
    expect(await admit('later')).toEqual({ admitted: false, reason: 'in_flight_cap', handedTo: handed('newcomer'), waitMs: 0 });
  });

  it('finds lost wakes once per callback: free slots go to the first parked jobs, unused hand-overs are listed again', async () => {
    await admit('a');
    await admit('b');
    await admit('p1');
    await admit('p2');
    await admit('p3');
    // Nothing lost: nothing to do.
    expect(await guard.findLostWakes(callback, limits, 15_000)).toEqual({ handed: [], stale: [] });
    expect(await guard.parkedCallbacks(shard())).toContain(member());
    // Both workers die: their leases run out, and no delivery ends to hand the slots on.
    clock.time += leaseMs() + 1;
    expect(await guard.findLostWakes(callback, limits, 15_000)).toEqual({ handed: [handed('p1'), handed('p2')], stale: [] });
    // p1 runs; p2's wake is lost too: a pass later it is listed again, and only it.
    expect(await admit('p1')).toEqual({ admitted: true });
    clock.time += 15_001;
    expect(await guard.findLostWakes(callback, limits, 15_000)).toEqual({ handed: [], stale: ['p2'] });
    // Once nothing is parked or handed, the callback leaves the shard's set.
    await admit('p2');
    await release('p1', true);
    await release('p2', true);
    expect(await admit('p3')).toEqual({ admitted: true });
    await guard.findLostWakes(callback, limits, 15_000);
    expect(await guard.parkedCallbacks(shard())).not.toContain(member());
  });

  it('over ratePerSecond, reserves the first in line a slot from when a start is free; the jobs behind it park', async () => {
    const rated = { maxInFlight: 3, ratePerSecond: 2 };
    const start = clock.time;
    expect(await guard.admit(callback, 'a', rated)).toEqual({ admitted: true });
    expect(await guard.admit(callback, 'b', rated)).toEqual({ admitted: true });
    // Third start in the same second: c's slot starts 1 s after a's, and only c gets a timed wake.
    expect(await guard.admit(callback, 'c', rated)).toEqual({ admitted: false, reason: 'rate_limited', handedTo: null, waitMs: 1000 });
    expect(await guard.handedStart(callback, 'c')).toBe(start + 1000);
    // The cap (a, b, c's reserved slot) is full: d parks without a timer.
    expect(await guard.admit(callback, 'd', rated)).toEqual({ admitted: false, reason: 'in_flight_cap', handedTo: null, waitMs: 0 });
    // c woken early (a late duplicate wake) waits again until its start; on time, it runs.
    clock.time += 400;
    expect(await guard.admit(callback, 'c', rated)).toEqual({ admitted: false, reason: 'rate_limited', handedTo: null, waitMs: 600 });
    // a ends: its slot goes to d, from the next free start (1 s after b's).
    expect(await guard.release(callback, 'a', true, rated)).toEqual({ transition: 'ok', handedTo: { jobId: 'd', startAt: start + 1000 } });
    clock.time = start + 1000;
    expect(await guard.admit(callback, 'c', rated)).toEqual({ admitted: true });
    expect(await guard.admit(callback, 'd', rated)).toEqual({ admitted: true });
    expect(await guard.admit(callback, 'e', rated)).toMatchObject({ admitted: false, reason: 'in_flight_cap' });
    expect(await guard.release(callback, 'b', true, rated)).toEqual({ transition: 'ok', handedTo: { jobId: 'e', startAt: start + 2000 } });
  });

  it('holds two workers to ratePerSecond together: at most 20 starts in any one-second window, and no job asks more than twice', async () => {
    const otherWorker = new CallbackGuard(environment.config, clock);
    try {
      const workers = [guard, otherWorker];
      const rated = { maxInFlight: 10, ratePerSecond: 20 };
      const jobs = Array.from({ length: 200 }, (_, index) => `job-${index}`);
      const origin = clock.time;
      /** What happens next, in time order: a job runs (asks for a slot) or a delivery ends (50 ms after its start). */
      const events: Array<{ at: number; kind: 'run' | 'end'; jobId: string; worker: number }> = jobs.map((jobId, index) => ({
        at: origin,
        kind: 'run',
        jobId,
        worker: index % 2,
      }));
      const asks = new Map<string, number>();
      const starts: number[] = [];
      const wake = (handedTo: HandOver | null) => {
        if (handedTo) events.push({ at: handedTo.startAt, kind: 'run', jobId: handedTo.jobId, worker: starts.length % 2 });
      };
      while (events.length > 0) {
        events.sort((x, y) => x.at - y.at);
        const event = events.shift()!;
        clock.time = Math.max(clock.time, event.at);
        const worker = workers[event.worker];
        if (event.kind === 'end') {
          wake((await worker.release(callback, event.jobId, true, rated)).handedTo);
          continue;
        }
        asks.set(event.jobId, (asks.get(event.jobId) ?? 0) + 1);
        const admission = await worker.admit(callback, event.jobId, rated);
        if (admission.admitted) {
          starts.push(clock.time);
          events.push({ at: clock.time + 50, kind: 'end', jobId: event.jobId, worker: event.worker });
        } else {
          wake(admission.handedTo);
          if (admission.reason === 'rate_limited') events.push({ ...event, at: clock.time + admission.waitMs });
        }
      }
      expect(starts).toHaveLength(200);
      const busiestSecond = Math.max(...starts.map((at) => starts.filter((other) => other >= at && other < at + 1000).length));
      expect(busiestSecond).toBe(20);
      // 200 starts at 20 a second: the last within 10 s of the first; waiting cost no polling.
      expect(starts[starts.length - 1] - origin).toBeLessThan(10_000);
      expect(Math.max(...asks.values())).toBeLessThanOrEqual(2);
    } finally {
      await otherWorker.onApplicationShutdown();
    }
  });

  it('logs attempt starts in order and returns each start: a worker whose clock reads behind the last start takes its time', async () => {
    const paced = { maxInFlight: 10, ratePerSecond: 2 };
    const start = clock.time;
    expect(await guard.startAttempt(callback, 'a', paced)).toBe(start);
    clock.time = start - 10; // another worker's clock, a little behind
    expect(await guard.startAttempt(callback, 'b', paced)).toBe(start);
    // The third waits (a real second) until a start leaves the last second; its clock has moved on by then.
    const third = guard.startAttempt(callback, 'c', paced);
    clock.time = start + 1000;
    expect(await third).toBe(start + 1000);
  });

  const shard = () => callbackShard(environment.config, callback.partnerId, callback.notificationTypeId);
  const member = () => parkedCallbackMember(callback.partnerId, callback.notificationTypeId);
});
