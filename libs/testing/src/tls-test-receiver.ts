import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { TestCertificate } from './test-pki';

export interface TlsReceivedRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The SNI name the client sent (false: none, as for an IP address). */
  servername: string | false;
  /** The client certificate's subject CN, as the receiver verified it. */
  clientCertificate: string;
}

/**
 * A partner's HTTPS endpoint behind a private CA that demands a client certificate:
 * `requestCert: true, rejectUnauthorized: true`, trusting only `clientCa`. Answers `status` (200 by default).
 */
export class TlsTestReceiver {
  readonly requests: TlsReceivedRequest[] = [];
  status = 200;
  /** Decides each answer's status when set (e.g. checks the bearer token); `status` otherwise. */
  answer: ((request: TlsReceivedRequest) => Promise<number> | number) | null = null;

  private constructor(private readonly server: Server) {}

  static async start(serverCertificate: TestCertificate, clientCa: TestCertificate): Promise<TlsTestReceiver> {
    const receiver: { current?: TlsTestReceiver } = {};
    const server = createServer(
      { cert: serverCertificate.cert, key: serverCertificate.key, ca: clientCa.cert, requestCert: true, rejectUnauthorized: true },
      (request, response) => {
        let body = '';
        request.setEncoding('utf8');
        request.on('data', (chunk: string) => (body += chunk));
        request.on('end', () => {
          const socket = request.socket as TLSSocket;
          const received: TlsReceivedRequest = {
            path: request.url ?? '',
            headers: request.headers,
            body,
            servername: (socket as TLSSocket & { servername: string | false }).servername,
            clientCertificate: String(socket.getPeerCertificate().subject?.CN ?? ''),
          };
          const self = receiver.current!;
          self.requests.push(received);
          void Promise.resolve(self.answer ? self.answer(received) : self.status).then((status) => response.writeHead(status).end('ok'));
        });
      },
    );
    receiver.current = new TlsTestReceiver(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver.current;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** https://localhost:port (the certificate names localhost and 127.0.0.1). */
  url(host: 'localhost' | '127.0.0.1' = 'localhost'): string {
    return `https://${host}:${this.port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
