import { sql, type Kysely } from 'kysely';

/*
 * API keys (SPEC §8). Only a SHA-256 of the key is stored: keys are 192 random bits, so a slow
 * password hash would add latency to every request without adding safety.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table api_key (
      id uuid primary key,
      name text not null,
      role text not null check (role in ('reader', 'writer', 'admin')),
      key_hash text not null unique,
      -- The first characters of the key, shown in lists so an operator can tell keys apart.
      key_prefix text not null,
      created_at timestamptz not null default statement_timestamp(),
      revoked_at timestamptz
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table api_key`.execute(db);
}
