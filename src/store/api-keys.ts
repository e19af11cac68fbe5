import { sql } from 'kysely';
import { Role } from '../domain/access.js';
import { afterCreated, createdKeyColumn, createdPage, type CreatedKey } from './page-cursor.js';
import { pageRead } from './page-read.js';
import type { Db } from './database.js';

export interface StoredApiKey {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly keyPrefix: string;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
}

export interface NewApiKey {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly keyHash: string;
  readonly keyPrefix: string;
}

const COLUMNS = ['id', 'name', 'role', 'key_prefix', 'created_at', 'revoked_at'] as const;

function toStoredApiKey(row: { id: string; name: string; role: string; key_prefix: string; created_at: Date; revoked_at: Date | null }): StoredApiKey {
  return {
    id: row.id,
    name: row.name,
    role: Role.parse(row.role),
    keyPrefix: row.key_prefix,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

const toRow = (key: NewApiKey) => ({
  id: key.id,
  name: key.name,
  role: key.role,
  key_hash: key.keyHash,
  key_prefix: key.keyPrefix,
  revoked_at: null,
});

export async function insertApiKey(db: Db, key: NewApiKey): Promise<StoredApiKey> {
  const row = await db
    .insertInto('api_key')
    .values(toRow(key))
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
  return toStoredApiKey(row);
}

/** The prefix listed for the key ADMIN_API_KEY seeds: none of its characters. */
export const ENVIRONMENT_KEY_PREFIX = '(environment)';

/**
 * Whether an admin key other than ADMIN_API_KEY's is live: an instance accepts only its own
 * ADMIN_API_KEY, so a key seeded by another's does not count.
 */
export async function hasLiveAdminKey(db: Db): Promise<boolean> {
  const row = await db
    .selectFrom('api_key')
    .select('id')
    .where('role', '=', 'admin')
    .where('revoked_at', 'is', null)
    .where('key_prefix', '<>', ENVIRONMENT_KEY_PREFIX)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Inserts the key unless one with the same hash exists (several instances may seed it at once). */
export async function ensureApiKey(db: Db, key: NewApiKey): Promise<void> {
  await db
    .insertInto('api_key')
    .values(toRow(key))
    .onConflict((oc) => oc.column('key_hash').doNothing())
    .execute();
}

export async function findApiKeyByHash(db: Db, keyHash: string): Promise<StoredApiKey | undefined> {
  const row = await db.selectFrom('api_key').select(COLUMNS).where('key_hash', '=', keyHash).executeTakeFirst();
  return row === undefined ? undefined : toStoredApiKey(row);
}

export async function findApiKeyById(db: Db, id: string): Promise<StoredApiKey | undefined> {
  const row = await db.selectFrom('api_key').select(COLUMNS).where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toStoredApiKey(row);
}

/** A page in creation order, after the key of the last one read; `next` is set when more may follow. */
export async function listApiKeys(
  db: Db,
  after: CreatedKey | undefined,
  limit: number,
): Promise<{ readonly items: StoredApiKey[]; readonly next: CreatedKey | undefined }> {
  let query = db
    .selectFrom('api_key')
    .select([...COLUMNS, createdKeyColumn])
    .orderBy('created_at')
    .orderBy('id')
    .limit(pageRead(limit));
  if (after !== undefined) query = query.where(afterCreated(after));
  const { rows, next } = createdPage(await query.execute(), limit);
  return { items: rows.map(toStoredApiKey), next };
}

/** Marks the key revoked (once: a second revocation keeps the first date). Undefined if no such key. */
export async function revokeApiKey(db: Db, id: string): Promise<StoredApiKey | undefined> {
  const row = await db
    .updateTable('api_key')
    .set({ revoked_at: sql<Date>`coalesce(revoked_at, statement_timestamp())` })
    .where('id', '=', id)
    .returning(COLUMNS)
    .executeTakeFirst();
  return row === undefined ? undefined : toStoredApiKey(row);
}
