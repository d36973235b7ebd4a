import { DELIVERY_USER_AGENT, type SignatureScheme } from '@callbacks/contracts';
import { signWebhookWithKeys, type WebhookSigningKeys } from '@callbacks/signing';
import { inSpan } from '@callbacks/telemetry';

/** One POST to sign: Standard Webhooks over `${id}.${timestamp}.${body}` with each key. */
export interface WebhookToSign {
  /** webhook-id: the same on every attempt of one delivery (receivers dedupe on it). */
  id: string;
  /** When the attempt is signed (webhook-timestamp, in whole seconds). */
  at: Date;
  body: string;
  /** Plaintext whsec_ secrets (v1) and whsk_ ed25519 keys (v1a); several during a rotation (one signature each). */
  keys: WebhookSigningKeys;
  /** The receiver's own headers (a partner's callback headers): ours are set after them and always win. */
  customHeaders?: Record<string, string>;
}

/** The headers of every POST the worker sends. */
export function webhookHeaders(webhook: WebhookToSign): Record<string, string> {
  const timestamp = Math.floor(webhook.at.getTime() / 1000);
  const signature = inSpan('sign webhook', () => signWebhookWithKeys(webhook.keys, { id: webhook.id, timestamp, body: webhook.body }));
  return {
    ...webhook.customHeaders,
    'content-type': 'application/json',
    'user-agent': DELIVERY_USER_AGENT,
    'webhook-id': webhook.id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signature,
  };
}

/** A callback's sealed signing keys, as stored. */
export interface SealedSigningKeys {
  signatureScheme: SignatureScheme;
  signingSecretEncrypted: string;
  previousSigningSecretEncrypted: string | null;
  previousSecretExpiresAt: Date | null;
  ed25519SecretKeyEncrypted: string | null;
  previousEd25519SecretKeyEncrypted: string | null;
  previousEd25519ExpiresAt: Date | null;
}

/** The current key, and the previous one until its grace ends. */
function current(
  sealed: string,
  previous: string | null,
  previousUntil: Date | null,
  at: Date,
  open: (sealed: string) => string,
): string[] {
  const keys = [open(sealed)];
  if (previous && previousUntil && previousUntil > at) keys.push(open(previous));
  return keys;
}

/** The keys a callback signs with at `at`, by its scheme: HMAC secrets for v1, ed25519 keys for v1a, or both. */
export function signingKeys(callback: SealedSigningKeys, at: Date, open: (sealed: string) => string): WebhookSigningKeys {
  const hmac = callback.signatureScheme !== 'ed25519';
  const ed25519 = callback.signatureScheme !== 'hmac' && callback.ed25519SecretKeyEncrypted !== null;
  return {
    hmacSecrets: hmac
      ? current(callback.signingSecretEncrypted, callback.previousSigningSecretEncrypted, callback.previousSecretExpiresAt, at, open)
      : [],
    ed25519SecretKeys: ed25519
      ? current(
          callback.ed25519SecretKeyEncrypted!,
          callback.previousEd25519SecretKeyEncrypted,
          callback.previousEd25519ExpiresAt,
          at,
          open,
        )
      : [],
  };
}
