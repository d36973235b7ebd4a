/// <reference lib="dom" />
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { TestReceiver } from '@callbacks/testing';
import { containsText, eventually, hasText, launchChromium, listenForBrowser, openAndSignIn } from './support/browser';
import { ADMIN, type Partner, TestSystem } from './support/system';

/** `PORTAL_SCREENSHOTS_DIR=docs/portal` regenerates the README's screenshots. */
const SCREENSHOTS = process.env.PORTAL_SCREENSHOTS_DIR ?? join(__dirname, '..', 'test-output', 'portal');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const hasCount = (locator: Locator, count: number) => eventually(async () => expect(await locator.count()).toBe(count));
const hasAttribute = (locator: Locator, name: string, value: string) =>
  eventually(async () => expect(await locator.getAttribute(name, { timeout: 2_000 })).toBe(value));

describe('The partner portal in a real browser (headless Chromium)', () => {
  let system: TestSystem;
  let receiver: TestReceiver;
  let browser: Browser;
  let baseUrl: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    // One retry, an hour later: a failed attempt stays visible until the test redelivers.
    system = await TestSystem.start({ RETRY_SCHEDULE: '1h', ECHO_RATE_LIMIT_PER_MINUTE: '1000' });
    baseUrl = await listenForBrowser(system);
    receiver = await TestReceiver.start();
    browser = await launchChromium();
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await receiver.close();
    await system.close();
  });

  async function newContext(options: { width?: number; height?: number } = {}): Promise<BrowserContext> {
    const context = await browser.newContext({
      viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
      timezoneId: 'America/Sao_Paulo',
      locale: 'en-GB',
    });
    context.setDefaultTimeout(15_000);
    contexts.push(context);
    return context;
  }

  /** A sign-in link made with the partner's own API key. */
  async function portalLink(partner: Partner): Promise<{ url: string; token: string; expiresAt: string }> {
    const response = await system.http.post(`/${partner.partnerUniqueId}/portal-links`).set(partner.auth).expect(201);
    const { url, expiresAt } = response.body as { url: string; expiresAt: string };
    return { url, expiresAt, token: url.split('/').pop()! };
  }

  async function signIn(
    partner: Partner,
    options: { width?: number; height?: number } = {},
  ): Promise<{ context: BrowserContext; page: Page; cookie: string }> {
    const context = await newContext(options);
    const page = await context.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    await openAndSignIn(page, (await portalLink(partner)).url, partner.name);
    expect(page.url()).toBe(`${baseUrl}/portal/${partner.partnerUniqueId}`);
    const [cookie] = await context.cookies();
    return { context, page, cookie: cookie.value };
  }

  async function reloadUntilVisible(page: Page, locator: Locator, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await locator.isVisible())) {
      if (Date.now() > deadline) throw new Error(`not visible after ${timeoutMs} ms: ${locator}`);
      await page.waitForTimeout(250);
      await page.reload();
    }
  }

  /** Every visible form control has a label; nothing is styled or scripted inline. */
  async function expectAccessibleAndStrict(page: Page): Promise<void> {
    const unlabelled = await page.evaluate(() =>
      Array.from(
        document.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>('input:not([type=hidden]), select, textarea'),
      )
        .filter((control) => (control.labels?.length ?? 0) === 0)
        .map((control) => control.outerHTML),
    );
    expect(unlabelled).toEqual([]);
    const html = await page.content();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son[a-z]+=/i);
  }

  async function screenshot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  it('signs in with a link, registers a callback, echoes, follows a failure and a redelivery, and rotates the secret', async () => {
    const partner = await system.createPartner('Acme Mortgages');
    const { page, context, cookie } = await signIn(partner);
    const id = partner.partnerUniqueId;

    // The session cookie, and what the database keeps of it.
    const [cookieInfo] = await context.cookies();
    expect(cookieInfo).toMatchObject({ name: 'portal_session', httpOnly: true, sameSite: 'Strict', secure: false, path: '/' });
    expect(cookieInfo.expires * 1000 - Date.now()).toBeGreaterThan(7.9 * 3600_000);
    const sessions = (await system.dataSource.query(`SELECT token_hash FROM portal_sessions WHERE partner_id = $1`, [id])) as Array<{
      token_hash: string;
    }>;
    expect(sessions).toEqual([{ token_hash: sha256(cookie) }]);

    // Security headers on every portal page.
    const overview = await page.request.get(`${baseUrl}/portal/${id}`);
    expect(overview.headers()).toMatchObject({
      'content-security-policy': expect.stringContaining("script-src 'self'"),
      'cache-control': 'no-store',
      'x-frame-options': 'DENY',
      'referrer-policy': 'same-origin',
    });
    expect(overview.headers()['content-security-policy']).not.toContain('unsafe-inline');
    await hasText(page.getByRole('heading', { level: 1 }), 'Overview');
    await expectAccessibleAndStrict(page);

    // Callbacks: the API's own validation message appears beside the field.
    await page.getByRole('link', { name: 'Callbacks' }).click();
    const type5 = page.locator('#type-5');
    await type5.getByLabel('Callback URL').fill('ftp://files.example.com/hooks');
    await type5.getByRole('button', { name: 'Create callback' }).click();
    const apiAnswer = await system.http
      .put(`/${id}/callbacks/5`)
      .set(partner.auth)
      .send({ callbackUrl: 'ftp://files.example.com/hooks' })
      .expect(400);
    await hasText(page.locator('#cb5-url-error'), apiAnswer.body.errors[0].message);
    await hasAttribute(type5.getByLabel('Callback URL'), 'aria-invalid', 'true');
    await type5.getByLabel('Custom headers (one per line, Name: value)').fill('Webhook-Id: mine');
    await type5.getByRole('button', { name: 'Create callback' }).click();
    await containsText(page.locator('#cb5-headers-error'), 'is set by the service and cannot be overridden');

    await type5.getByLabel('Callback URL').fill(`${receiver.url}/hooks`);
    await type5.getByLabel('Custom headers (one per line, Name: value)').fill('X-Partner-Token: portal-123');
    await type5.getByRole('button', { name: 'Create callback' }).click();
    await containsText(page.getByRole('status'), 'Callback created');
    const { body: firstSecret } = await system.http.get(`/${id}/callbacks/5/secret`).set(partner.auth).expect(200);
    expect(await page.content()).not.toContain(firstSecret.signingSecret);
    await screenshot(page, 'callbacks');

    // Test echo: the resulting delivery, delivered, with its attempt.
    await page.getByRole('link', { name: 'Test echo' }).click();
    await expectAccessibleAndStrict(page);
    await page.getByLabel('Notification type').selectOption('5');
    await page.getByLabel('Process id').fill('PRC-PORTAL-1');
    await page.getByLabel('Simulation id').fill('SIM-PORTAL-1');
    await page.getByRole('button', { name: 'Send test echo' }).click();
    await hasText(page.locator('#echo-process-error'), 'give exactly one of processUniqueId or simulationUniqueId, not both');
    await page.getByLabel('Simulation id').fill('');
    await page.getByLabel('Other payload fields (a JSON object)').fill('{"status": "approved", "previousStatus": "in_review"}');
    await page.getByRole('button', { name: 'Send test echo' }).click();
    await containsText(page.getByRole('status'), 'Test echo accepted');
    await reloadUntilVisible(page, page.locator('.facts .badge-delivered'));
    const attempts = page.locator('table.attempts tbody tr');
    await hasCount(attempts, 1);
    await containsText(attempts.first(), 'HTTP 200');
    const [echoed] = await receiver.waitFor(1);
    expect(echoed.headers['x-partner-token']).toBe('portal-123');
    expect(JSON.parse(echoed.body)).toMatchObject({ test: true, data: { processUniqueId: 'PRC-PORTAL-1', status: 'approved' } });

    // A platform event that fails: the failed attempt is on its page.
    receiver.replyAlways({ status: 500, headers: { 'content-type': 'application/json' }, body: '{"error":"database unavailable"}' });
    const published = await system.http
      .post('/v1/notifications')
      .set(ADMIN)
      .send({
        partnerUniqueId: id,
        notificationTypeId: 5,
        payload: { processUniqueId: 'PRC-PORTAL-2', status: 'approved', previousStatus: 'in_review' },
      })
      .expect(202);
    const notificationId = published.body.notificationId as string;
    await receiver.waitFor(1, 10_000, (request) => request.headers['webhook-id'] === notificationId);
    // More history for the log: another type (no callback: skipped) and another case.
    for (const payload of [
      { simulationUniqueId: 'SIM-2026-004567', messageId: 'MSG-991' },
      { processUniqueId: 'PRC-2026-000777', messageId: 'MSG-992' },
    ]) {
      await system.http.post('/v1/notifications').set(ADMIN).send({ partnerUniqueId: id, notificationTypeId: 6, payload }).expect(202);
    }

    await page.getByRole('link', { name: 'Delivery log' }).click();
    await expectAccessibleAndStrict(page);
    await hasCount(page.locator('table.stack tbody tr'), 4);
    await page.getByLabel('Process id').fill('PRC-PORTAL-2');
    await page.getByRole('button', { name: 'Filter' }).click();
    await hasCount(page.locator('table.stack tbody tr'), 1);
    await page.goto(`${baseUrl}/portal/${id}/deliveries`);
    await screenshot(page, 'delivery-log');
    await page.getByLabel('Process id').fill('PRC-PORTAL-2');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('link', { name: `View delivery ${notificationId}` }).click();
    await reloadUntilVisible(page, page.locator('table.attempts tbody tr').first());
    await containsText(page.locator('table.attempts tbody tr').first(), 'HTTP 500');
    await containsText(page.locator('table.attempts tbody tr').first(), 'database unavailable');

    // Fixed: redeliver, and the second attempt lands.
    receiver.replyAlways(200);
    await page.getByRole('button', { name: 'Redeliver now' }).click();
    await containsText(page.getByRole('status'), 'Redelivery queued');
    await reloadUntilVisible(page, page.locator('.facts .badge-delivered'));
    await hasCount(page.locator('table.attempts tbody tr'), 2);
    await containsText(page.locator('table.attempts tbody tr').nth(1), 'HTTP 200');
    // The signed payload shown is the envelope the receiver got.
    const delivered = receiver.deliveriesOf(notificationId);
    expect(JSON.parse(await page.locator('pre.payload').innerText())).toEqual(JSON.parse(delivered[delivered.length - 1].body));
    // Times: the browser's time zone in the text, the ISO value on hover.
    const firstTime = page.locator('table.attempts time').first();
    expect(await firstTime.getAttribute('title')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    await containsText(firstTime, 'GMT-3');
    await expectAccessibleAndStrict(page);
    await screenshot(page, 'delivery');

    // Rotate the signing secret, after a confirmation; the new one is shown.
    await page.goto(`${baseUrl}/portal/${id}/callbacks`);
    await page.locator('#type-5').getByRole('link', { name: 'Rotate signing secret…' }).click();
    await hasText(page.getByRole('heading', { level: 1 }), 'Rotate the signing secret for status.changed?');
    await page.getByRole('button', { name: 'Rotate now' }).click();
    await containsText(page.getByRole('status'), 'New signing secret made');
    const shown = await page.getByLabel('Signing secret').inputValue();
    const { body: rotated } = await system.http.get(`/${id}/callbacks/5/secret`).set(partner.auth).expect(200);
    expect(shown).toBe(rotated.signingSecret);
    expect(shown).not.toBe(firstSecret.signingSecret);

    // Recover since…: a notification that ran out of retries while the receiver was down is sent
    // again, with its webhook-id, through the same use case as POST …/callbacks/5/recover.
    receiver.replyAlways(503);
    const exhausted = (
      await system.http
        .post('/v1/notifications')
        .set(ADMIN)
        .send({ partnerUniqueId: id, notificationTypeId: 5, payload: { processUniqueId: 'PRC-PORTAL-3', status: 'declined' } })
        .expect(202)
    ).body.notificationId as string;
    await receiver.waitFor(1, 10_000, (request) => request.headers['webhook-id'] === exhausted);
    // The schedule here is an hour long: end it as the last retry would have.
    await system.dataSource.query(
      `UPDATE notifications SET status = 'failed', status_reason = 'retries_exhausted', next_attempt_at = NULL WHERE id = $1`,
      [exhausted],
    );
    receiver.replyAlways(200);
    await page.goto(`${baseUrl}/portal/${id}/callbacks`);
    await page.locator('#type-5').getByRole('link', { name: 'Recover since…' }).click();
    await hasText(page.getByRole('heading', { level: 1 }), 'Recover status.changed notifications');
    const since = await page.getByLabel(/^Since/).inputValue();
    await page.getByLabel(/^Since/).fill('yesterday');
    await page.getByRole('button', { name: 'Recover' }).click();
    await containsText(page.locator('#recover-since-error'), 'ISO 8601');
    await page.getByLabel(/^Since/).fill(since);
    await page.getByRole('button', { name: 'Recover' }).click();
    await containsText(page.getByRole('status'), 'Recovery started');
    await receiver.waitFor(2, 10_000, (request) => request.headers['webhook-id'] === exhausted);
    await system.waitForStatus(partner, exhausted, 'delivered');

    // Disable, enable and delete, through the same use cases as the API.
    await page.goto(`${baseUrl}/portal/${id}/callbacks`);
    await page.locator('#type-5').getByRole('button', { name: 'Disable' }).click();
    await containsText(page.getByRole('status'), 'Callback disabled');
    expect((await system.http.get(`/${id}/callbacks/5`).set(partner.auth).expect(200)).body).toMatchObject({
      enabled: false,
      headers: { 'X-Partner-Token': 'portal-123' },
    });
    await page.locator('#type-5').getByRole('button', { name: 'Enable' }).click();
    await containsText(page.getByRole('status'), 'Callback enabled');
    expect((await system.http.get(`/${id}/callbacks/5`).set(partner.auth).expect(200)).body.enabled).toBe(true);

    await page.goto(`${baseUrl}/portal/${id}`);
    await screenshot(page, 'overview');
    await containsText(page.locator('tbody tr').first(), `${receiver.url}/hooks`);

    await page.goto(`${baseUrl}/portal/${id}/callbacks`);
    await page.locator('#type-6').getByLabel('Callback URL').fill(`${receiver.url}/messages`);
    await page.locator('#type-6').getByRole('button', { name: 'Create callback' }).click();
    await page.locator('#type-6').getByRole('button', { name: 'Delete' }).click();
    await containsText(page.getByRole('status'), 'Callback deleted');
    await system.http.get(`/${id}/callbacks/6`).set(partner.auth).expect(404);
  }, 90_000);

  it('is readable at 375 px and usable from the keyboard', async () => {
    const partner = await system.createPartner('Narrow Screen Ltd');
    await system.registerCallback(partner, 5, `${receiver.url}/narrow`);
    await system.http
      .post(`/v1/callbacks/echo/${partner.partnerUniqueId}/5`)
      .set(partner.auth)
      .send({ processUniqueId: 'PRC-NARROW-1', status: 'approved' })
      .expect(202);
    const { page } = await signIn(partner, { width: 375, height: 812 });
    for (const path of ['', '/callbacks', '/echo', '/deliveries']) {
      await page.goto(`${baseUrl}/portal/${partner.partnerUniqueId}${path}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect({ path, overflow }).toEqual({ path, overflow: 0 });
    }
    await screenshot(page, 'delivery-log-375px');

    // Tab reaches the skip link first, then the navigation; Enter follows a link.
    await page.goto(`${baseUrl}/portal/${partner.partnerUniqueId}`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Callbacks');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${baseUrl}/portal/${partner.partnerUniqueId}/callbacks`);
  });

  it("pages the delivery log with the API cursor, and shows a bad filter's message beside it", async () => {
    const partner = await system.createPartner('Busy Partner');
    for (let i = 1; i <= 25; i++) {
      await system.http
        .post('/v1/notifications')
        .set(ADMIN)
        .send({ partnerUniqueId: partner.partnerUniqueId, notificationTypeId: 7, payload: { processUniqueId: `PRC-PAGE-${i}` } })
        .expect(202);
    }
    const { page } = await signIn(partner);
    await page.goto(`${baseUrl}/portal/${partner.partnerUniqueId}/deliveries?status=skipped`);
    const rows = page.locator('table.stack tbody tr');
    await hasCount(rows, 20);
    await containsText(rows.first(), 'PRC-PAGE-25');
    await page.getByRole('link', { name: 'Older' }).click();
    await hasCount(rows, 5);
    await containsText(rows.last(), 'PRC-PAGE-1');
    expect(new URL(page.url()).searchParams.get('status')).toBe('skipped');
    expect(await page.getByRole('link', { name: 'Older' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Newest' }).click();
    await hasCount(rows, 20);

    const bad = await page.goto(`${baseUrl}/portal/${partner.partnerUniqueId}/deliveries?status=lost`);
    expect(bad?.status()).toBe(400);
    const apiAnswer = await system.http.get(`/${partner.partnerUniqueId}/notifications?status=lost`).set(partner.auth).expect(400);
    await hasText(page.locator('#filter-status-error'), apiAnswer.body.errors[0].message);
    await page.goto(`${baseUrl}/portal/${partner.partnerUniqueId}/deliveries?cursor=forged`);
    await containsText(page.locator('#filter-form-error'), 'cursor is not a cursor this API returned');
  });

  describe('security', () => {
    it('a link works once; a used, expired or forged link shows a page saying so and how to get a new one', async () => {
      const partner = await system.createPartner('Link Holder');
      const link = await portalLink(partner);
      expect(link.url).toBe(`${baseUrl}/portal/sign-in/${link.token}`);
      expect(Date.parse(link.expiresAt) - Date.now()).toBeGreaterThan(14 * 60_000);
      expect(Date.parse(link.expiresAt) - Date.now()).toBeLessThanOrEqual(15 * 60_000);
      expect(await system.dataSource.query(`SELECT token_hash FROM portal_links WHERE partner_id = $1`, [partner.partnerUniqueId])).toEqual(
        [{ token_hash: sha256(link.token) }],
      );

      const first = await (await newContext()).newPage();
      await openAndSignIn(first, link.url, 'Link Holder');
      await hasText(first.getByRole('heading', { level: 1 }), 'Overview');

      const page = await (await newContext()).newPage();
      const used = await page.goto(link.url);
      expect(used?.status()).toBe(410);
      await hasText(page.getByRole('heading', { level: 1 }), 'This sign-in link has already been used');
      await containsText(page.locator('main'), 'How to get a new link');
      expect(await page.context().cookies()).toEqual([]);

      // The operator can make a link too; this one expires before it is opened.
      const { body: operatorLink } = await system.http
        .post(`/admin/partners/${partner.partnerUniqueId}/portal-links`)
        .set(ADMIN)
        .expect(201);
      const token = (operatorLink.url as string).split('/').pop()!;
      await system.dataSource.query(`UPDATE portal_links SET expires_at = now() - interval '1 second' WHERE token_hash = $1`, [
        sha256(token),
      ]);
      const expired = await page.goto(operatorLink.url);
      expect(expired?.status()).toBe(410);
      await hasText(page.getByRole('heading', { level: 1 }), 'This sign-in link has expired');
      await containsText(page.locator('main'), 'POST /{partnerUniqueID}/portal-links');
      await screenshot(page, 'expired-link');
      expect(await page.context().cookies()).toEqual([]);

      for (const forged of [`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, 'not-a-token', `${'x'.repeat(500)}`]) {
        const response = await page.goto(`${baseUrl}/portal/sign-in/${forged}`);
        expect(response?.status()).toBe(404);
        await hasText(page.getByRole('heading', { level: 1 }), 'This sign-in link is not valid');
      }
      expect(await page.context().cookies()).toEqual([]);

      // Link routes follow the API's rules.
      const other = await system.createPartner('Other');
      await system.http.post(`/${other.partnerUniqueId}/portal-links`).set(partner.auth).expect(403);
      await system.http.post(`/admin/partners/${partner.partnerUniqueId}/portal-links`).set(partner.auth).expect(403);
      await system.http.post(`/admin/partners/00000000-0000-4000-8000-000000000000/portal-links`).set(ADMIN).expect(404);
      await system.http.post(`/not-a-uuid/portal-links`).set(ADMIN).expect(400);
      await system.http.post(`/${partner.partnerUniqueId}/portal-links`).expect(401);
    });

    it("a mail scanner's GET leaves the link usable; a sign-in POSTed from another site is refused (no login CSRF)", async () => {
      const partner = await system.createPartner('Scanned Bank');
      const link = await portalLink(partner);
      // A mail scanner (no cookies, follows the link, reads the page) and a preview in a browser.
      await system.http.get(new URL(link.url).pathname).expect(200);
      const scanner = await (await newContext()).newPage();
      expect((await scanner.goto(link.url))?.status()).toBe(200);
      await hasText(scanner.getByRole('heading', { level: 1 }), 'Sign in to the partner portal');
      await screenshot(scanner, 'sign-in');
      expect(await system.dataSource.query(`SELECT used_at FROM portal_links WHERE token_hash = $1`, [sha256(link.token)])).toEqual([
        { used_at: null },
      ]);

      // Another site's page posts the attacker's link into the victim's browser.
      const victim = await (await newContext()).newPage();
      await victim.route('http://attacker.example/**', (route) =>
        route.fulfill({
          contentType: 'text/html',
          body: `<!doctype html><form method="post" action="${link.url}"><button type="submit">Win a prize</button></form>`,
        }),
      );
      await victim.goto('http://attacker.example/');
      const [refused] = await Promise.all([
        victim.waitForResponse((response) => response.url() === link.url && response.request().method() === 'POST'),
        victim.getByRole('button', { name: 'Win a prize' }).click(),
      ]);
      expect(refused.status()).toBe(403);
      await containsText(victim.locator('main'), 'a sign-in from another site is refused');
      expect(await victim.context().cookies()).toEqual([]);
      expect(await system.dataSource.query(`SELECT used_at FROM portal_links WHERE token_hash = $1`, [sha256(link.token)])).toEqual([
        { used_at: null },
      ]);

      // The person it was made for still signs in with it, from the page that names their organisation.
      await openAndSignIn(scanner, link.url, 'Scanned Bank');
      await hasText(scanner.getByRole('heading', { level: 1 }), 'Overview');
    });

    it('a tampered cookie signs nobody in', async () => {
      const partner = await system.createPartner('Tampered');
      const { context, page, cookie } = await signIn(partner);
      const tampered = `${cookie.slice(0, 10)}${cookie[10] === 'a' ? 'b' : 'a'}${cookie.slice(11)}`;
      await context.clearCookies();
      await context.addCookies([{ name: 'portal_session', value: tampered, url: baseUrl }]);
      const response = await page.goto(`${baseUrl}/portal/${partner.partnerUniqueId}`);
      expect(response?.status()).toBe(401);
      await hasText(page.getByRole('heading', { level: 1 }), 'You are not signed in');
      expect((await context.request.get(`${baseUrl}/${partner.partnerUniqueId}/callbacks`)).status()).toBe(401);
    });

    it("partner A's session gets 403 on partner B's pages and API routes, and works on its own", async () => {
      const partnerA = await system.createPartner('Partner A');
      const partnerB = await system.createPartner('Partner B');
      await system.registerCallback(partnerB, 5, `${receiver.url}/b`);
      const { body: echo } = await system.http
        .post(`/v1/callbacks/echo/${partnerB.partnerUniqueId}/5`)
        .set(partnerB.auth)
        .send({ processUniqueId: 'PRC-B' })
        .expect(202);
      const { context, page } = await signIn(partnerA);
      const b = partnerB.partnerUniqueId;

      for (const path of [
        '',
        '/callbacks',
        '/echo',
        '/deliveries',
        `/deliveries/${echo.notificationId}`,
        '/callbacks/5/secret',
        '/callbacks/5/rotate',
      ]) {
        const response = await page.goto(`${baseUrl}/portal/${b}${path}`);
        expect({ path, status: response?.status() }).toEqual({ path, status: 403 });
        await hasText(page.getByRole('heading', { level: 1 }), 'Not allowed');
      }
      for (const path of ['/callbacks', '/callbacks/5', '/callbacks/5/secret', '/notifications', `/notifications/${echo.notificationId}`]) {
        const response = await context.request.get(`${baseUrl}/${b}${path}`);
        expect({ path, status: response.status(), type: response.headers()['content-type'] }).toEqual({
          path,
          status: 403,
          type: expect.stringMatching(/^application\/problem\+json/),
        });
      }
      const rotate = await context.request.post(`${baseUrl}/${b}/callbacks/5/secret/rotate`);
      expect(rotate.status()).toBe(403);
      const redeliver = await context.request.post(`${baseUrl}/portal/${b}/deliveries/${echo.notificationId}/redeliver`, {
        form: { _csrf: 'x' },
      });
      expect(redeliver.status()).toBe(403);
      // The operator routes stay the operator's.
      expect((await context.request.post(`${baseUrl}/admin/partners`, { data: { name: 'X' } })).status()).toBe(403);

      // Its own partner, through the API with the same cookie: allowed.
      expect((await context.request.get(`${baseUrl}/${partnerA.partnerUniqueId}/callbacks`)).status()).toBe(200);
      expect((await system.http.get(`/${b}/callbacks/5`).set(partnerB.auth).expect(200)).body.enabled).toBe(true);
    });

    it('a cross-site form post is refused, and so is a post without the CSRF token', async () => {
      const partner = await system.createPartner('CSRF Target');
      await system.registerCallback(partner, 5, `${receiver.url}/csrf`);
      const { context, page } = await signIn(partner);
      const target = `${baseUrl}/portal/${partner.partnerUniqueId}/callbacks/5/delete`;

      // Another origin on the same host: the SameSite=Strict cookie is sent, the origin check refuses.
      const attacker: Server = createServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><form method="post" action="${target}">
<input type="hidden" name="_csrf" value="guessed"><button>Win a prize</button></form>`);
      });
      await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
      try {
        await page.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
        const [response] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Win a prize' }).click()]);
        expect(response?.status()).toBe(403);
        await hasText(page.getByRole('heading', { level: 1 }), 'Not allowed');
        await containsText(page.locator('main'), 'cross-site request refused');
      } finally {
        await new Promise<void>((resolve) => attacker.close(() => resolve()));
      }

      // Same origin but no token, or a wrong one.
      const forms: Array<Record<string, string>> = [{}, { _csrf: 'x'.repeat(43) }];
      for (const form of forms) {
        expect((await context.request.post(target, { form })).status()).toBe(403);
      }
      await system.http.get(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth).expect(200);
    });

    it('signing out ends the session: the old cookie is useless afterwards', async () => {
      const partner = await system.createPartner('Sign Out');
      const { context, page, cookie } = await signIn(partner);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await hasText(page.getByRole('heading', { level: 1 }), 'You are signed out');
      expect(await context.cookies()).toEqual([]);
      expect(await system.dataSource.query(`SELECT id FROM portal_sessions WHERE partner_id = $1`, [partner.partnerUniqueId])).toEqual([]);

      const replay = await newContext();
      await replay.addCookies([{ name: 'portal_session', value: cookie, url: baseUrl }]);
      const replayPage = await replay.newPage();
      const response = await replayPage.goto(`${baseUrl}/portal/${partner.partnerUniqueId}`);
      expect(response?.status()).toBe(401);
      await hasText(replayPage.getByRole('heading', { level: 1 }), 'You are not signed in');
      expect((await replay.request.get(`${baseUrl}/${partner.partnerUniqueId}/callbacks`)).status()).toBe(401);
    });
  });
});
