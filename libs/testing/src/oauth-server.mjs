// An OAuth2 authorization server for tests: panva's oidc-provider (ESM only, hence a script of its
// own in a child process) with the client-credentials grant, introspection and revocation.
// Configuration comes as JSON in OAUTH_SERVER_CONFIG: { clients: [{ client_id, client_secret }],
// accessTokenTtlSeconds, tls?: { certPath, keyPath } }. Prints "listening <port>" once ready, and
// "token issued <client_id>" / "token refused <status>" for every token request.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OAUTH_SERVER_CONFIG ?? '{}');
const tls = config.tls ? { cert: readFileSync(config.tls.certPath), key: readFileSync(config.tls.keyPath) } : null;

const server = tls ? createHttpsServer(tls) : createHttpServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: config.clients.map((client) => ({
    client_id: client.client_id,
    client_secret: client.client_secret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'webhooks:write',
  })),
  scopes: ['webhooks:write'],
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async () => true },
    revocation: { enabled: true },
    devInteractions: { enabled: false },
  },
  ttl: { ClientCredentials: () => config.accessTokenTtlSeconds ?? 600 },
});
provider.proxy = false;

provider.on('grant.success', (ctx) => process.stdout.write(`token issued ${ctx.oidc.client?.clientId}\n`));
provider.on('grant.error', (ctx, error) => process.stdout.write(`token refused ${error.statusCode ?? error.status}\n`));

server.on('request', provider.callback());
process.stdout.write(`listening ${port}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
