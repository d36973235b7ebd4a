import { TestPki } from '@callbacks/testing';
import { type ApiTestApp, type PortalTestSession, portalTestSession, startApiTestApp, type TestPartner } from './api-test-app';

/** The portal's callback form with the transport settings: signature, CA certificate, OAuth2. */
describe('portal: signature, CA certificate and OAuth2 in the callback form', () => {
  const pki = new TestPki();
  const ca = pki.certificateAuthority('portal-partner-ca');
  const clientSecret = 'portal-client-secret-0123456789';
  let api: ApiTestApp;
  let partner: TestPartner;
  let page: PortalTestSession['page'];
  let submit: PortalTestSession['submit'];

  beforeAll(async () => {
    api = await startApiTestApp();
    partner = await api.createPartner();
    ({ page, submit } = await portalTestSession(api, partner));
  });
  afterAll(async () => {
    await api.close();
    pki.remove();
  });

  const form = {
    callbackUrl: 'https://partner.example.com/hooks',
    headers: '',
    enabled: 'true',
    signature: 'ed25519',
    caCertificate: ca.cert,
    authEnabled: 'true',
    authTokenUrl: 'https://auth.partner.example.com/token',
    authClientId: 'portal-client',
    authClientSecret: clientSecret,
    authScope: 'webhooks:write',
  };

  it('saves them, shows the public key and the settings, never the client secret', async () => {
    await submit('/callbacks/5', form).expect(303);
    const callback = (await api.http.get(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth).expect(200)).body;
    expect(callback).toMatchObject({
      signature: 'ed25519',
      tls: { caCertificate: ca.cert },
      auth: { type: 'oauth2_client_credentials', tokenUrl: form.authTokenUrl, clientId: 'portal-client', scope: 'webhooks:write' },
    });
    const { publicKey } = (await api.http.get(`/${partner.partnerUniqueId}/callbacks/5/public-key`).set(partner.auth).expect(200)).body;
    const html = (await page('/callbacks').expect(200)).text;
    expect(html).toContain(publicKey);
    expect(html).toContain(form.authTokenUrl);
    expect(html).toContain('<option value="ed25519"  selected>');
    expect(html).not.toContain(clientSecret);
  });

  it('keeps the stored client secret when the field is left empty, and keeps everything on disable and enable', async () => {
    const [{ auth_client_secret_encrypted: before }] = (await api.dataSource.query(
      `SELECT auth_client_secret_encrypted FROM callbacks WHERE partner_id = $1 AND notification_type_id = 5`,
      [partner.partnerUniqueId],
    )) as Array<{ auth_client_secret_encrypted: string }>;
    await submit('/callbacks/5', { ...form, authClientSecret: '' }).expect(303);
    await submit('/callbacks/5/disable', {}).expect(303);
    await submit('/callbacks/5/enable', {}).expect(303);
    const callback = (await api.http.get(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth).expect(200)).body;
    expect(callback).toMatchObject({
      enabled: true,
      signature: 'ed25519',
      tls: { caCertificate: ca.cert },
      auth: { clientId: 'portal-client' },
    });
    const [{ auth_client_secret_encrypted: after }] = (await api.dataSource.query(
      `SELECT auth_client_secret_encrypted FROM callbacks WHERE partner_id = $1 AND notification_type_id = 5`,
      [partner.partnerUniqueId],
    )) as Array<{ auth_client_secret_encrypted: string }>;
    expect(after).toBe(before);
  });

  it('shows the API’s messages beside the fields they are about', async () => {
    const leaf = pki.issue('portal-leaf', ca, 'server');
    const badCa = await submit('/callbacks/6', { ...form, caCertificate: leaf.cert }).expect(400);
    expect(badCa.text).toMatch(/id="cb6-caCertificate"[^>]*aria-invalid="true"/);
    expect(badCa.text).toContain('is not a CA certificate');
    const badTokenUrl = await submit('/callbacks/6', { ...form, authTokenUrl: 'http://auth.partner.example.com/token' }).expect(400);
    expect(badTokenUrl.text).toMatch(/id="cb6-authTokenUrl"[^>]*aria-invalid="true"/);
    expect(badTokenUrl.text).not.toContain(clientSecret);
    expect((await api.http.get(`/${partner.partnerUniqueId}/callbacks/6`).set(partner.auth)).status).toBe(404);
  });
});
