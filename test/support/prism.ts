import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildApp, freePort } from '@callbacks/testing';

const PRISM = join(__dirname, '..', '..', 'node_modules', '@stoplight', 'prism-cli', 'dist', 'index.js');
export const PRISM_ERROR = 'https://stoplight.io/prism/errors#';

export interface PrismProxy {
  url: string;
  stop(): Promise<void>;
}

/**
 * Stoplight Prism's validating proxy (`prism proxy <document> <api>`) in front of a running API: it
 * passes each exchange on and reports in the `sl-violations` header what the document does not
 * describe. With `errors`, it answers a violation itself (422 for a request, 500 for a response).
 */
export async function startPrismProxy(document: unknown, apiUrl: string, options: { errors: boolean }): Promise<PrismProxy> {
  const documentDir = mkdtempSync(join(tmpdir(), 'openapi-'));
  writeFileSync(join(documentDir, 'openapi.json'), JSON.stringify(document));
  const port = await freePort();
  const prism = ChildApp.start(
    'prism',
    process.execPath,
    [
      PRISM,
      'proxy',
      join(documentDir, 'openapi.json'),
      apiUrl,
      ...(options.errors ? ['--errors'] : []),
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
    ],
    { PATH: process.env.PATH },
  );
  try {
    await prism.waitForOutput('Prism is listening', 60_000);
  } catch (error) {
    await prism.stop('SIGTERM', 5_000);
    rmSync(documentDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      await prism.stop('SIGTERM', 5_000);
      rmSync(documentDir, { recursive: true, force: true });
    },
  };
}
