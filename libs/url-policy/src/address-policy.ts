import ipaddr from 'ipaddr.js';

/**
 * True when connecting to `address` could reach something that is not the public internet:
 * loopback, private, link-local (cloud metadata 169.254.169.254), CGNAT, multicast, broadcast,
 * unspecified, reserved and documentation ranges, unique-local IPv6, and every IPv6 form that
 * embeds an IPv4 address (IPv4-mapped, 6to4, NAT64, Teredo). Only ipaddr.js's "unicast" passes.
 * Anything that does not parse as an address is refused too.
 */
export function isForbiddenAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return true;
  return ipaddr.parse(address).range() !== 'unicast';
}

/** The IP address a URL host names literally ("[::1]" included), or null for a DNS name. */
export function literalAddress(hostname: string): string | null {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return ipaddr.isValid(bare) ? bare : null;
}
