import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { allowanceFor, classifyAddress, isBlockedHostname } from '../domain/webhook-address-policy.js';
import type { AddressPolicy } from '../domain/webhook-address-policy.js';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Every address a hostname resolves to; injected so tests never depend on real DNS. */
export type ResolveHost = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** The system resolver (getaddrinfo), as the rest of the host sees names: /etc/hosts included. */
export const resolveWithDns: ResolveHost = async (hostname) => {
  const answers = await dns.lookup(hostname, { all: true, verbatim: true });
  return answers.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

export interface TargetRules {
  readonly addresses: AddressPolicy;
  /** WEBHOOK_ALLOW_HTTP: plain http to any allowed address, not only to allow-listed ones. */
  readonly allowHttp: boolean;
}

export type TargetRefusalReason = 'invalid_url' | 'scheme' | 'userinfo' | 'blocked_address' | 'unresolvable';

export interface TargetRefusal {
  readonly allowed: false;
  readonly reason: TargetRefusalReason;
  readonly detail: string;
}

export type TargetVerdict = { readonly allowed: true } | TargetRefusal;

/** The parts of a webhook URL that decide where a request goes. */
export interface WebhookTarget {
  readonly url: URL;
  readonly secure: boolean;
  /** Without the brackets an IPv6 literal has in a URL. */
  readonly hostname: string;
  readonly isIpLiteral: boolean;
}

export type ParsedTarget = { readonly allowed: true; readonly target: WebhookTarget } | TargetRefusal;

const refuse = (reason: TargetRefusalReason, detail: string): TargetRefusal => ({ allowed: false, reason, detail });

/** Checks what the URL alone can tell: that it parses, its scheme family, and no credentials. */
export function parseWebhookTarget(url: string): ParsedTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refuse('invalid_url', `"${url}" is not an absolute URL.`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return refuse('scheme', `The scheme "${parsed.protocol.slice(0, -1)}" is not supported; use https.`);
  }
  // Credentials in a URL end up in logs and delivery records; receivers authenticate by signature.
  if (parsed.username !== '' || parsed.password !== '') {
    return refuse('userinfo', `The URL for ${parsed.hostname} carries a username or password; remove it.`);
  }
  const hostname = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const target = { url: parsed, secure: parsed.protocol === 'https:', hostname, isIpLiteral: isIP(hostname) !== 0 };
  return { allowed: true, target };
}

/**
 * Why a request to this target may not connect to this address, or null when it may. Shared by the
 * registration check and by the send-time lookup, so both apply one rule.
 */
export function refuseAddress(address: string, target: WebhookTarget, rules: TargetRules): TargetRefusal | null {
  const standing = classifyAddress(address, rules.addresses);
  const where = address === target.hostname ? address : `${target.hostname} (${address})`;
  if (standing === 'blocked') {
    return refuse('blocked_address', `${where} is not a public address and no allowed CIDR covers it${howToAllow(address)}.`);
  }
  // A name reserved for this very machine is refused unless the operator allow-listed where it points.
  if (standing !== 'listed' && isBlockedHostname(target.hostname)) {
    return refuse('blocked_address', `${where} is a local name and no allowed CIDR covers it${howToAllow(address)}.`);
  }
  if (!target.secure && !rules.allowHttp && standing !== 'listed') {
    return refuse('scheme', `Plain http to ${where} is not allowed; use https.`);
  }
  return null;
}

// An operator who meant to reach a local receiver (a test, a sidecar) learns the setting from the refusal.
function howToAllow(address: string): string {
  const allowance = allowanceFor(address);
  if (allowance === undefined) return '; the operator can allow addresses with WEBHOOK_ALLOWED_CIDRS';
  return `; set WEBHOOK_ALLOWED_CIDRS=${allowance.cidr} to allow ${allowance.opens}`;
}

/** How long a registration waits for the resolver, unless told otherwise: longer than a healthy resolver takes, shorter than a client waits. */
export const RESOLVE_TIMEOUT_MS = 5000;

/**
 * The answer, or undefined when none came within `ms`. The system resolver (getaddrinfo) cannot be
 * cancelled and may take half a minute on a resolver that does not answer: a registration waits
 * this long at most; the lookup goes on in the background, its answer dropped.
 */
async function answeredWithin<T>(answer: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The registration-time check of a webhook URL (webhooks.md §2.6). It is advisory: DNS can change
 * before a delivery, so the sender applies the same rule again to the address it connects to.
 */
export async function checkWebhookUrl(url: string, rules: TargetRules, resolve: ResolveHost, resolveTimeoutMs = RESOLVE_TIMEOUT_MS): Promise<TargetVerdict> {
  const parsed = parseWebhookTarget(url);
  if (!parsed.allowed) return parsed;
  const { target } = parsed;

  let addresses: readonly string[];
  if (target.isIpLiteral) {
    addresses = [target.hostname];
  } else {
    try {
      const answers = await answeredWithin(resolve(target.hostname), resolveTimeoutMs);
      if (answers === undefined) {
        return refuse('unresolvable', `The host ${target.hostname} was not resolved within ${resolveTimeoutMs} ms; check the name, or try again later.`);
      }
      addresses = answers.map((answer) => answer.address);
    } catch (error) {
      const cause = error instanceof Error ? `: ${error.message}` : '';
      return refuse('unresolvable', `The host ${target.hostname} could not be resolved${cause}.`);
    }
    if (addresses.length === 0) return refuse('unresolvable', `The host ${target.hostname} has no addresses.`);
  }

  // Every address must pass: the resolver may hand any one of them to a later connection.
  for (const address of addresses) {
    const refusal = refuseAddress(address, target, rules);
    if (refusal !== null) return refusal;
  }
  return { allowed: true };
}
