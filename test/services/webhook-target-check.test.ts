import { describe, expect, it } from 'vitest';
import { parseAllowedCidrs } from '../../src/domain/webhook-address-policy.js';
import { checkWebhookUrl } from '../../src/services/webhook-target-check.js';
import type { ResolvedAddress, ResolveHost, TargetRules, TargetVerdict } from '../../src/services/webhook-target-check.js';

const rules = (cidrs = '', allowHttp = false): TargetRules => ({ addresses: parseAllowedCidrs(cidrs), allowHttp });

const answer = (address: string): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 });

/** A resolver that knows only the names it is given, and records what it was asked. */
function resolverOf(zone: Readonly<Record<string, readonly string[]>>): ResolveHost & { readonly asked: string[] } {
  const asked: string[] = [];
  const resolve = async (hostname: string): Promise<readonly ResolvedAddress[]> => {
    asked.push(hostname);
    const addresses = zone[hostname];
    if (addresses === undefined) throw new Error(`getaddrinfo ENOTFOUND ${hostname}`);
    return addresses.map(answer);
  };
  return Object.assign(resolve, { asked });
}

const noDns = resolverOf({});

const detailOf = (verdict: TargetVerdict): string => (verdict.allowed ? '' : verdict.detail);

describe('checkWebhookUrl', () => {
  it('refuses a loopback URL without an allow-list', async () => {
    const verdict = await checkWebhookUrl('http://127.0.0.1:8080/hook', rules(), noDns);

    expect(verdict).toMatchObject({ allowed: false, reason: 'blocked_address' });
    expect(detailOf(verdict)).toContain('127.0.0.1');
  });

  it('refuses a loopback URL without an allow-list even when plain http is allowed', async () => {
    const verdict = await checkWebhookUrl('http://127.0.0.1:8080/hook', rules('', true), noDns);

    expect(verdict).toMatchObject({ allowed: false, reason: 'blocked_address' });
  });

  it('allows http to 127.0.0.1 once 127.0.0.1/32 is allowed, with no other flag', async () => {
    const resolve = resolverOf({});

    const verdict = await checkWebhookUrl('http://127.0.0.1:8080/hook', rules('127.0.0.1/32'), resolve);

    expect(verdict).toEqual({ allowed: true });
    expect(resolve.asked).toEqual([]);
  });

  it('checks an IPv6 literal without its brackets', async () => {
    expect(await checkWebhookUrl('https://[::1]:8443/hook', rules(), noDns)).toMatchObject({ reason: 'blocked_address' });
    expect(await checkWebhookUrl('https://[::1]:8443/hook', rules('::1/128'), noDns)).toEqual({ allowed: true });
    expect(await checkWebhookUrl('https://[::ffff:7f00:1]/hook', rules(), noDns)).toMatchObject({ reason: 'blocked_address' });
  });

  it('refuses the metadata address even when its /16 is allowed', async () => {
    const verdict = await checkWebhookUrl('http://169.254.169.254/latest/meta-data/', rules('169.254.0.0/16, 127.0.0.0/8', true), noDns);

    expect(verdict).toMatchObject({ allowed: false, reason: 'blocked_address' });
  });

  it('refuses a hostname whose resolver answers 127.0.0.1', async () => {
    const resolve = resolverOf({ 'sneaky.example': ['127.0.0.1'] });

    const verdict = await checkWebhookUrl('https://sneaky.example/hook', rules(), resolve);

    expect(verdict).toMatchObject({ allowed: false, reason: 'blocked_address' });
    expect(detailOf(verdict)).toContain('sneaky.example (127.0.0.1)');
    expect(resolve.asked).toEqual(['sneaky.example']);
  });

  it('refuses a hostname when any one of its addresses is private', async () => {
    const resolve = resolverOf({ 'mixed.example': ['93.184.215.14', '10.0.0.1'] });

    const verdict = await checkWebhookUrl('https://mixed.example/hook', rules(), resolve);

    expect(verdict).toMatchObject({ allowed: false, reason: 'blocked_address' });
    expect(detailOf(verdict)).toContain('10.0.0.1');
  });

  it('allows https to a hostname with only public addresses', async () => {
    const resolve = resolverOf({ 'hooks.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'] });

    expect(await checkWebhookUrl('https://hooks.example.com/in?x=1', rules(), resolve)).toEqual({ allowed: true });
  });

  it('refuses plain http to a public host unless WEBHOOK_ALLOW_HTTP is set', async () => {
    const resolve = resolverOf({ 'hooks.example.com': ['93.184.215.14'] });

    expect(await checkWebhookUrl('http://hooks.example.com/in', rules(), resolve)).toMatchObject({ allowed: false, reason: 'scheme' });
    expect(await checkWebhookUrl('http://hooks.example.com/in', rules('', true), resolve)).toEqual({ allowed: true });
  });

  it('allows plain http to a hostname whose every address is allow-listed', async () => {
    const resolve = resolverOf({ 'receiver.test': ['127.0.0.1'] });

    expect(await checkWebhookUrl('http://receiver.test:9000/hook', rules('127.0.0.1/32'), resolve)).toEqual({ allowed: true });
  });

  it('refuses a URL carrying a username or password', async () => {
    const resolve = resolverOf({ 'hooks.example.com': ['93.184.215.14'] });

    expect(await checkWebhookUrl('https://user:secret@hooks.example.com/in', rules(), resolve)).toMatchObject({ allowed: false, reason: 'userinfo' });
    expect(await checkWebhookUrl('https://user@hooks.example.com/in', rules(), resolve)).toMatchObject({ allowed: false, reason: 'userinfo' });
    expect(resolve.asked).toEqual([]);
  });

  it.each(['ftp://hooks.example.com/in', 'file:///etc/passwd', 'gopher://127.0.0.1:70/', 'javascript:alert(1)'])('refuses the scheme of %s', async (url) => {
    expect(await checkWebhookUrl(url, rules('127.0.0.1/32', true), noDns)).toMatchObject({ allowed: false, reason: 'scheme' });
  });

  it.each(['', 'not a url', '/relative/path', 'https://'])('refuses %j as an invalid URL', async (url) => {
    expect(await checkWebhookUrl(url, rules(), noDns)).toMatchObject({ allowed: false, reason: 'invalid_url' });
  });

  it('reports a name that does not resolve as unresolvable', async () => {
    const verdict = await checkWebhookUrl('https://nowhere.invalid/hook', rules(), resolverOf({ 'empty.example': [] }));
    const empty = await checkWebhookUrl('https://empty.example/hook', rules(), resolverOf({ 'empty.example': [] }));

    expect(verdict).toMatchObject({ allowed: false, reason: 'unresolvable' });
    expect(detailOf(verdict)).toContain('nowhere.invalid');
    expect(empty).toMatchObject({ allowed: false, reason: 'unresolvable' });
  });

  it('refuses localhost names unless every address they resolve to is allow-listed', async () => {
    const resolve = resolverOf({ localhost: ['127.0.0.1', '::1'], 'app.localhost': ['8.8.8.8'] });

    expect(await checkWebhookUrl('https://localhost/hook', rules('127.0.0.1/32'), resolve)).toMatchObject({ reason: 'blocked_address' });
    expect(await checkWebhookUrl('https://LocalHost./hook', rules('127.0.0.1/32, ::1/128'), resolverOf({ 'localhost.': ['127.0.0.1'] }))).toEqual({
      allowed: true,
    });
    expect(await checkWebhookUrl('https://localhost/hook', rules('127.0.0.1/32, ::1/128'), resolve)).toEqual({ allowed: true });
    expect(await checkWebhookUrl('https://app.localhost/hook', rules(), resolve)).toMatchObject({ reason: 'blocked_address' });
  });
});
