import { createPublicKey } from 'node:crypto';
import { caCertificateProblem } from '@callbacks/contracts';
import { TestPki } from '@callbacks/testing';
import { type ApiTestApp, expectProblem, startApiTestApp, type TestPartner } from './api-test-app';

const URL = 'https://partner.example.com/hooks';
const AUTH = {
  type: 'oauth2_client_credentials',
  tokenUrl: 'https://auth.partner.example.com/oauth2/token',
  clientId: 'partner-callbacks',
  clientSecret: 'client-secret-0123456789-abcdef',
  scope: 'webhooks:write',
};

interface CallbackRow {
  signature_scheme: string;
  ed25519_secret_key_encrypted: string | null;
  ed25519_public_key: string | null;
  auth_client_secret_encrypted: string | null;
  tls_ca_certificate: string | null;
}

describe('callback transport settings: signature, tls and auth', () => {
  const pki = new TestPki();
  const ca = pki.certificateAuthority('partner-ca');
  const secondCa = pki.certificateAuthority('partner-ca-2');
  const leaf = pki.issue('partner-endpoint', ca, 'server');
  let api: ApiTestApp;
  let partner: TestPartner;
  let base: string;
  /** Every answer body of this file, to prove no secret ever comes back. */
  const answers: string[] = [];

  beforeAll(async () => {
    api = await startApiTestApp();
  });
  beforeEach(async () => {
    partner = await api.createPartner();
    base = `/${partner.partnerUniqueId}/callbacks`;
  });
  afterAll(async () => {
    await api.close();
    pki.remove();
  });

  async function put(type: number, body: object, status: number) {
    const response = await api.http.put(`${base}/${type}`).set(partner.auth).send(body);
    answers.push(response.text);
    expect(response.status).toBe(status);
    return response;
  }

  async function get(path: string, status = 200) {
    const response = await api.http.get(`${base}/${path}`).set(partner.auth);
    answers.push(response.text);
    expect(response.status).toBe(status);
    return response;
  }

  async function row(type: number): Promise<CallbackRow> {
    const [found] = (await api.dataSource.query(
      `SELECT signature_scheme, ed25519_secret_key_encrypted, ed25519_public_key, auth_client_secret_encrypted, tls_ca_certificate
         FROM callbacks WHERE partner_id = $1 AND notification_type_id = $2`,
      [partner.partnerUniqueId, type],
    )) as CallbackRow[];
    return found;
  }

  it('ed25519: a key pair made by us, the private key encrypted, the public key served and kept across PUTs', async () => {
    const created = await put(5, { callbackUrl: URL, signature: 'ed25519' }, 201);
    expect(created.body).toMatchObject({ signature: 'ed25519', tls: null, auth: null, signingSecret: expect.stringMatching(/^whsec_/) });
    const { body: key } = await get('5/public-key');
    expect(key).toEqual({ publicKey: expect.stringMatching(/^whpk_[A-Za-z0-9+/]{43}=$/) });
    const stored = await row(5);
    expect(stored.ed25519_public_key).toBe(key.publicKey);
    expect(stored.ed25519_secret_key_encrypted).toMatch(/^v1\./);
    expect(stored.ed25519_secret_key_encrypted).not.toContain('whsk_');

    // Replaced without the field: hmac, and no public key; asked for again: the same key pair.
    expect((await put(5, { callbackUrl: URL }, 200)).body.signature).toBe('hmac');
    expectProblem(await get('5/public-key', 404), 404, 'public_key_not_found');
    await put(5, { callbackUrl: URL, signature: 'both' }, 200);
    expect((await get('5/public-key')).body).toEqual(key);
    expect((await row(5)).ed25519_secret_key_encrypted).toBe(stored.ed25519_secret_key_encrypted);
  });

  it('the published key is a raw 32-byte Ed25519 key that Node’s crypto accepts', async () => {
    await put(6, { callbackUrl: URL, signature: 'ed25519' }, 201);
    const { publicKey } = (await get('6/public-key')).body as { publicKey: string };
    const raw = Buffer.from(publicKey.slice('whpk_'.length), 'base64');
    expect(raw).toHaveLength(32);
    // What a partner's verifier does with it (the delivery tests verify real signatures with it).
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
    expect(key.asymmetricKeyType).toBe('ed25519');
  });

  it('rotation: hmac rotates the secret only; ed25519 and both also the key pair, the old key listed for 24 hours', async () => {
    await put(5, { callbackUrl: URL }, 201);
    const hmacOnly = await api.http.post(`${base}/5/secret/rotate`).set(partner.auth).expect(200);
    expect(hmacOnly.body).toEqual({ signingSecret: expect.stringMatching(/^whsec_/) });

    await put(6, { callbackUrl: URL, signature: 'both' }, 201);
    const before = (await get('6/public-key')).body as { publicKey: string };
    const rotated = await api.http.post(`${base}/6/secret/rotate`).set(partner.auth).expect(200);
    answers.push(rotated.text);
    expect(rotated.body).toEqual({ signingSecret: expect.stringMatching(/^whsec_/), publicKey: expect.stringMatching(/^whpk_/) });
    expect(rotated.body.publicKey).not.toBe(before.publicKey);
    expect((await get('6/public-key')).body).toEqual({ publicKey: rotated.body.publicKey, previousPublicKey: before.publicKey });

    // After the 24 hours, only the new key.
    await api.dataSource.query(`UPDATE callbacks SET previous_ed25519_expires_at = now() - interval '1 second' WHERE partner_id = $1`, [
      partner.partnerUniqueId,
    ]);
    expect((await get('6/public-key')).body).toEqual({ publicKey: rotated.body.publicKey });
  });

  it('tls.caCertificate: a CA bundle is kept and shown; anything else is a 400 naming tls.caCertificate, storing nothing', async () => {
    const bundle = `${ca.cert}${secondCa.cert}`;
    const created = await put(5, { callbackUrl: URL, tls: { caCertificate: bundle } }, 201);
    expect(created.body.tls).toEqual({ caCertificate: bundle });
    expect((await get('5')).body.tls).toEqual({ caCertificate: bundle });

    const counts = await api.tableCounts();
    const refused: Array<[unknown, RegExp]> = [
      [{ caCertificate: 'not a certificate' }, /must be PEM text/],
      [{ caCertificate: leaf.cert }, /is not a CA certificate/],
      [{ caCertificate: `${ca.cert}${leaf.key}` }, /certificates only/],
      [{ caCertificate: `${ca.cert}\ntrailing text` }, /nothing but PEM certificates/],
      [{ caCertificate: ca.cert.repeat(6) }, /at most 5 certificates/],
      [{ caCertificate: `${ca.cert}${' '.repeat(16 * 1024)}` }, /at most 16384 characters/],
      [{ caCertificate: ca.cert.replace(/[A-Za-z]{20}/, 'A'.repeat(20)) }, /does not parse/],
      [{ caCertificate: 42 }, /must be a string/],
      [{ caCertificate: ca.cert, pin: 'x' }, /is not a known field/],
      ['pem', /./],
    ];
    for (const [tls, message] of refused) {
      const problem = expectProblem(await put(6, { callbackUrl: URL, tls }, 400), 400, 'validation_failed');
      expect(problem.errors[0].field).toMatch(/^tls/);
      expect(problem.errors[0].message).toMatch(message);
    }
    // A pasted private key is not echoed back.
    expect(answers.join('\n')).not.toContain(leaf.key.split('\n')[1]);
    expect(await api.tableCounts()).toEqual(counts);
    // A CA past its validity is refused too (checked here with a clock 60 days ahead: the test CA lives 30).
    expect(caCertificateProblem(ca.cert, Date.now() + 60 * 86_400_000)).toMatch(/^the certificate expired on /);
    // PUT without tls: back to the public roots.
    expect((await put(5, { callbackUrl: URL }, 200)).body.tls).toBeNull();
  });

  it('auth: shown without the secret, the secret encrypted and kept while the token URL and client stay the same', async () => {
    const created = await put(5, { callbackUrl: URL, auth: AUTH }, 201);
    const { clientSecret, ...shown } = AUTH;
    expect(created.body.auth).toEqual(shown);
    const stored = await row(5);
    expect(stored.auth_client_secret_encrypted).toMatch(/^v1\./);
    expect(
      JSON.stringify(await api.dataSource.query(`SELECT * FROM callbacks WHERE partner_id = $1`, [partner.partnerUniqueId])),
    ).not.toContain(clientSecret);

    // The same token URL and client id without the secret: the stored one stays (the scope may change).
    const rescoped = await put(5, { callbackUrl: URL, auth: { ...shown, scope: 'webhooks:read' } }, 200);
    expect(rescoped.body.auth.scope).toBe('webhooks:read');
    expect((await row(5)).auth_client_secret_encrypted).toBe(stored.auth_client_secret_encrypted);
    // Another token URL without the secret: refused, and nothing changes.
    const moved = expectProblem(
      await put(5, { callbackUrl: URL, auth: { ...shown, tokenUrl: 'https://elsewhere.example.com/token' } }, 400),
      400,
      'validation_failed',
    );
    expect(moved.errors).toEqual([
      { field: 'auth.clientSecret', message: expect.stringMatching(/required when .* tokenUrl or clientId changes/) },
    ]);
    expect((await get('5')).body.auth.tokenUrl).toBe(AUTH.tokenUrl);
    // A new callback with auth needs the secret; removing auth removes the secret.
    expectProblem(await put(6, { callbackUrl: URL, auth: shown }, 400), 400, 'validation_failed');
    expect((await put(5, { callbackUrl: URL, auth: null }, 200)).body.auth).toBeNull();
    expect((await row(5)).auth_client_secret_encrypted).toBeNull();
  });

  it('auth: the token URL obeys the callback URL rules, and a custom Authorization header cannot sit beside it', async () => {
    const counts = await api.tableCounts();
    const cases: Array<[object, string, RegExp]> = [
      [{ ...AUTH, tokenUrl: 'http://auth.partner.example.com/token' }, 'auth.tokenUrl', /https/],
      [{ ...AUTH, tokenUrl: 'https://169.254.169.254/latest/token' }, 'auth.tokenUrl', /non-public/],
      [{ ...AUTH, tokenUrl: 'https://localhost/token' }, 'auth.tokenUrl', /public host/],
      [{ ...AUTH, type: 'basic' }, 'auth.type', /must be one of/],
      [{ ...AUTH, clientId: '' }, 'auth.clientId', /printable/],
      [{ ...AUTH, clientSecret: 'line\nbreak' }, 'auth.clientSecret', /printable/],
      [{ ...AUTH, scope: 'a  b' }, 'auth.scope', /scope tokens/],
      [{ ...AUTH, audience: 'x' }, 'auth.audience', /not a known field/],
    ];
    for (const [auth, field, message] of cases) {
      const problem = expectProblem(await put(5, { callbackUrl: URL, auth }, 400), 400, 'validation_failed');
      expect(problem.errors).toContainEqual({ field, message: expect.stringMatching(message) });
    }
    const header = expectProblem(
      await put(5, { callbackUrl: URL, auth: AUTH, headers: { authorization: 'Bearer partner-token' } }, 400),
      400,
      'validation_failed',
    );
    expect(header.errors).toEqual([{ field: 'headers.authorization', message: expect.stringMatching(/cannot be set with auth/) }]);
    expect(await api.tableCounts()).toEqual(counts);
  });

  it('signature must be hmac, ed25519 or both', async () => {
    const problem = expectProblem(await put(5, { callbackUrl: URL, signature: 'rsa' }, 400), 400, 'validation_failed');
    expect(problem.errors).toEqual([{ field: 'signature', message: expect.stringMatching(/hmac, ed25519, both/) }]);
  });

  it('no API answer ever carried a client secret or a private key', async () => {
    const everything = answers.join('\n');
    expect(everything).not.toContain(AUTH.clientSecret);
    expect(everything).not.toMatch(/whsk_/);
    expect(everything).not.toContain('PRIVATE KEY');
  });
});
