import { isForbiddenAddress, literalAddress } from './address-policy';

export const MAX_CALLBACK_URL_LENGTH = 2048;

export interface CallbackUrlPolicy {
  /** ALLOW_INSECURE_CALLBACKS: http:// and non-public hosts are accepted (development and tests). */
  allowInsecure: boolean;
}

// Names that only ever resolve inside a private network or on the machine itself.
const LOCAL_NAME = /(^|\.)(localhost|local|internal|intranet|lan|home\.arpa|localdomain)$/i;

/**
 * Checks a callback URL at registration time. Returns what is wrong, or null when it is acceptable.
 * Host names are resolved and checked again at delivery time (see `createGuardedLookup`).
 */
export function checkCallbackUrl(raw: string, policy: CallbackUrlPolicy): string | null {
  if (raw.length > MAX_CALLBACK_URL_LENGTH) return `must be at most ${MAX_CALLBACK_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  const allowedProtocols = policy.allowInsecure ? ['https:', 'http:'] : ['https:'];
  if (!allowedProtocols.includes(url.protocol)) return policy.allowInsecure ? 'must be an http or https URL' : 'must be an https URL';
  if (url.username || url.password) return 'must not contain credentials';
  if (policy.allowInsecure) return null;

  const hostname = url.hostname.replace(/\.$/, '');
  const address = literalAddress(hostname);
  if (address !== null) {
    return isForbiddenAddress(address) ? 'must not point to a loopback, private, link-local or otherwise non-public address' : null;
  }
  if (!hostname.includes('.') || LOCAL_NAME.test(hostname)) return 'must use a public host name';
  return null;
}
