import { z } from 'zod';

/** SPEC §8: reader (GET only) < writer (+ record events) < admin (+ subscriptions and keys). */
export const Role = z.enum(['reader', 'writer', 'admin']);
export type Role = z.infer<typeof Role>;

const RANK: Readonly<Record<Role, number>> = { reader: 0, writer: 1, admin: 2 };

export function roleAllows(role: Role, required: Role): boolean {
  return RANK[role] >= RANK[required];
}

/** Who is making a request: the API key it carries. */
export interface Principal {
  readonly keyId: string;
  readonly name: string;
  readonly role: Role;
}

/** What an API key this service issues begins with. */
export const API_KEY_PREFIX = 'mlk_';
/** What a key this service issues looks like: the prefix and 32 base64url characters (192 bits). */
export const API_KEY_SHAPE = /^mlk_[A-Za-z0-9_-]{32}$/;
