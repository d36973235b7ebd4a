import type { StoredIdempotencyKey } from '@callbacks/persistence';
import { type IncomingNotification, planIntake, requestHash, settleIntake } from './intake-plan';

const PARTNER = '8d0f6c5e-2b1a-4c3d-9e8f-7a6b5c4d3e2f';
const item = (fields: Partial<IncomingNotification> = {}): IncomingNotification => ({
  partnerId: PARTNER,
  notificationTypeId: 5,
  payload: { processUniqueId: 'P-1' },
  payloadText: '{"processUniqueId":"P-1"}',
  test: false,
  requireCallback: false,
  ...fields,
});
const keyed = (key: string, fields: Partial<IncomingNotification> = {}) =>
  item({ idempotency: { caller: 'operator', key, field: 'Idempotency-Key' }, ...fields });
const enabled = { partnerExists: true, enabled: true, disabledReason: null };
let ids = 0;
const newId = () => `id-${++ids}`;

describe('planIntake', () => {
  beforeEach(() => (ids = 0));

  it('writes a notification per item: pending with an enabled callback, skipped without one or with a disabled one', () => {
    const plan = planIntake(
      [
        item(),
        item({ notificationTypeId: 6 }),
        item({ notificationTypeId: 7, payload: { simulationUniqueId: 'S-1' } }),
        item({ notificationTypeId: 5, payload: { processUniqueId: 'P-2' } }),
      ],
      [
        enabled,
        { partnerExists: true, enabled: null, disabledReason: null },
        { partnerExists: true, enabled: false, disabledReason: 'failing' },
        { partnerExists: true, enabled: false, disabledReason: 'partner' },
      ],
      new Map(),
      newId,
    );
    expect(plan.writes.map((write) => [write.index, write.notification.status, write.notification.statusReason])).toEqual([
      [0, 'pending', null],
      [1, 'skipped', 'no_callback'],
      [2, 'skipped', 'callback_disabled'],
      [3, 'skipped', 'callback_paused'],
    ]);
    expect(plan.writes[2].notification).toMatchObject({ processUniqueId: null, simulationUniqueId: 'S-1', idempotency: null });
    expect(plan.outcomes[0]).toEqual({ kind: 'accepted', response: { notificationId: 'id-1', status: 'pending' } });
  });

  it('refuses an unknown partner, and an echo without a callback', () => {
    const plan = planIntake(
      [item(), item({ requireCallback: true })],
      [
        { partnerExists: false, enabled: null, disabledReason: null },
        { partnerExists: true, enabled: null, disabledReason: null },
      ],
      new Map(),
      newId,
    );
    expect(plan.writes).toEqual([]);
    expect(plan.outcomes.map((outcome) => outcome?.kind === 'refused' && outcome.error.code)).toEqual([
      'partner_not_found',
      'callback_not_found',
    ]);
  });

  it('replays a fresh stored key for the same request, and refuses it for another request (422)', () => {
    const stored = (request: IncomingNotification, fields: Partial<StoredIdempotencyKey> = {}): StoredIdempotencyKey => ({
      notificationId: 'stored-id',
      responseStatus: 'pending',
      requestHash: requestHash(request),
      fresh: true,
      ...fields,
    });
    const same = keyed('k1');
    const other = keyed('k2', { payloadText: '{"processUniqueId":"P-2"}' });
    const legacy = keyed('k3');
    const plan = planIntake(
      [same, other, legacy],
      [enabled, enabled, enabled],
      new Map([
        ['operator\nk1', stored(same)],
        ['operator\nk2', stored(keyed('k2'))],
        // Stored before keys were bound to a request: it replays whatever is asked.
        ['operator\nk3', stored(legacy, { requestHash: null })],
      ]),
      newId,
    );
    expect(plan.writes).toEqual([]);
    expect(plan.outcomes[0]).toEqual({ kind: 'accepted', response: { notificationId: 'stored-id', status: 'pending' } });
    expect(plan.outcomes[1]).toMatchObject({ kind: 'refused', error: { status: 422, code: 'idempotency_key_reused' } });
    expect(plan.outcomes[2]).toEqual({ kind: 'accepted', response: { notificationId: 'stored-id', status: 'pending' } });
  });

  it('replaces a stored key whose window is over', () => {
    const request = keyed('k1');
    const plan = planIntake(
      [request],
      [enabled],
      new Map([['operator\nk1', { notificationId: 'old', responseStatus: 'pending', requestHash: null, fresh: false }]]),
      newId,
    );
    expect(plan.staleKeys).toEqual([request.idempotency]);
    expect(plan.writes[0].notification.idempotency).toEqual({ caller: 'operator', key: 'k1', requestHash: requestHash(request) });
  });

  it('answers a key used again in the same commit like its first use, or 422 for another request; keys are per caller', () => {
    const plan = planIntake(
      [keyed('k1'), keyed('k1'), keyed('k1', { notificationTypeId: 6 }), item({ idempotency: { caller: 'svc', key: 'k1', field: 'x' } })],
      [enabled, enabled, enabled, enabled],
      new Map(),
      newId,
    );
    expect(plan.writes.map((write) => write.index)).toEqual([0, 3]);
    expect(plan.sameAs).toEqual([[1, 0]]);
    expect(plan.outcomes[2]).toMatchObject({ kind: 'refused', error: { code: 'idempotency_key_reused' } });
    expect(settleIntake(plan, new Set(['id-1', 'id-2'])).outcomes[1]).toEqual({
      kind: 'accepted',
      response: { notificationId: 'id-1', status: 'pending' },
    });
  });
});

describe('settleIntake', () => {
  it('turns a write that lost its key to another transaction into a conflict, and so its later uses', () => {
    ids = 0;
    const plan = planIntake([keyed('k1'), item(), keyed('k1')], [enabled, enabled, enabled], new Map(), newId);
    const { outcomes, writes } = settleIntake(plan, new Set(['id-2']));
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['conflict', 'accepted', 'conflict']);
    expect(writes.map((write) => write.notification.id)).toEqual(['id-2']);
  });
});
