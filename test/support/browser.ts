import type { AddressInfo } from 'node:net';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import type { TestSystem } from './system';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless Debian Chromium (CHROMIUM_PATH overrides), quiet: no sandbox, GPU, sync or background traffic. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Makes the system's API listen on a loopback port a browser can open; returns its base URL. */
export async function listenForBrowser(system: TestSystem): Promise<string> {
  await system.api.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${(system.api.getHttpServer().address() as AddressInfo).port}`;
}

/** Retries an assertion on the page until it holds (playwright-core has no web-first assertions). */
export async function eventually(assertion: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

export const hasText = (locator: Locator, text: string) =>
  eventually(async () => expect((await locator.innerText({ timeout: 2_000 })).trim()).toBe(text));
export const containsText = (locator: Locator, text: string) =>
  eventually(async () => expect(await locator.innerText({ timeout: 2_000 })).toContain(text));

/** Opens a portal link (a page naming the partner, nothing used yet) and presses its "Sign in" button. */
export async function openAndSignIn(page: Page, url: string, partnerName: string): Promise<void> {
  const opened = await page.goto(url);
  expect(opened?.status()).toBe(200);
  await hasText(page.locator('.partner-name'), partnerName);
  expect(await page.context().cookies()).toEqual([]);
  await Promise.all([page.waitForURL(/\/portal\/[0-9a-f-]{36}$/), page.getByRole('button', { name: 'Sign in' }).click()]);
  await hasText(page.locator('.signed-in strong'), partnerName);
}
