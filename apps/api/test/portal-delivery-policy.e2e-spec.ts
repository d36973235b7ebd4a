import { type ApiTestApp, type PortalTestSession, portalTestSession, startApiTestApp, type TestPartner } from './api-test-app';

/** The portal's callback form with the delivery policy: shown, saved, validated beside its input, kept on disable and enable. */
describe('portal: the delivery policy in the callback form', () => {
  let api: ApiTestApp;
  let partner: TestPartner;
  let page: PortalTestSession['page'];
  let submit: PortalTestSession['submit'];

  beforeAll(async () => {
    api = await startApiTestApp({ DELIVERY_TIMEOUT_MS: '9000' });
    partner = await api.createPartner();
    ({ page, submit } = await portalTestSession(api, partner));
  });
  afterAll(() => api.close());

  const form = {
    callbackUrl: 'https://partner.example.com/hooks',
    headers: '',
    enabled: 'true',
    signature: 'hmac',
    caCertificate: '',
    deliveryOrdering: 'case',
    deliveryMaxInFlight: '40',
    deliveryRatePerSecond: '',
    deliveryTimeoutMs: '5000',
  };
  const delivery = async () =>
    (await api.http.get(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth).expect(200)).body.delivery as Record<string, unknown>;

  it('saves it, shows it, and keeps it on disable and enable', async () => {
    await submit('/callbacks/5', form).expect(303);
    expect(await delivery()).toEqual({ ordering: 'case', maxInFlight: 40, ratePerSecond: null, timeoutMs: 5000 });
    const html = (await page('/callbacks').expect(200)).text;
    expect(html).toContain('<option value="case"  selected>');
    expect(html).toContain('value="40"');
    expect(html).toContain('ordered per case · at most 40 in flight');
    expect((await page('').expect(200)).text).toContain('ordered per case');
    await submit('/callbacks/5/disable', {}).expect(303);
    await submit('/callbacks/5/enable', {}).expect(303);
    expect(await delivery()).toEqual({ ordering: 'case', maxInFlight: 40, ratePerSecond: null, timeoutMs: 5000 });
  });

  it('shows a bad value beside its input and stores nothing', async () => {
    const overCap = await submit('/callbacks/5', { ...form, deliveryTimeoutMs: '9001' }).expect(400);
    expect(overCap.text).toMatch(/id="cb5-deliveryTimeoutMs"[^>]*aria-invalid="true"/);
    expect(overCap.text).toContain('delivery timeout');
    const notANumber = await submit('/callbacks/5', { ...form, deliveryMaxInFlight: 'many' }).expect(400);
    expect(notANumber.text).toMatch(/id="cb5-deliveryMaxInFlight"[^>]*aria-invalid="true"/);
    expect(await delivery()).toEqual({ ordering: 'case', maxInFlight: 40, ratePerSecond: null, timeoutMs: 5000 });
  });
});
