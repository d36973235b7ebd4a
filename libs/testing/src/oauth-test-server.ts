import { join } from 'node:path';
import { ChildApp } from './child-app';

export interface OAuthTestClient {
  client_id: string;
  client_secret: string;
}

/**
 * oidc-provider (an OAuth2 authorization server from npm) with the client-credentials grant, run by
 * `oauth-server.mjs` in a child process, since it is an ES module jest cannot load. Counts the token
 * requests it answered, and introspects and revokes tokens as a partner's resource server would.
 */
export class OAuthTestServer {
  private constructor(
    private readonly process: ChildApp,
    readonly port: number,
    private readonly scheme: 'http' | 'https',
  ) {}

  static async start(options: {
    clients: OAuthTestClient[];
    accessTokenTtlSeconds?: number;
    tls?: { certPath: string; keyPath: string };
  }): Promise<OAuthTestServer> {
    const script = join(__dirname, 'oauth-server.mjs');
    const child = ChildApp.start('oidc-provider', process.execPath, [script], {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      OAUTH_SERVER_CONFIG: JSON.stringify(options),
    });
    const line = await child.waitForOutput(/listening \d+/);
    return new OAuthTestServer(child, Number(line.split(' ')[1]), options.tls ? 'https' : 'http');
  }

  /** The token endpoint (oidc-provider's default route). */
  get tokenUrl(): string {
    return `${this.scheme}://127.0.0.1:${this.port}/token`;
  }

  /** How many access tokens it has issued so far. */
  issued(): number {
    return this.process.output.split('\n').filter((line) => line.startsWith('token issued')).length;
  }

  /** How many token requests it refused. */
  refused(): number {
    return this.process.output.split('\n').filter((line) => line.startsWith('token refused')).length;
  }

  /** RFC 7662 introspection: is this token active? (Asked as `client`, with HTTP Basic.) */
  async active(token: string, client: OAuthTestClient): Promise<boolean> {
    const answer = await this.post('/token/introspection', token, client);
    return (JSON.parse(answer) as { active: boolean }).active;
  }

  /** RFC 7009 revocation, by the client the token was issued to. */
  async revoke(token: string, client: OAuthTestClient): Promise<void> {
    await this.post('/token/revocation', token, client);
  }

  private async post(path: string, token: string, client: OAuthTestClient): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${this.port}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token }).toString(),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${path} answered ${response.status}: ${text}`);
    return text;
  }

  stop(): Promise<void> {
    return this.process.stop('SIGTERM', 5_000);
  }
}
