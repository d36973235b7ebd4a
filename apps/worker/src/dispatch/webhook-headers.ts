import { DELIVERY_USER_AGENT } from '@callbacks/contracts';
import { signWebhook } from '@callbacks/signing';
import { inSpan } from '@callbacks/telemetry';

/** One POST to sign: Standard Webhooks over `${id}.${timestamp}.${body}` with each secret. */
export interface WebhookToSign {
  /** webhook-id: the same on every attempt of one delivery (receivers dedupe on it). */
  id: string;
  /** When the attempt is signed (webhook-timestamp, in whole seconds). */
  at: Date;
  body: string;
  /** Plaintext whsec_ secrets; several during a secret rotation (one signature each). */
  secrets: string[];
  /** The receiver's own headers (a partner's callback headers): ours are set after them and always win. */
  customHeaders?: Record<string, string>;
}

/** The headers of every POST the worker sends. */
export function webhookHeaders(webhook: WebhookToSign): Record<string, string> {
  const timestamp = Math.floor(webhook.at.getTime() / 1000);
  const signature = inSpan('sign webhook', () => signWebhook(webhook.secrets, { id: webhook.id, timestamp, body: webhook.body }));
  return {
    ...webhook.customHeaders,
    'content-type': 'application/json',
    'user-agent': DELIVERY_USER_AGENT,
    'webhook-id': webhook.id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signature,
  };
}

/** A callback's sealed secrets, as stored. */
export interface SealedSigningSecrets {
  signingSecretEncrypted: string;
  previousSigningSecretEncrypted: string | null;
  previousSecretExpiresAt: Date | null;
}

/** The secrets a callback signs with at `at`: its current one, and the previous one until its grace ends. */
export function signingSecrets(callback: SealedSigningSecrets, at: Date, open: (sealed: string) => string): string[] {
  const secrets = [open(callback.signingSecretEncrypted)];
  if (callback.previousSigningSecretEncrypted && callback.previousSecretExpiresAt && callback.previousSecretExpiresAt > at) {
    secrets.push(open(callback.previousSigningSecretEncrypted));
  }
  return secrets;
}
