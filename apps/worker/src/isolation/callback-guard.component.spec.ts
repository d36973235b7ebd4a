import { createTestEnvironment, type TestEnvironment } from '@callbacks/testing';
import { CallbackGuard } from './callback-guard';
import type { Clock } from './clock';

/**
 * The guard's Lua scripts against a real Redis, with an explicit clock: leases, the waiting list,
 * hand-overs and the circuit, each step asked of the scripts directly (no worker, no HTTP, no sleep).
 */
describe('CallbackGuard (component: its scripts on Redis)', () => {
  const PARK_TTL_MS = 600_000;
  const LIMITS = { maxInFlight: 2, ratePerSecond: null };
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

  const admit = (jobId: string) => guard.admit(callback, jobId, LIMITS, PARK_TTL_MS);

  it('admits up to the cap, parks the rest in arrival order, and hands each freed slot to the longest-waiting job', async () => {
    expect(await admit('a')).toEqual({ admitted: true });
    expect(await admit('b')).toEqual({ admitted: true });
    expect(await admit('c')).toEqual({ admitted: false, reason: 'in_flight_cap', handedTo: null });
    clock.time += 1;
    expect(await admit('d')).toEqual({ admitted: false, reason: 'in_flight_cap', handedTo: null });

    expect(await guard.release(callback, 'a', true, LIMITS)).toEqual({ transition: 'ok', handedTo: 'c' });
    // The woken job finds its lease in place; the one still waiting stays parked.
    expect(await guard.holdsLease(callback, 'c')).toBe(true);
    expect(await admit('c')).toEqual({ admitted: true });
    expect(await guard.release(callback, 'b', null, LIMITS)).toEqual({ transition: 'ok', handedTo: 'd' });
    expect(await admit('d')).toEqual({ admitted: true });
  });

  it('does not let a newcomer overtake a parked job when a lease expires, and gives that slot to the parked job', async () => {
    await admit('a');
    await admit('b');
    expect(await admit('parked')).toMatchObject({ admitted: false, reason: 'in_flight_cap' });
    // a's worker died: its lease runs out. A newcomer arriving now parks behind the waiting job and hands it the slot.
    clock.time += leaseMs() + 1;
    await admit('b'); // b is still being sent: renewing its lease keeps its slot
    expect(await admit('newcomer')).toEqual({ admitted: false, reason: 'in_flight_cap', handedTo: 'parked' });
    expect(await admit('parked')).toEqual({ admitted: true });
    expect(await guard.holdsLease(callback, 'a')).toBe(false);
    // The next freed slot goes to the newcomer, now first in line.
    expect(await guard.release(callback, 'b', true, LIMITS)).toEqual({ transition: 'ok', handedTo: 'newcomer' });
  });

  it('opens the circuit after the threshold of consecutive failures, lets one probe through after the open time, and closes on its success', async () => {
    const fail = async (jobId: string) => {
      expect(await admit(jobId)).toEqual({ admitted: true });
      return (await guard.release(callback, jobId, false, LIMITS)).transition;
    };
    expect([await fail('f1'), await fail('f2'), await fail('f3')]).toEqual(['degraded', 'degraded', 'opened']);
    expect(await admit('held')).toEqual({ admitted: false, reason: 'circuit_open', handedTo: null });

    clock.time += 30_000;
    expect(await admit('probe')).toEqual({ admitted: true });
    expect(await admit('second')).toEqual({ admitted: false, reason: 'circuit_probing', handedTo: null });
    expect(await guard.release(callback, 'probe', true, LIMITS)).toEqual({ transition: 'closed', handedTo: null });
    expect(await admit('after')).toEqual({ admitted: true });
  });

  it('reopens the circuit when the probe fails, and a release without an attempt changes nothing', async () => {
    for (const jobId of ['f1', 'f2', 'f3']) {
      await admit(jobId);
      await guard.release(callback, jobId, false, LIMITS);
    }
    clock.time += 30_000;
    expect(await admit('probe')).toEqual({ admitted: true });
    expect(await guard.release(callback, 'probe', false, LIMITS)).toEqual({ transition: 'open', handedTo: null });
    expect(await admit('held')).toEqual({ admitted: false, reason: 'circuit_open', handedTo: null });
    clock.time += 30_000;
    expect(await admit('probe-2')).toEqual({ admitted: true });
    expect(await guard.release(callback, 'probe-2', null, LIMITS)).toEqual({ transition: 'ok', handedTo: null });
    // The probe sent nothing: the circuit is as it was, and the next delivery may probe.
    expect(await admit('probe-3')).toEqual({ admitted: true });
  });

  it('hands on the slot of a woken job that finds the circuit open, instead of keeping it', async () => {
    await admit('a');
    await admit('b');
    await admit('p'); // parked
    expect(await guard.release(callback, 'a', false, LIMITS)).toEqual({ transition: 'degraded', handedTo: 'p' });
    await admit('q'); // parked
    await admit('r'); // parked
    expect(await guard.release(callback, 'b', false, LIMITS)).toEqual({ transition: 'degraded', handedTo: 'q' });
    // q runs and fails too: the circuit opens, and q's slot goes to r; p (woken, not yet run) still holds one.
    expect(await admit('q')).toEqual({ admitted: true });
    await admit('s'); // parked behind r
    expect(await guard.release(callback, 'q', false, LIMITS)).toEqual({ transition: 'opened', handedTo: 'r' });
    // p runs now: held back by the open circuit, its slot goes on to s at once.
    expect(await admit('p')).toEqual({ admitted: false, reason: 'circuit_open', handedTo: 's' });
    expect(await guard.holdsLease(callback, 'p')).toBe(false);
    expect(await guard.holdsLease(callback, 's')).toBe(true);
  });
});
