import type { AddressInfo } from 'node:net';
import { type Browser, chromium } from 'playwright-core';
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
