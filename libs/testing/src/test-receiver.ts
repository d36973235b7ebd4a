import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  receivedAt: number;
  /** The status this receiver answered with, once the answer is complete (undefined if it never was). */
  answeredStatus?: number;
  /** When the client closed the connection before this receiver had finished its answer (it gave up waiting). */
  abandonedAt?: number;
}

/** How the receiver answers one request. */
export type Reply =
  | number
  | { status: number; headers?: Record<string, string>; body?: string }
  | 'hang'
  | 'reset'
  | ((request: ReceivedRequest, response: ServerResponse) => void);

/**
 * A local HTTP endpoint standing in for a partner's callback URL. Replies are scripted in order
 * (`replyWith(500, 500, 200)`); after the script it answers `fallback` (200 unless changed).
 */
export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  private script: Reply[] = [];
  private fallback: Reply = 200;
  private readonly hanging = new Set<ServerResponse>();
  /** The most requests this receiver has held open at once. */
  maxConcurrent = 0;
  private open = 0;
  private closing = false;
  private readonly waiters: Array<() => void> = [];
  private readonly server = createServer((request, response) => this.handle(request, response));

  private constructor() {}

  static async start(): Promise<TestReceiver> {
    const receiver = new TestReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  replyWith(...replies: Reply[]): this {
    this.script.push(...replies);
    return this;
  }

  replyAlways(reply: Reply): this {
    this.script = [];
    this.fallback = reply;
    return this;
  }

  /** Requests whose webhook-id header is `id`. */
  deliveriesOf(id: string): ReceivedRequest[] {
    return this.requests.filter((request) => request.headers['webhook-id'] === id);
  }

  /** Resolves once `count` requests (matching `filter`) have arrived; polls, never sleeps blindly. */
  async waitFor(count: number, timeoutMs = 10_000, filter: (request: ReceivedRequest) => boolean = () => true): Promise<ReceivedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matching = this.requests.filter(filter);
      if (matching.length >= count) return matching;
      if (Date.now() > deadline) throw new Error(`expected ${count} requests within ${timeoutMs} ms, got ${matching.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const response of this.hanging) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    this.open++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.open);
    response.once('close', () => this.open--);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const received: ReceivedRequest = {
        path: request.url ?? '/',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
      };
      this.requests.push(received);
      response.once('finish', () => (received.answeredStatus = response.statusCode));
      response.once('close', () => {
        if (!response.writableFinished && !this.closing) received.abandonedAt = Date.now();
      });
      this.waiters.splice(0).forEach((wake) => wake());
      this.reply(this.script.shift() ?? this.fallback, received, response);
    });
  }

  private reply(reply: Reply, received: ReceivedRequest, response: ServerResponse): void {
    if (reply === 'hang') {
      this.hanging.add(response);
      return;
    }
    if (reply === 'reset') {
      response.socket?.destroy();
      return;
    }
    if (typeof reply === 'function') return reply(received, response);
    const { status, headers = {}, body = '' } = typeof reply === 'number' ? { status: reply } : reply;
    response.writeHead(status, headers).end(body);
  }
}

/** Answers with `status` and a body of `totalBytes`, written as fast as the client reads it. */
export function streamLargeBody(response: ServerResponse, status: number, totalBytes: number): void {
  response.writeHead(status);
  const chunk = Buffer.alloc(64 * 1024, 'z');
  let sent = 0;
  const pump = () => {
    while (sent < totalBytes && response.write(chunk)) sent += chunk.length;
    if (sent < totalBytes) response.once('drain', pump);
    else response.end();
  };
  pump();
}
