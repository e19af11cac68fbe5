import { describe, expect, it } from 'vitest';
import { classifyAddress, isAddressAllowed, isBlockedHostname, parseAllowedCidrs } from '../../src/domain/webhook-address-policy.js';

const NONE = parseAllowedCidrs('');

describe('isAddressAllowed', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'IPv6 loopback'],
    ['10.1.2.3', 'private 10/8'],
    ['172.16.0.1', 'private 172.16/12'],
    ['192.168.1.1', 'private 192.168/16'],
    ['169.254.1.1', 'link-local'],
    ['169.254.169.254', 'cloud metadata'],
    ['fe80::1', 'IPv6 link-local'],
    ['100.64.0.1', 'CGNAT'],
    ['100.100.100.200', 'Alibaba metadata (CGNAT)'],
    ['fd00:ec2::254', 'AWS IPv6 metadata (ULA)'],
    ['fc00::1', 'ULA'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'IPv6 multicast'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'IPv6 unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.10', 'documentation (reserved)'],
    ['240.0.0.1', 'reserved class E'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped metadata in hex'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::7f00:1', 'IPv4-compatible loopback'],
    ['2002:7f00:1::1', '6to4 of 127.0.0.1'],
    ['2002:a9fe:a9fe::', '6to4 of 169.254.169.254'],
    ['2002:0a00:0001::1', '6to4 of 10.0.0.1'],
    ['64:ff9b::7f00:1', 'NAT64 of 127.0.0.1'],
    ['64:ff9b::10.0.0.1', 'NAT64 of 10.0.0.1'],
    ['2001::1', 'Teredo'],
    ['2002:0808:0808::1', '6to4 of the public 8.8.8.8'],
    ['64:ff9b::8.8.8.8', 'NAT64 of the public 8.8.8.8'],
  ])('blocks %s (%s) by default', (address) => {
    expect(isAddressAllowed(address, NONE)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '93.184.215.14', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8'])(
    'allows the public address %s',
    (address) => {
      expect(isAddressAllowed(address, NONE)).toBe(true);
    },
  );

  it.each(['', 'localhost', 'example.com', '127.1', '0177.0.0.1', '2130706433', '127.0.0.01', '1.2.3.4.5', '::ffff:zz', '8.8.8.8/32'])(
    'refuses the unparseable address %j',
    (address) => {
      expect(isAddressAllowed(address, NONE)).toBe(false);
    },
  );

  it('allows loopback once 127.0.0.0/8 is allowed, in IPv4 and IPv4-mapped form, but not ::1', () => {
    const policy = parseAllowedCidrs('127.0.0.0/8');

    expect(isAddressAllowed('127.0.0.1', policy)).toBe(true);
    expect(isAddressAllowed('127.9.9.9', policy)).toBe(true);
    expect(isAddressAllowed('::ffff:127.0.0.1', policy)).toBe(true);
    expect(isAddressAllowed('::1', policy)).toBe(false);
    expect(isAddressAllowed('10.0.0.1', policy)).toBe(false);
  });

  it('keeps 169.254.169.254 blocked when 169.254.0.0/16 is allowed, though its neighbours pass', () => {
    const policy = parseAllowedCidrs('169.254.0.0/16, 127.0.0.0/8');

    expect(isAddressAllowed('169.254.169.254', policy)).toBe(false);
    expect(isAddressAllowed('::ffff:169.254.169.254', policy)).toBe(false);
    expect(isAddressAllowed('169.254.170.2', policy)).toBe(false);
    expect(isAddressAllowed('169.254.169.253', policy)).toBe(true);
  });

  it('allows a metadata address only when a CIDR names exactly that address', () => {
    expect(isAddressAllowed('169.254.169.254', parseAllowedCidrs('169.254.169.254/32'))).toBe(true);
    expect(isAddressAllowed('169.254.169.254', parseAllowedCidrs('169.254.169.254'))).toBe(true);
    expect(isAddressAllowed('169.254.169.254', parseAllowedCidrs('169.254.169.254/31'))).toBe(false);
    expect(isAddressAllowed('fd00:ec2::254', parseAllowedCidrs('fd00::/8'))).toBe(false);
    expect(isAddressAllowed('fd00:ec2::254', parseAllowedCidrs('fd00:ec2::254/128'))).toBe(true);
    expect(isAddressAllowed('100.100.100.200', parseAllowedCidrs('100.64.0.0/10'))).toBe(false);
  });

  it('refuses 6to4 and NAT64 forms of an allowed IPv4 address when no IPv6 entry covers the form itself', () => {
    const policy = parseAllowedCidrs('10.0.0.0/8, 127.0.0.1');

    expect(isAddressAllowed('10.0.0.1', policy)).toBe(true);
    expect(isAddressAllowed('2002:0a00:0001::1', policy)).toBe(false);
    expect(isAddressAllowed('64:ff9b::10.0.0.1', policy)).toBe(false);
    expect(isAddressAllowed('2002:7f00:1::1', policy)).toBe(false);
    expect(isAddressAllowed('64:ff9b::7f00:1', policy)).toBe(false);
  });

  it('judges 6to4 and NAT64 forms by the IPv4 address they carry once the allow-list names their prefix', () => {
    const policy = parseAllowedCidrs('64:ff9b::/96, 2002::/16, 10.0.0.0/8');

    expect(classifyAddress('64:ff9b::8.8.8.8', policy)).toBe('public');
    expect(classifyAddress('2002:0808:0808::1', policy)).toBe('public');
    expect(classifyAddress('64:ff9b::10.0.0.1', policy)).toBe('listed');
    expect(classifyAddress('2002:0a00:0001::1', policy)).toBe('listed');
    expect(isAddressAllowed('64:ff9b::127.0.0.1', policy)).toBe(false);
    expect(isAddressAllowed('2002:a9fe:a9fe::', policy)).toBe(false);
  });

  it('keeps a prefix narrower than 2002::/16 to the 6to4 addresses it covers', () => {
    const policy = parseAllowedCidrs('2002:0808::/32');

    expect(isAddressAllowed('2002:0808:0808::1', policy)).toBe(true);
    expect(isAddressAllowed('2002:0101:0101::1', policy)).toBe(false);
  });

  it('ranks allow-listed addresses, public ones and the rest', () => {
    const policy = parseAllowedCidrs('8.8.8.0/24, 127.0.0.1');

    expect(classifyAddress('8.8.8.8', policy)).toBe('listed');
    expect(classifyAddress('127.0.0.1', policy)).toBe('listed');
    expect(classifyAddress('1.1.1.1', policy)).toBe('public');
    expect(classifyAddress('127.0.0.2', policy)).toBe('blocked');
  });
});

describe('parseAllowedCidrs', () => {
  it('reads a comma-separated list, tolerating spaces and empty entries', () => {
    const policy = parseAllowedCidrs(' 127.0.0.1/32 ,::1/128,, 10.0.0.0/8 ,');

    expect(policy.allowedCidrs.map((cidr) => cidr.text)).toEqual(['127.0.0.1/32', '::1/128', '10.0.0.0/8']);
    expect(policy.allowedCidrs.map((cidr) => cidr.prefixLength)).toEqual([32, 128, 8]);
  });

  it('reads an empty or blank list as no allowances', () => {
    expect(parseAllowedCidrs('').allowedCidrs).toEqual([]);
    expect(parseAllowedCidrs('  ').allowedCidrs).toEqual([]);
  });

  it('reads a bare address as that single address', () => {
    const policy = parseAllowedCidrs('127.0.0.1, ::1');

    expect(policy.allowedCidrs.map((cidr) => cidr.prefixLength)).toEqual([32, 128]);
    expect(isAddressAllowed('127.0.0.1', policy)).toBe(true);
    expect(isAddressAllowed('127.0.0.2', policy)).toBe(false);
    expect(isAddressAllowed('::1', policy)).toBe(true);
  });

  it('reads an IPv4-mapped CIDR as its IPv4 range', () => {
    const policy = parseAllowedCidrs('::ffff:127.0.0.0/104');

    expect(isAddressAllowed('127.0.0.1', policy)).toBe(true);
  });

  it.each(['10.0.0.0/33', '::1/129', '10.0.0.0/08', '10.0.0.0/', '10.0.0.0/+8', '127.1/8', '0177.0.0.1/32', 'fe80::1%eth0/64', 'example.com', '10.0.0.0/8/8'])(
    'names the bad entry %j in its error',
    (entry) => {
      expect(() => parseAllowedCidrs(`127.0.0.1/32, ${entry}`)).toThrow(`"${entry}" is not a CIDR`);
    },
  );
});

describe('isBlockedHostname', () => {
  it.each(['localhost', 'LOCALHOST', 'localhost.', 'api.localhost', 'Deep.Api.LocalHost.'])('blocks %s', (name) => {
    expect(isBlockedHostname(name)).toBe(true);
  });

  it.each(['example.com', 'localhost.example.com', 'mylocalhost', 'localhosts', '127.0.0.1'])('does not block %s', (name) => {
    expect(isBlockedHostname(name)).toBe(false);
  });
});
