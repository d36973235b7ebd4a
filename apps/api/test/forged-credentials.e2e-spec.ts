import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { waitUntil } from '@callbacks/testing';
import { CredentialMac } from '../src/auth/credential-mac';
import { type ApiTestApp, expectProblem, startApiTestApp, type TestPartner } from './api-test-app';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const random43 = () => randomBytes(32).toString('base64url');
/** A real key with its last character changed (never to itself: a key ending in "A" stays itself with "A"). */
const tampered = (key: string) => `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
/** A backend reports its statistics when idle, at most once a second and within about 10 s (PostgreSQL 15). */
const STATS_SETTLE_MS = 11_000;

describe('forged credentials are refused before the database (issue 18)', () => {
  let api: ApiTestApp;
  let stats: Client;
  let partner: TestPartner;
  let legacyKey: string;

  /**
   * What the test's database did to its tables: scans (sequential and index) and rows written, from
   * pg_stat_user_tables. Every credential lookup reads a table, so this sees each one. Transactions
   * (pg_stat_database) cannot be counted here: an autovacuum worker visiting the database adds one
   * or two, whatever its tables' settings, and with the suite's many databases it visits at any time.
   */
  async function tableActivity(): Promise<number> {
    await stats.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await stats.query<{ n: string }>(
      'SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0) + n_tup_ins + n_tup_upd + n_tup_del), 0) AS n FROM pg_stat_user_tables',
    );
    return Number(rows[0].n);
  }

  async function settledActivity(): Promise<number> {
    await new Promise((resolve) => setTimeout(resolve, STATS_SETTLE_MS));
    return tableActivity();
  }

  beforeAll(async () => {
    api = await startApiTestApp({ TRUST_PROXY: 'loopback', AUTH_FAILURE_LIMIT_PER_MINUTE: '30' });
    // Its own connection to the test's database: reading the statistics views scans none of its tables.
    stats = new Client({ connectionString: api.environment.databaseUrl });
    await stats.connect();
    partner = await api.createPartner();
    // A key of the previous release: no MAC, stored as its hash like any key.
    legacyKey = `pck_${random43()}`;
    await api.dataSource.query(`INSERT INTO api_keys (id, partner_id, key_hash, key_prefix) VALUES ($1, $2, $3, $4)`, [
      randomUUID(),
      partner.partnerUniqueId,
      sha256(legacyKey),
      legacyKey.slice(0, 12),
    ]);
  });
  afterAll(async () => {
    await stats?.end();
    await api?.close();
  });

  it('keys issued now carry a MAC; a key of the previous release keeps working', async () => {
    expect(partner.apiKey).toMatch(/^pck_[A-Za-z0-9_-]{65}$/);
    expect(api.app.get(CredentialMac).verify('api-key', partner.apiKey.slice(4))).toBe(true);
    await api.http
      .get(`/${partner.partnerUniqueId}/callbacks`)
      .set({ Authorization: `Bearer ${legacyKey}` })
      .expect(200);
    await api.http.get(`/${partner.partnerUniqueId}/callbacks`).set(partner.auth).expect(200);
    const [{ mac_format }] = (await api.dataSource.query(`SELECT mac_format FROM api_keys WHERE key_hash = $1`, [
      sha256(partner.apiKey),
    ])) as Array<{
      mac_format: boolean;
    }>;
    expect(mac_format).toBe(true);
  });

  it('forged API keys, session cookies and sign-in tokens cost PostgreSQL nothing; a well-formed unknown key costs one lookup', async () => {
    const mac = api.app.get(CredentialMac);
    const id = partner.partnerUniqueId;
    // Each request from its own address, so none reaches the refused-credential limit.
    let address = 0;
    const from = () => ({ 'X-Forwarded-For': `198.51.100.${(address++ % 250) + 1}` });
    // The old key still works (its hashes are read once a minute; the forged ones below are not of its shape).
    await api.http
      .get(`/${id}/callbacks`)
      .set(from())
      .set({ Authorization: `Bearer ${legacyKey}` })
      .expect(200);
    const before = await settledActivity();

    const refusals: number[] = [];
    for (let i = 0; i < 60; i++) {
      const forgedKey = [
        `pck_${random43()}${random43().slice(0, 22)}`,
        `pck_${random43().slice(0, 42)}!`,
        random43(),
        tampered(partner.apiKey),
      ][i % 4];
      refusals.push(
        (
          await api.http
            .get(`/${id}/callbacks`)
            .set(from())
            .set({ Authorization: `Bearer ${forgedKey}` })
        ).status,
      );
      refusals.push(
        (
          await api.http
            .get(`/${id}/callbacks`)
            .set(from())
            .set('Cookie', `portal_session=${random43()}${random43().slice(0, 22)}`)
        ).status,
      );
      refusals.push((await api.http.get(`/portal/sign-in/${random43()}${random43().slice(0, 22)}`).set(from())).status);
      refusals.push(
        (
          await api.http
            .post(`/portal/sign-in/${random43()}`)
            .set(from())
            .set({ Host: '127.0.0.1', Origin: 'http://127.0.0.1', 'Sec-Fetch-Site': 'same-origin' })
            .type('form')
            .send('')
        ).status,
      );
    }
    expect(new Set(refusals)).toEqual(new Set([401, 404]));
    expect(await settledActivity()).toBe(before);

    // The measurement sees the API's queries: a key with a valid MAC that names no key is looked up once...
    const unknownKey = `pck_${mac.generate('api-key')}`;
    expectProblem(
      await api.http
        .get(`/${id}/callbacks`)
        .set(from())
        .set({ Authorization: `Bearer ${unknownKey}` }),
      401,
      'unauthorized',
    );
    await waitUntil(async () => (await tableActivity()) > before, STATS_SETTLE_MS + 5_000, 'the lookup counted');
    const afterOne = await settledActivity();
    // ...and then remembered: asking again costs nothing.
    for (let i = 0; i < 20; i++)
      await api.http
        .get(`/${id}/callbacks`)
        .set(from())
        .set({ Authorization: `Bearer ${unknownKey}` })
        .expect(401);
    expect(await settledActivity()).toBe(afterOne);

    // A key of the old format (no MAC) is told from a forged one by the active old keys' hashes, read
    // at most once a minute however many arrive: 30 forged ones cost at most that one read.
    for (let i = 0; i < 30; i++)
      await api.http
        .get(`/${id}/callbacks`)
        .set(from())
        .set({ Authorization: `Bearer pck_${random43()}` })
        .expect(401);
    expect((await settledActivity()) - afterOne).toBeLessThanOrEqual(1);
  }, 150_000);

  it('an address sending many refused credentials gets 429 for refused ones, its valid keys and other addresses (behind the trusted proxy) are not affected', async () => {
    const id = partner.partnerUniqueId;
    const attacker = { 'X-Forwarded-For': '203.0.113.7' };
    const neighbour = { 'X-Forwarded-For': '203.0.113.8' };
    const statuses: number[] = [];
    for (let i = 0; i < 35; i++)
      statuses.push(
        (
          await api.http
            .get(`/${id}/callbacks`)
            .set(attacker)
            .set({ Authorization: `Bearer pck_${random43()}` })
        ).status,
      );
    expect(statuses.slice(0, 30)).toEqual(Array(30).fill(401));
    expect(statuses.slice(30)).toEqual(Array(5).fill(429));
    const limited = await api.http
      .get(`/${id}/callbacks`)
      .set(attacker)
      .set({ Authorization: `Bearer pck_${random43()}` });
    expect(expectProblem(limited, 429, 'rate_limited').detail).toContain('too many refused credentials from this address');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // A valid key from that address still works: behind one NAT (or a load balancer without
    // TRUST_PROXY), one client's stale key must not lock every client out.
    await api.http.get(`/${id}/callbacks`).set(attacker).set(partner.auth).expect(200);
    expect((await api.http.get(`/portal/sign-in/${random43()}`).set(attacker)).status).toBe(429);
    await api.http.get(`/${id}/callbacks`).set(neighbour).set(partner.auth).expect(200);
    expectProblem(await api.http.get(`/${id}/callbacks`).set(neighbour).set({ Authorization: 'Bearer forged' }), 401, 'unauthorized');
  });
});

describe('without TRUST_PROXY, X-Forwarded-For does not name the address', () => {
  let api: ApiTestApp;
  beforeAll(async () => {
    api = await startApiTestApp({ AUTH_FAILURE_LIMIT_PER_MINUTE: '5' });
  });
  afterAll(() => api?.close());

  it('a client cannot dodge the limit by inventing forwarded addresses', async () => {
    const partner = await api.createPartner();
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++)
      statuses.push(
        (
          await api.http
            .get(`/${partner.partnerUniqueId}/callbacks`)
            .set({ 'X-Forwarded-For': `192.0.2.${i + 1}`, Authorization: `Bearer forged-${i}` })
        ).status,
      );
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
  });
});
