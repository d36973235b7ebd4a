import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { type SignedContent, signWebhook, TIMESTAMP_TOLERANCE_SECONDS } from './webhook-signature';

/** Standard Webhooks' asymmetric keys: the prefix, then the base64 of the raw 32-byte key. */
export const ED25519_SECRET_KEY_PREFIX = 'whsk_';
export const ED25519_PUBLIC_KEY_PREFIX = 'whpk_';
const RAW_KEY_BYTES = 32;
// The DER a PKCS#8 Ed25519 private key and an SPKI Ed25519 public key have before their 32 raw bytes (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface Ed25519KeyPair {
  /** whsk_…: the private key; stored encrypted, never shown. */
  secretKey: string;
  /** whpk_…: what a partner verifies v1a signatures with. */
  publicKey: string;
}

function rawKey(key: string, prefix: string): Buffer {
  if (!key.startsWith(prefix)) throw new Error(`an ed25519 key here starts with ${prefix}`);
  const raw = Buffer.from(key.slice(prefix.length), 'base64');
  if (raw.length !== RAW_KEY_BYTES) throw new Error(`an ed25519 key is ${RAW_KEY_BYTES} bytes`);
  return raw;
}

/**
 * Parsing a key costs more than signing with it, and a worker signs with the same few keys over and
 * over: the most recently used ones are kept (bounded, the oldest out first).
 */
const KEY_OBJECTS_KEPT = 256;
const keyObjects = new Map<string, KeyObject>();

function privateKeyObject(secretKey: string): KeyObject {
  const kept = keyObjects.get(secretKey);
  if (kept) return kept;
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, rawKey(secretKey, ED25519_SECRET_KEY_PREFIX)]),
    format: 'der',
    type: 'pkcs8',
  });
  keyObjects.set(secretKey, key);
  if (keyObjects.size > KEY_OBJECTS_KEPT) keyObjects.delete(keyObjects.keys().next().value as string);
  return key;
}

function publicKeyObject(publicKey: string): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, rawKey(publicKey, ED25519_PUBLIC_KEY_PREFIX)]), format: 'der', type: 'spki' });
}

function encodePublicKey(key: KeyObject): string {
  const spki = key.export({ format: 'der', type: 'spki' });
  return ED25519_PUBLIC_KEY_PREFIX + spki.subarray(spki.length - RAW_KEY_BYTES).toString('base64');
}

/** A new key pair for v1a signatures. */
export function generateEd25519KeyPair(): Ed25519KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  return {
    secretKey: ED25519_SECRET_KEY_PREFIX + pkcs8.subarray(pkcs8.length - RAW_KEY_BYTES).toString('base64'),
    publicKey: encodePublicKey(publicKey),
  };
}

/** The whpk_ public key that belongs to a whsk_ secret key. */
export function ed25519PublicKey(secretKey: string): string {
  return encodePublicKey(createPublicKey(privateKeyObject(secretKey)));
}

function message({ id, timestamp, body }: SignedContent): Buffer {
  return Buffer.from(`${id}.${timestamp}.${body}`);
}

/**
 * The v1a entries of a webhook-signature header (Standard Webhooks): "v1a,<base64 ed25519 signature>"
 * over "{id}.{timestamp}.{body}" for each secret key, space-separated (newest first during a rotation).
 */
export function signWebhookEd25519(secretKeys: readonly string[], content: SignedContent): string {
  if (secretKeys.length === 0) throw new Error('at least one ed25519 key is needed');
  if (content.id.includes('.')) throw new Error('a webhook id must not contain "."');
  const data = message(content);
  return secretKeys.map((secretKey) => `v1a,${sign(null, data, privateKeyObject(secretKey)).toString('base64')}`).join(' ');
}

/** Checks a webhook-signature header as a receiver does: any one v1a entry valid under `publicKey`, and a fresh timestamp. */
export function verifyWebhookEd25519(
  publicKey: string,
  header: string,
  content: SignedContent,
  nowSeconds = Math.floor(Date.now() / 1000),
): boolean {
  if (Math.abs(nowSeconds - content.timestamp) > TIMESTAMP_TOLERANCE_SECONDS) return false;
  const key = publicKeyObject(publicKey);
  const data = message(content);
  return header.split(' ').some((entry) => {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1a' || value === undefined) return false;
    return verify(null, data, key, Buffer.from(value, 'base64'));
  });
}

/** The keys a delivery is signed with: HMAC secrets (v1), ed25519 secret keys (v1a), or both during a migration. */
export interface WebhookSigningKeys {
  hmacSecrets: readonly string[];
  ed25519SecretKeys: readonly string[];
}

/** The whole webhook-signature header: v1 entries, then v1a entries, space-separated. */
export function signWebhookWithKeys(keys: WebhookSigningKeys, content: SignedContent): string {
  const entries: string[] = [];
  if (keys.hmacSecrets.length > 0) entries.push(signWebhook(keys.hmacSecrets, content));
  if (keys.ed25519SecretKeys.length > 0) entries.push(signWebhookEd25519(keys.ed25519SecretKeys, content));
  if (entries.length === 0) throw new Error('at least one signing key is needed');
  return entries.join(' ');
}
