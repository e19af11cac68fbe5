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
