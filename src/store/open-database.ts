import { mkdir } from 'node:fs/promises';
import { PGlite, types } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import type { Database } from './database.js';

export type DatabaseTarget =
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize: number }
  | {
      readonly kind: 'pglite';
      readonly dataDir: string | undefined;
      /** A dump (PGlite dumpDataDir) to start from instead of an empty database. */
      readonly snapshot?: Blob;
    };

export interface OpenDatabase {
  readonly db: Kysely<Database>;
  readonly target: DatabaseTarget['kind'];
  /** A PostgreSQL server runs transactions side by side; PGlite runs one connection at a time. */
  readonly concurrentTransactions: boolean;
}

// Without this, a forgotten open transaction would hold back the feed horizon for every reader.
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 30_000;

/**
 * Opens the database the service runs on: a PostgreSQL server, or PGlite embedded in the process
 * (kept in `dataDir`, or in memory when it is undefined). The same migrations and queries serve both.
 */
export async function openDatabase(target: DatabaseTarget): Promise<OpenDatabase> {
  if (target.kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: target.url,
      max: target.poolSize,
      options: `-c idle_in_transaction_session_timeout=${IDLE_IN_TRANSACTION_TIMEOUT_MS}`,
    });
    return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), target: 'postgres', concurrentTransactions: true };
  }
  return openPglite(await createPglite(target.dataDir, target.snapshot));
}

/** Starts embedded PostgreSQL, in `dataDir` or in memory, optionally from a dump. */
export async function createPglite(dataDir: string | undefined, snapshot?: Blob): Promise<PGlite> {
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
  // int8 as a string, as node-postgres returns it, so that both targets give the same values.
  return PGlite.create(dataDir, {
    parsers: { [types.INT8]: (value: string) => value },
    ...(snapshot !== undefined && { loadDataDir: snapshot }),
  });
}

/** Kysely over an embedded database; destroying it closes the database. */
export function openPglite(pglite: PGlite): OpenDatabase {
  return { db: new Kysely<Database>({ dialect: new PGliteDialect(pglite) }), target: 'pglite', concurrentTransactions: false };
}
