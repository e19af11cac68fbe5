import { z } from 'zod';

/** SPEC §8: reader (GET only) < writer (+ record events) < admin (+ subscriptions and keys). */
export const Role = z.enum(['reader', 'writer', 'admin']);
export type Role = z.infer<typeof Role>;

const RANK: Readonly<Record<Role, number>> = { reader: 0, writer: 1, admin: 2 };

export function roleAllows(role: Role, required: Role): boolean {
  return RANK[role] >= RANK[required];
}

/**
 * What a Bearer key may look like: 16 to 200 printable characters without spaces. The keys this
 * service issues (mlk_…) are of this form, and so must ADMIN_API_KEY be. Any key of this form is
 * looked up by its hash, so that an ADMIN_API_KEY one instance seeded works on every instance of
 * the database, whatever their own ADMIN_API_KEY, as the key list shows it.
 */
export const API_KEY_FORM = /^[\x21-\x7e]{16,200}$/;

/** Who is making a request: the API key it carries. */
export interface Principal {
  readonly keyId: string;
  readonly name: string;
  readonly role: Role;
}
