import type { LookupAddress } from 'node:dns';
import { isForbiddenAddress, literalAddress } from './address-policy';
import { checkCallbackUrl } from './callback-url-policy';
import { BlockedAddressError, resolveCheckedAddress } from './guarded-lookup';

const strict = { allowInsecure: false };
const insecure = { allowInsecure: true };

describe('isForbiddenAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback range'],
    ['10.0.0.1', 'private 10/8'],
    ['172.16.5.4', 'private 172.16/12'],
    ['192.168.1.1', 'private 192.168/16'],
    ['169.254.169.254', 'cloud metadata (link-local)'],
    ['100.64.0.1', 'CGNAT 100.64/10'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', '0/8'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['198.18.0.1', 'benchmarking'],
    ['192.0.2.10', 'documentation'],
    ['::', 'IPv6 unspecified'],
    ['::1', 'IPv6 loopback'],
    ['fe80::1', 'IPv6 link-local'],
    ['fd12:3456::1', 'IPv6 unique-local'],
    ['ff02::1', 'IPv6 multicast'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped metadata, hex form'],
    ['::ffff:8.8.8.8', 'IPv4-mapped, even public'],
    ['::7f00:1', 'IPv4-compatible loopback (::/96)'],
    ['::127.0.0.1', 'IPv4-compatible loopback, dotted'],
    ['::a9fe:a9fe', 'IPv4-compatible metadata'],
    ['::808:808', 'IPv4-compatible, even public'],
    ['2002:7f00:1::', '6to4 of loopback'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 of metadata'],
    ['2001::1', 'Teredo'],
    ['2001:db8::1', 'IPv6 documentation'],
    ['not-an-ip', 'not an address'],
  ])('refuses %s (%s)', (address) => expect(isForbiddenAddress(address)).toBe(true));

  it.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '2a00:1450:4001::200e'])('allows public %s', (address) =>
    expect(isForbiddenAddress(address)).toBe(false),
  );
});

describe('literalAddress', () => {
  it('unwraps bracketed IPv6 and ignores names', () => {
    expect(literalAddress('[::1]')).toBe('::1');
    expect(literalAddress('10.0.0.1')).toBe('10.0.0.1');
    expect(literalAddress('example.com')).toBeNull();
  });
});

describe('checkCallbackUrl', () => {
  it.each([
    'https://partner.example.com/hooks',
    'https://partner.example.com:8443/a?b=c',
    'https://8.8.8.8/x',
    'https://[2606:4700::1111]/x',
  ])('accepts %s', (url) => expect(checkCallbackUrl(url, strict)).toBeNull());

  it.each([
    ['http://partner.example.com/hooks', /https/],
    ['ftp://partner.example.com', /https/],
    ['/relative/path', /absolute/],
    ['not a url', /absolute/],
    ['https://user:pw@partner.example.com', /credentials/],
    ['https://localhost/x', /public host/],
    ['https://api.localhost/x', /public host/],
    ['https://printer.local/x', /public host/],
    ['https://db.internal/x', /public host/],
    ['https://intranet/x', /public host/],
    ['https://127.0.0.1/x', /non-public/],
    ['https://127.1/x', /non-public/],
    ['https://2130706433/x', /non-public/],
    ['https://0x7f.0.0.1/x', /non-public/],
    ['https://169.254.169.254/latest/meta-data', /non-public/],
    ['https://10.1.2.3/x', /non-public/],
    ['https://[::1]/x', /non-public/],
    ['https://[::ffff:127.0.0.1]/x', /non-public/],
    ['https://[::127.0.0.1]/x', /non-public/],
    ['https://[::7f00:1]/x', /non-public/],
    ['https://[fd00::1]/x', /non-public/],
    [`https://example.com/${'a'.repeat(2048)}`, /at most 2048/],
  ])('refuses %s', (url, problem) => expect(checkCallbackUrl(url, strict)).toMatch(problem));

  it('allows http and private hosts only when insecure callbacks are allowed', () => {
    expect(checkCallbackUrl('http://127.0.0.1:4000/hook', insecure)).toBeNull();
    expect(checkCallbackUrl('http://localhost/hook', insecure)).toBeNull();
    expect(checkCallbackUrl('ftp://127.0.0.1/hook', insecure)).toMatch(/http or https/);
    expect(checkCallbackUrl('http://u:p@localhost/hook', insecure)).toMatch(/credentials/);
  });
});

describe('resolveCheckedAddress', () => {
  const answering = (addresses: LookupAddress[]) =>
    ((_host: string, _options: unknown, callback: (error: Error | null, answer: LookupAddress[]) => void) =>
      callback(null, addresses)) as never;

  it('gives the first answer when all are public, and literal IPs without a lookup', async () => {
    const resolve = answering([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1::1', family: 6 },
    ]);
    await expect(resolveCheckedAddress('hooks.example.com', { allowInsecure: false, resolve })).resolves.toEqual({
      address: '93.184.216.34',
      family: 4,
    });
    await expect(resolveCheckedAddress('2606:4700::1111', { allowInsecure: false, resolve: answering([]) })).resolves.toEqual({
      address: '2606:4700::1111',
      family: 6,
    });
  });

  it('refuses a name with any non-public answer, and non-public literals, unless insecure callbacks are allowed', async () => {
    const rebinding = answering([
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.5', family: 4 },
    ]);
    await expect(resolveCheckedAddress('hooks.example.com', { allowInsecure: false, resolve: rebinding })).rejects.toBeInstanceOf(
      BlockedAddressError,
    );
    await expect(resolveCheckedAddress('169.254.169.254', { allowInsecure: false })).rejects.toMatchObject({ code: 'ERR_BLOCKED_ADDRESS' });
    await expect(resolveCheckedAddress('hooks.example.com', { allowInsecure: true, resolve: rebinding })).resolves.toEqual({
      address: '93.184.216.34',
      family: 4,
    });
    await expect(resolveCheckedAddress('127.0.0.1', { allowInsecure: true })).resolves.toEqual({ address: '127.0.0.1', family: 4 });
  });

  it('passes DNS failures and empty answers on as errors', async () => {
    await expect(resolveCheckedAddress('hooks.example.com', { allowInsecure: false, resolve: answering([]) })).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
  });
});
