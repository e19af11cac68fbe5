import { Webhook } from 'standardwebhooks';

/**
 * Standard Webhooks headers for one attempt: the stable id, this attempt's timestamp, and one
 * signature per secret that signs now (two during a rotation's overlap, space-separated).
 */
export function signedHeaders(messageId: string, body: string, secrets: readonly string[], now: Date): Record<string, string> {
  const signatures = secrets.map((secret) => new Webhook(secret).sign(messageId, now, body));
  return {
    'content-type': 'application/json',
    'user-agent': 'milestone-ledger-webhooks/1',
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
