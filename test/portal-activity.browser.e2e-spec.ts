/// <reference lib="dom" />
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { containsText, launchChromium, listenForBrowser, openAndSignIn } from './support/browser';
import { type Partner, TestSystem } from './support/system';

const URL_A = 'https://partner.example.com/hooks/a';
const URL_B = 'https://partner.example.com/hooks/b';

/** A browser on a shared, loaded machine: each test gets more than jest's 30 s. */
const BROWSER_TEST_TIMEOUT_MS = 90_000;

describe("The portal's Activity page in a real browser (headless Chromium)", () => {
  let system: TestSystem;
  let browser: Browser;
  let baseUrl: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    system = await TestSystem.start({}, 0);
    baseUrl = await listenForBrowser(system);
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await system.close();
  });

  async function signIn(partner: Partner): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' });
    context.setDefaultTimeout(15_000);
    contexts.push(context);
    const page = await context.newPage();
    const { body } = await system.http.post(`/${partner.partnerUniqueId}/portal-links`).set(partner.auth).expect(201);
    await openAndSignIn(page, (body as { url: string }).url, partner.name);
    expect(page.url()).toBe(`${baseUrl}/portal/${partner.partnerUniqueId}`);
    return page;
  }

  it(
    "shows the signed-in partner its own changes, newest first, with who made them, and no other partner's",
    async () => {
      const partner = await system.createPartner('Acme Mortgages');
      const other = await system.createPartner('Other Bank');
      await system.http
        .put(`/${other.partnerUniqueId}/callbacks/6`)
        .set(other.auth)
        .send({ callbackUrl: 'https://other.example/hook' })
        .expect(201);
      const apiKeyId = (
        (await system.dataSource.query(`SELECT id FROM api_keys WHERE partner_id = $1`, [partner.partnerUniqueId])) as Array<{ id: string }>
      )[0].id;
      await system.http.put(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth).send({ callbackUrl: URL_A }).expect(201);

      const page = await signIn(partner);
      // The session changes the URL through the portal's own form.
      await page.getByRole('link', { name: 'Callbacks' }).click();
      const type5 = page.locator('#type-5');
      await type5.getByLabel('Callback URL').fill(URL_B);
      await type5.getByRole('button', { name: 'Save changes' }).click();
      await containsText(page.getByRole('status'), 'Callback saved');

      await page.getByRole('link', { name: 'Activity' }).click();
      expect(page.url()).toBe(`${baseUrl}/portal/${partner.partnerUniqueId}/activity`);
      expect(await page.getByRole('link', { name: 'Activity' }).getAttribute('aria-current')).toBe('page');
      const rows = page.locator('table.activity tbody tr');
      const texts = (await rows.allInnerTexts()).map((text) => text.replace(/\s+/g, ' '));
      // Newest first: the session's update, its sign-in, the key's link and callback, the operator's first key.
      expect(texts).toHaveLength(5);
      expect(texts[0]).toContain('Callback updated');
      expect(texts[0]).toContain('Portal session');
      expect(texts[0]).toContain('you');
      expect(texts[0]).toContain(`previousCallbackUrl ${URL_A}`);
      expect(texts[0]).toContain(`callbackUrl ${URL_B}`);
      expect(texts[0]).toContain('notification_type:5');
      expect(texts[1]).toContain('Signed in to the portal');
      expect(texts[2]).toContain('Portal link created');
      expect(texts[2]).toContain(`API key ${apiKeyId}`);
      expect(texts[3]).toContain('Callback created');
      expect(texts[4]).toContain('API key issued');
      expect(texts[4]).toContain('Operator');
      const html = await page.content();
      expect(html).not.toContain('other.example');
      expect(html).not.toContain(partner.auth.Authorization.split(' ')[1]);
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son[a-z]+=/i);
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'pages 50 entries at a time with the API cursor: Older, then Newest',
    async () => {
      const partner = await system.createPartner('Busy Bank');
      await system.http.put(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth).send({ callbackUrl: URL_A }).expect(201);
      // 52 reveals: with the first key, the callback, the portal link and the sign-in, 56 entries: 50, then 6.
      for (let n = 0; n < 52; n += 1) await system.http.get(`/${partner.partnerUniqueId}/callbacks/5/secret`).set(partner.auth).expect(200);
      const page = await signIn(partner);
      await page.getByRole('link', { name: 'Activity' }).click();
      const rows = page.locator('table.activity tbody tr');
      expect(await rows.count()).toBe(50);
      expect(await rows.first().innerText()).toContain('Signed in to the portal');
      await page.getByRole('link', { name: 'Older' }).click();
      const older = (await rows.allInnerTexts()).map((text) => text.replace(/\s+/g, ' '));
      expect(older).toHaveLength(6);
      expect(older[4]).toContain('Callback created');
      expect(older[5]).toContain('API key issued');
      expect(await page.getByRole('link', { name: 'Older' }).count()).toBe(0);
      await page.getByRole('link', { name: 'Newest' }).click();
      expect(await rows.count()).toBe(50);
    },
    BROWSER_TEST_TIMEOUT_MS,
  );
});
