import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { TestReceiver, TEST_ADMIN_API_KEY, waitUntil } from '@callbacks/testing';
import { launchChromium, listenForBrowser } from './support/browser';
import { TestSystem } from './support/system';

const SCREENSHOTS = join(__dirname, '..', 'test-output');

describe('Bull Board in a real browser (headless Chromium)', () => {
  let system: TestSystem;
  let receiver: TestReceiver;
  let browser: Browser;
  let baseUrl: string;

  beforeAll(async () => {
    system = await TestSystem.start({ RETRY_SCHEDULE: '100ms,1h' });
    baseUrl = await listenForBrowser(system);
    receiver = await TestReceiver.start();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await receiver.close();
    await system.close();
  });

  it('logs in, opens the delivery queue and sees a delayed retry', async () => {
    receiver.replyAlways(500);
    const partner = await system.createPartner('Browser Test Partner');
    await system.registerCallback(partner, 5, receiver.url);
    const { body } = await system.http
      .post(`/v1/callbacks/echo/${partner.partnerUniqueId}/5`)
      .set(partner.auth)
      .send({ processUniqueId: 'PRC-BROWSER' })
      .expect(202);
    await waitUntil(async () => (await system.notification(partner, body.notificationId)).attemptCount >= 2, 10_000, 'two failed attempts');

    const anonymous = await browser.newContext();
    const refused = await anonymous.request.get(`${baseUrl}/admin/queues`);
    expect(refused.status()).toBe(401);
    expect(refused.headers()['www-authenticate']).toMatch(/^Basic /);
    await anonymous.close();

    const context = await browser.newContext({
      httpCredentials: { username: 'admin', password: TEST_ADMIN_API_KEY },
      viewport: { width: 1400, height: 900 },
    });
    const page = await context.newPage();
    const response = await page.goto(`${baseUrl}/admin/queues/queue/deliveries?status=delayed`);
    expect(response?.status()).toBe(200);
    await page.getByText(body.notificationId).first().waitFor({ timeout: 15_000 });
    await page.getByText('Webhook deliveries').first().waitFor();
    mkdirSync(SCREENSHOTS, { recursive: true });
    const screenshot = join(SCREENSHOTS, 'bull-board-delayed-retry.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    await context.close();
  });
});
