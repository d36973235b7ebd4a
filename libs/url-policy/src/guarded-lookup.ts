import { lookup as dnsLookup } from 'node:dns';
import { isForbiddenAddress, literalAddress } from './address-policy';

/** Raised (as a connection error) when a host resolves to an address we refuse to reach. */
export class BlockedAddressError extends Error {
  readonly code = 'ERR_BLOCKED_ADDRESS';

  constructor(
    readonly hostname: string,
    readonly address: string,
  ) {
    super(`${hostname} resolves to ${address}, which is not a public address`);
    this.name = 'BlockedAddressError';
  }
}

export interface CheckedAddress {
  address: string;
  family: number;
}

/**
 * Resolves a host the way every outbound connection does before it is opened: a literal IP is taken
 * as it is, a name through `resolve`; then every answer must be public (unless `allowInsecure`), and
 * the connection is made to the first one, so what was checked is what is reached, with or without
 * a proxy in between (the proxy is asked for this address, never for the name).
 */
export function resolveCheckedAddress(
  hostname: string,
  { allowInsecure, resolve = dnsLookup }: { allowInsecure: boolean; resolve?: typeof dnsLookup },
): Promise<CheckedAddress> {
  const literal = literalAddress(hostname);
  if (literal !== null) {
    if (!allowInsecure && isForbiddenAddress(literal)) return Promise.reject(new BlockedAddressError(hostname, literal));
    return Promise.resolve({ address: literal, family: literal.includes(':') ? 6 : 4 });
  }
  return new Promise((resolvePromise, reject) => {
    resolve(hostname, { all: true }, (error, addresses) => {
      if (error) return reject(error);
      if (addresses.length === 0) return reject(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }));
      const blocked = allowInsecure ? undefined : addresses.find(({ address }) => isForbiddenAddress(address));
      if (blocked) return reject(new BlockedAddressError(hostname, blocked.address));
      resolvePromise(addresses[0]);
    });
  });
}
