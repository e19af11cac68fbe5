import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, sql, type CompiledQuery } from 'kysely';
import { writeCatalogueRules } from './catalogue-rules.js';
import { writeCellEvidenceLimit } from './cell-evidence-limit.js';
import { migrationProvider } from './migrations.js';
import { appendErrorCodesIn, isAppendErrorCode } from '../src/store/append-error-codes.js';

/*
 * Procedural SQL lives one function a file in db/functions, so that each has a history of its own
 * (as Message DB keeps it), and is applied after the migrations with `create or replace`: a
 * migration creates tables, never copies a function's body. Applying is idempotent, and serialised
 * between instances that start at once by a transaction-scoped lock.
 */
const FUNCTIONS_DIR = new URL('./functions/', import.meta.url);

/*
 * Every function plans once per connection (force_generic_plan) and keeps that plan for the
 * connection's life, whatever the tables grow to: a plan changes only when statistics are taken
 * again. Made from statistics taken while a table was small or empty (a new database, a server
 * without autovacuum), reads meant as look-ups by key became scans of whole tables in every fold,
 * and appends took seconds at 200,000 events. So every function is written as look-ups by key
 * (a LIMIT or OFFSET keeps a lateral look-up from being planned as a join) and plans with
 * sequential scans off, which the check below holds for every PL/pgSQL function of the schema,
 * those of migrations too (test/store/fold-plans.test.ts measures the rows an append reads).
 */
const BY_KEY_ONLY = 'enable_seqscan=off';

async function assertPlansByKeyOnly<DB>(trx: Kysely<DB>): Promise<void> {
  const { rows } = await sql<{ name: string }>`
    select p.proname as name from pg_proc p
    join pg_language l on l.oid = p.prolang
    join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = current_schema() and l.lanname = 'plpgsql'
      and not coalesce(p.proconfig, '{}') @> array[${BY_KEY_ONLY}]
      -- An extension's functions are its own business.
      and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
    order by 1`.execute(trx);
  if (rows.length > 0) throw new Error(`these functions plan without ${BY_KEY_ONLY}: ${rows.map((r) => r.name).join(', ')}`);
}

/** The function files, in name order. */
export async function functionFiles(): Promise<{ readonly name: string; readonly text: string }[]> {
  const names = (await readdir(FUNCTIONS_DIR)).filter((name) => name.endsWith('.sql')).sort();
  return Promise.all(names.map(async (name) => ({ name, text: await readFile(new URL(name, FUNCTIONS_DIR), 'utf8') })));
}

/**
 * The statements `write` sends, each with its parameters, sent nowhere: a Kysely whose driver
 * executes nothing (Kysely's DummyDriver, which answers every statement with no rows) and whose log
 * hands over every statement.
 */
async function statementsOf(write: (db: Kysely<unknown>) => Promise<void>): Promise<readonly CompiledQuery[]> {
  const written: CompiledQuery[] = [];
  const db = new Kysely<unknown>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (kysely) => new PostgresIntrospector(kysely),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
    log: (event) => {
      written.push(event.query);
    },
  });
  try {
    await write(db);
  } finally {
    await db.destroy();
  }
  return written;
}

/**
 * What applyFunctions writes, its digest aside: the catalogue's rules, the evidence limit and every
 * function file. One list, which the digest is taken from as well, so that whatever is added here
 * changes it. Each writer must send the same statements whatever the database holds: the digest is
 * taken from what they send to a database that answers nothing.
 */
async function writeFunctions<DB>(db: Kysely<DB>, files: readonly { readonly text: string }[]): Promise<void> {
  await writeCatalogueRules(db);
  await writeCellEvidenceLimit(db);
  for (const file of files) await sql.raw(file.text).execute(db);
}

/** The statements applyFunctions sends to write this release's functions and rules (writeFunctions), in order. */
export async function functionStatements(): Promise<readonly CompiledQuery[]> {
  const files = await functionFiles();
  return statementsOf((db) => writeFunctions(db, files));
}

/**
 * What applyFunctions writes, as a digest: the statements that write the functions, the catalogue's
 * rules and the evidence limit, with their values; and the migrations it follows, since a migration
 * may create a function or a table's rows that only applyFunctions puts right (a start that stopped
 * between the migrations and the functions leaves none pending). Kept in the database as
 * applied_functions_digest(), written last, so that an instance starting on a database that holds
 * this release's functions already need not write them again (db/migrator.ts). The statements, not
 * the source of the code that sends them: that source's text differs between tsx (`npm run
 * migrate`, `npm run dev`) and the compiled build (`npm start`), and each rewrote every function,
 * under the projection's lock, after the other had (found by the probe of upgrades).
 */
export async function functionsDigest(): Promise<string> {
  const migrations = Object.keys(await migrationProvider.getMigrations()).sort();
  const written = await functionStatements();
  return createHash('sha256')
    .update(JSON.stringify([migrations, written.map((q) => [q.sql, q.parameters])]))
    .digest('hex');
}

/** The digest of the functions this database holds (functionsDigest), if any was recorded. */
export async function appliedFunctionsDigest<DB>(db: Kysely<DB>): Promise<string | undefined> {
  const { rows: present } = await sql<{ present: boolean }>`select to_regprocedure('applied_functions_digest()') is not null as present`.execute(db);
  if (present[0]?.present !== true) return undefined;
  const { rows } = await sql<{ digest: string }>`select applied_functions_digest() as digest`.execute(db);
  return rows[0]?.digest;
}

/** Writes the catalogue's rules and the evidence limit, and (re)creates every function, in one transaction. */
export async function applyFunctions<DB>(db: Kysely<DB>): Promise<void> {
  const files = await functionFiles();
  const digest = await functionsDigest();
  for (const file of files) {
    const unknown = appendErrorCodesIn(file.text).filter((code) => !isAppendErrorCode(code));
    if (unknown.length > 0) throw new Error(`${file.name} raises ${unknown.join(', ')}, which src/store/append-error-codes.ts does not list`);
  }
  await db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtextextended('ml_apply_functions', 0))`.execute(trx);
    await writeFunctions(trx, files);
    await assertPlansByKeyOnly(trx);
    await sql`
      create or replace function applied_functions_digest() returns text language sql immutable parallel safe
      as ${sql.lit(`select '${digest}'::text`)}`.execute(trx);
  });
}
