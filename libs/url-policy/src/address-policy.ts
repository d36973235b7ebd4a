import ipaddr from 'ipaddr.js';

/** ::/96, the deprecated IPv4-compatible IPv6 block: ::7f00:1 is 127.0.0.1. */
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

/**
 * True when connecting to `address` could reach something that is not the public internet:
 * loopback, private, link-local (cloud metadata 169.254.169.254), CGNAT, multicast, broadcast,
 * unspecified, reserved and documentation ranges, unique-local IPv6, and every IPv6 form that
 * embeds an IPv4 address (IPv4-mapped, IPv4-compatible, 6to4, NAT64, Teredo). Only ipaddr.js's
 * "unicast" passes. Anything that does not parse as an address is refused too.
 */
export function isForbiddenAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return true;
  const parsed = ipaddr.parse(address);
  // ipaddr.js calls ::/96 "unicast", and the URL parser writes [::127.0.0.1] as [::7f00:1].
  if (parsed.kind() === 'ipv6' && parsed.match(IPV4_COMPATIBLE)) return true;
  return parsed.range() !== 'unicast';
}

/** The IP address a URL host names literally ("[::1]" included), or null for a DNS name. */
export function literalAddress(hostname: string): string | null {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return ipaddr.isValid(bare) ? bare : null;
}
