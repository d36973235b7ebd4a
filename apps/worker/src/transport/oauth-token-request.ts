import { request } from 'undici';
import type { EgressTransport } from './egress-transport';

/** The token request's error: the attempt records auth_error with this message (never a secret or a token). */
export class OAuthTokenError extends Error {
  readonly code = 'ERR_OAUTH_TOKEN';

  constructor(
    message: string,
    /** The token endpoint answered, and said no: worth remembering for a few seconds (see OAuthTokenCache). */
    readonly answered: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OAuthTokenError';
  }
}

/** A callback's `auth` (OAuth2 client credentials), with its secret decrypted. */
export interface ClientCredentialsGrant {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope: string | null;
  /** The callback's CA: the token URL's certificate may chain to it or to a public root. */
  caCertificate: string | null;
}

export interface FetchedToken {
  value: string;
  /** From expires_in; DEFAULT_TOKEN_LIFETIME_MS when the server does not say. */
  lifetimeMs: number;
}

/** Longer tokens are refused: the token is sent as a header with every delivery. */
export const MAX_ACCESS_TOKEN_LENGTH = 16 * 1024;
const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;
/** expires_in is only RECOMMENDED (RFC 6749 §5.1): without it, a token is kept five minutes. */
export const DEFAULT_TOKEN_LIFETIME_MS = 5 * 60_000;
const MAX_TOKEN_LIFETIME_MS = 24 * 60 * 60_000;

/** RFC 6749 §2.3.1: client_secret_basic, with both parts form-urlencoded first. */
function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

/** A short printable excerpt of a server's words for the delivery log. */
function excerpt(value: unknown, length: number): string {
  return typeof value === 'string' ? value.replace(/[^\x20-\x7e]/g, ' ').slice(0, length) : '';
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    received += chunk.length;
    if (received > MAX_TOKEN_RESPONSE_BYTES) {
      body.destroy();
      throw new OAuthTokenError(`the token URL's answer is larger than ${MAX_TOKEN_RESPONSE_BYTES / 1024} KiB`, true);
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * One client-credentials token request (RFC 6749 §4.4) through the egress transport, so the token
 * URL gets the same address check, proxy and client certificate as a delivery. No redirect is
 * followed. Throws OAuthTokenError; a proxy or address failure stays inside it as the cause, so the
 * attempt is classified by that (proxy_error, blocked_address) rather than as auth_error.
 */
export async function requestClientCredentialsToken(
  transport: EgressTransport,
  grant: ClientCredentialsGrant,
  signal: AbortSignal,
): Promise<FetchedToken> {
  const form = new URLSearchParams({ grant_type: 'client_credentials', ...(grant.scope ? { scope: grant.scope } : {}) });
  let statusCode: number;
  let text: string;
  try {
    const response = await request(grant.tokenUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        authorization: basicAuthorization(grant.clientId, grant.clientSecret),
      },
      body: form.toString(),
      dispatcher: transport.dispatcher({ caCertificate: grant.caCertificate, publicRoots: true }),
      signal,
    });
    statusCode = response.statusCode;
    text = await readCapped(response.body);
  } catch (error) {
    if (error instanceof OAuthTokenError) throw error;
    const reason = (error as { code?: string }).code ?? (error as Error).name;
    throw new OAuthTokenError(`the token request failed (${reason})`, false, { cause: error });
  }
  let answer: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') answer = parsed as Record<string, unknown>;
  } catch {
    // not JSON: said below
  }
  if (statusCode < 200 || statusCode > 299) {
    const said =
      typeof answer.error === 'string'
        ? ` (${excerpt(answer.error, 64)}${answer.error_description ? `: ${excerpt(answer.error_description, 160)}` : ''})`
        : '';
    throw new OAuthTokenError(`the token URL answered ${statusCode}${said}`, true);
  }
  const value = answer.access_token;
  if (typeof value !== 'string' || value === '') throw new OAuthTokenError('the token URL answered without an access_token', true);
  if (value.length > MAX_ACCESS_TOKEN_LENGTH)
    throw new OAuthTokenError(`the access_token is longer than ${MAX_ACCESS_TOKEN_LENGTH} characters`, true);
  if (/[^\x21-\x7e]/.test(value)) throw new OAuthTokenError('the access_token holds characters a header cannot carry', true);
  if (typeof answer.token_type === 'string' && answer.token_type.toLowerCase() !== 'bearer')
    throw new OAuthTokenError(`the token URL issued a "${excerpt(answer.token_type, 32)}" token, not a Bearer token`, true);
  const expiresIn = Number(answer.expires_in);
  const lifetimeMs = answer.expires_in === undefined || !Number.isFinite(expiresIn) ? DEFAULT_TOKEN_LIFETIME_MS : expiresIn * 1000;
  return { value, lifetimeMs: Math.min(Math.max(lifetimeMs, 0), MAX_TOKEN_LIFETIME_MS) };
}
