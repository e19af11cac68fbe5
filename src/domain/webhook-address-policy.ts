import ipaddr from 'ipaddr.js';
import type { IPv4, IPv6 } from 'ipaddr.js';

type Address = IPv4 | IPv6;

/** One entry of WEBHOOK_ALLOWED_CIDRS, kept with the text the operator wrote. */
export interface AllowedCidr {
  readonly text: string;
  readonly network: Address;
  readonly prefixLength: number;
}

/** Which non-public addresses webhooks may reach (webhooks.md §2.6); public unicast needs no entry. */
export interface AddressPolicy {
  readonly allowedCidrs: readonly AllowedCidr[];
}

/**
 * How an address stands under a policy: `listed` when an allowed CIDR covers it, `public` when it
 * is public unicast that no CIDR names, `blocked` otherwise.
 */
export type AddressStanding = 'listed' | 'public' | 'blocked';

/**
 * Cloud credential endpoints. A broad allowance such as 169.254.0.0/16 must not expose them, so
 * only a CIDR naming the single address lets one through.
 */
const METADATA_ADDRESSES: readonly Address[] = [
  '169.254.169.254', // AWS, GCP, Azure, OCI instance metadata
  '169.254.170.2', // AWS ECS task credentials
  '169.254.170.23', // AWS EKS Pod Identity
  '100.100.100.200', // Alibaba Cloud
  '192.0.0.192', // Oracle Cloud (legacy)
  'fd00:ec2::254', // AWS metadata over IPv6
  'fd00:ec2::23', // AWS EKS Pod Identity over IPv6
].map((text) => ipaddr.parse(text));

const PREFIX = /^(0|[1-9]\d{0,2})$/;

const NAT64_WELL_KNOWN: [IPv6, number] = [ipaddr.IPv6.parse('64:ff9b::'), 96];

// IPv4-compatible addresses (::a.b.c.d) are deprecated and ipaddr.js calls them unicast.
const IPV4_COMPATIBLE: [IPv6, number] = [ipaddr.IPv6.parse('::'), 96];

// The WHATWG URL parser and getaddrinfo both yield dotted decimal; the shorthand and octal forms
// ipaddr.js also reads ('127.1', '0177.0.0.1') would only be a way to smuggle a different address.
function parseStrict(text: string): Address | undefined {
  if (ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text);
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  return undefined;
}

function parseEntry(text: string): AllowedCidr {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? undefined : text.slice(slash + 1);
  const address = addressText.includes('%') ? undefined : parseStrict(addressText);
  const maxPrefix = address?.kind() === 'ipv4' ? 32 : 128;
  const prefixLength = prefixText === undefined ? maxPrefix : PREFIX.test(prefixText) ? Number(prefixText) : NaN;
  if (address === undefined || !(prefixLength <= maxPrefix)) throw new Error(`"${text}" is not a CIDR`);
  // Written as ::ffff:a.b.c.d/n, the entry would otherwise never match, since addresses are unmapped first.
  if (address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress() && prefixLength >= 96) {
    return { text, network: address.toIPv4Address(), prefixLength: prefixLength - 96 };
  }
  return { text, network: address, prefixLength };
}

/**
 * Reads WEBHOOK_ALLOWED_CIDRS: comma-separated, spaces and empty entries ignored. A bare address
 * means that single address (/32 or /128). Host bits after the prefix are ignored, as ipaddr.js
 * does. Throws an Error naming the first entry that is not a CIDR.
 */
export function parseAllowedCidrs(list: string): AddressPolicy {
  const entries = list
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return { allowedCidrs: entries.map(parseEntry) };
}

/**
 * The IPv4 address a 6to4 (2002::/16) or well-known NAT64 (64:ff9b::/96) address stands for: a
 * relay or translator, not this host, turns it into a packet to that IPv4 address.
 */
function translatedIPv4(address: IPv6): IPv4 | undefined {
  const [first = 0, second = 0, third = 0, , , , seventh = 0, eighth = 0] = address.parts;
  const fromWords = (high: number, low: number): IPv4 => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  if (first === 0x2002) return fromWords(second, third);
  if (address.match(NAT64_WELL_KNOWN)) return fromWords(seventh, eighth);
  return undefined;
}

function isPublicUnicast(address: Address): boolean {
  if (address instanceof ipaddr.IPv6 && address.match(IPV4_COMPATIBLE)) return false;
  return address.range() === 'unicast';
}

function covers(cidr: AllowedCidr, address: Address): boolean {
  if (cidr.network.kind() !== address.kind()) return false;
  return address.match([cidr.network, cidr.prefixLength]);
}

function namesExactly(cidr: AllowedCidr, address: Address): boolean {
  const single = cidr.network.kind() === 'ipv4' ? 32 : 128;
  return cidr.prefixLength === single && covers(cidr, address);
}

const isMetadata = (address: Address): boolean =>
  METADATA_ADDRESSES.some((metadata) => metadata.kind() === address.kind() && metadata.toNormalizedString() === address.toNormalizedString());

/**
 * Classifies a resolved or literal address. An IPv4-mapped address (::ffff:a.b.c.d) is judged as
 * its IPv4 address, which is what the socket reaches. A 6to4 or NAT64 address is blocked unless an
 * allowed CIDR written in IPv6 covers it (2002::/16, 64:ff9b::/96 or narrower): the operator thereby
 * says a relay or translator is in use, and the address is then judged as the IPv4 address it
 * carries, so a private or metadata address behind it needs its own IPv4 allowance as well.
 * Without that, the embedding would be a way around an IPv4 allow-list. An unparseable address is blocked.
 */
export function classifyAddress(address: string, policy: AddressPolicy): AddressStanding {
  const parsed = parseStrict(address);
  if (parsed === undefined) return 'blocked';
  return classifyTarget(parsed instanceof ipaddr.IPv6 && parsed.isIPv4MappedAddress() ? parsed.toIPv4Address() : parsed, policy);
}

function classifyTarget(target: Address, policy: AddressPolicy): AddressStanding {
  const translated = target instanceof ipaddr.IPv6 ? translatedIPv4(target) : undefined;
  if (translated !== undefined) {
    return policy.allowedCidrs.some((cidr) => covers(cidr, target)) ? classifyTarget(translated, policy) : 'blocked';
  }
  if (isMetadata(target)) return policy.allowedCidrs.some((cidr) => namesExactly(cidr, target)) ? 'listed' : 'blocked';
  if (policy.allowedCidrs.some((cidr) => covers(cidr, target))) return 'listed';
  return isPublicUnicast(target) ? 'public' : 'blocked';
}

/** True when a webhook may connect to the address: public unicast, or covered by an allowed CIDR. */
export function isAddressAllowed(address: string, policy: AddressPolicy): boolean {
  return classifyAddress(address, policy) !== 'blocked';
}

/** A WEBHOOK_ALLOWED_CIDRS entry that lets a blocked address through, and whom it lets through. */
export interface Allowance {
  readonly cidr: string;
  readonly opens: string;
}

/**
 * The narrowest sensible allowance for an address: the loopback block for a loopback address (a
 * receiver may listen on any of them), else the address alone, which also suits metadata addresses.
 * A 6to4 or NAT64 address needs more than this (see classifyAddress); the hint names the first step.
 */
export function allowanceFor(address: string): Allowance | undefined {
  const parsed = parseStrict(address);
  if (parsed === undefined) return undefined;
  const target = parsed instanceof ipaddr.IPv6 && parsed.isIPv4MappedAddress() ? parsed.toIPv4Address() : parsed;
  if (target.range() === 'loopback') {
    return { cidr: target.kind() === 'ipv4' ? '127.0.0.0/8' : '::1/128', opens: 'loopback receivers' };
  }
  return { cidr: `${target.toString()}/${target.kind() === 'ipv4' ? 32 : 128}`, opens: `receivers at ${target.toString()}` };
}

/** `localhost` and `*.localhost` (RFC 6761), whatever the case, with or without a trailing dot. */
export function isBlockedHostname(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.+$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}
