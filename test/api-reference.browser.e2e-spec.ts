import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { NOTIFICATION_TYPES, OPERATOR_EVENTS } from '@callbacks/contracts';
import { launchChromium, listenForBrowser } from './support/browser';
import { TestSystem } from './support/system';

const SCREENSHOTS = join(__dirname, '..', 'test-output');

describe('the /docs page in a real browser (headless Chromium)', () => {
  let system: TestSystem;
  let browser: Browser;
  let baseUrl: string;

  beforeAll(async () => {
    system = await TestSystem.start({}, 0);
    baseUrl = await listenForBrowser(system);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await system?.close();
  });

  it('shows the webhooks section: every notification type and operator event, with its headers, answers and an example', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    expect((await page.goto(`${baseUrl}/docs`))?.status()).toBe(200);
    const webhooks = page.locator('.webhooks');
    await webhooks.getByRole('heading', { name: 'Webhooks' }).waitFor({ timeout: 30_000 });
    for (const name of [...NOTIFICATION_TYPES.map((type) => type.name), ...OPERATOR_EVENTS.map((event) => event.type)])
      await webhooks.locator('.opblock-summary-path', { hasText: name }).first().waitFor();
    // Opening one shows its signed headers and what each answer causes.
    const first = NOTIFICATION_TYPES[0];
    await webhooks.locator('.opblock-summary', { hasText: first.name }).first().click();
    const opened = webhooks.locator('.opblock.is-open');
    for (const text of ['webhook-id', 'webhook-timestamp', 'webhook-signature', '410', 'Retry-After'])
      await opened.getByText(text).first().waitFor();
    mkdirSync(SCREENSHOTS, { recursive: true });
    // The body's example: the envelope with the type's payload example as data.
    await opened
      .locator('.highlight-code', { hasText: `"type": "${first.name}"` })
      .getByText('processUniqueId')
      .first()
      .waitFor();
    await opened.screenshot({ path: join(SCREENSHOTS, 'docs-webhooks.png') });
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
