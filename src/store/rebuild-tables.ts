import { sql, type Kysely } from 'kysely';

/*
 * The rebuild's tables (src/store/read-model-rebuild.ts): copies of the read model's tables in a
 * schema of their own, built beside the live ones and then put in their place, with the live
 * tables' storage settings and indexes, under the live names.
 */

/** Where the new tables are built. */
export const REBUILD_SCHEMA = 'ml_rebuild';

/** Every table the projection writes, in an order that lets the old ones be dropped. */
export const READ_MODEL_TABLES = [
  'cell_evidence',
  'cell_step',
  'cell_step_span',
  'milestone_cell',
  'milestone_reschedule',
  'enrolment_elimination',
  'enrolment_entry',
  'milestone_entry',
  'consortium_entry',
  'program_entry',
] as const;

/**
 * Empty copies of the live tables in the rebuild's schema, without the indexes built after the fold.
 * Run holding the projection lock (read-model-rebuild.ts says why).
 */
export async function createRebuildTables<DB>(trx: Kysely<DB>): Promise<void> {
  await sql.raw(`drop schema if exists ${REBUILD_SCHEMA} cascade`).execute(trx);
  await sql.raw(`create schema ${REBUILD_SCHEMA}`).execute(trx);
  for (const table of READ_MODEL_TABLES) {
    await sql.raw(`create table ${REBUILD_SCHEMA}.${table} (like public.${table} including all)`).execute(trx);
    // LIKE copies columns, constraints and indexes, not storage parameters (autovacuum's settings).
    const { rows } = await sql<{ options: string | null }>`
      select string_agg(format('%s = %L', o.option_name, o.option_value), ', ') as options
      from pg_class c cross join lateral pg_options_to_table(c.reloptions) o
      where c.oid = ${`public.${table}`}::regclass`.execute(trx);
    const options = rows[0]?.options;
    if (options) await sql.raw(`alter table ${REBUILD_SCHEMA}.${table} set (${options})`).execute(trx);
  }
  // Built once the fold is done (buildIndexesAfterFold): their copies, under the names LIKE gave them.
  const { rows: deferred } = await sql<{ live: string; rebuilt: string }>`
    select l.indexname as live, r.indexname as rebuilt
    from ${rebuiltIndexes(sql`l.indexname = any (${[...BUILT_AFTER_FOLD]}::text[])`)}`.execute(trx);
  const copies = (name: string) => deferred.filter((d) => d.live === name).length;
  if (deferred.length !== BUILT_AFTER_FOLD.length || BUILT_AFTER_FOLD.some((name) => copies(name) !== 1)) {
    throw new Error(`expected one copy of each of ${BUILT_AFTER_FOLD.join(', ')}; found ${deferred.map((d) => `${d.live}: ${d.rebuilt}`).join(', ')}`);
  }
  for (const { rebuilt } of deferred) await sql`drop index ${sql.id(REBUILD_SCHEMA, rebuilt)}`.execute(trx);
}

/*
 * Indexes only the views read: the fold finds a cell's current steps down cell_step_current and its
 * evidence by cell_evidence's key. Each of these took an entry, one at a time, for every row the
 * fold wrote that it holds (at 1M events, 3.3M steps, 2.3M of them superseded during the fold);
 * built once the fold is done, each is one sort. The catch-up and the switch find them in place.
 */
export const BUILT_AFTER_FOLD = ['cell_step_written', 'cell_step_versions', 'cell_evidence_unretracted'] as const;

/**
 * An index's definition without its name and table ("CREATE [UNIQUE] INDEX ON USING …"): what a
 * live index and its copy in the rebuild's schema have in common.
 */
const indexBody = (alias: string) => sql`regexp_replace(${sql.ref(`${alias}.indexdef`)}, ' INDEX [^ ]+ ON [^ ]+ USING ', ' INDEX ON USING ')`;

/** Each live index of the read model (l) beside its copy in the rebuild's schema (r), those of `which`. */
const rebuiltIndexes = (which = sql`true`) => sql`
  pg_indexes l join pg_indexes r on r.schemaname = ${REBUILD_SCHEMA} and r.tablename = l.tablename and ${indexBody('r')} = ${indexBody('l')}
  where l.schemaname = 'public' and l.tablename = any (${[...READ_MODEL_TABLES]}::text[]) and ${which}`;

/** Memory for an index build's sort: raised to this, never lowered (a server may give more). */
const INDEX_BUILD_MEMORY = '256MB';

/** Builds the live tables' indexes that the fold went without, under their live names. */
export async function buildIndexesAfterFold<DB>(conn: Kysely<DB>): Promise<void> {
  const { rows } = await sql<{ statement: string }>`
    select regexp_replace(indexdef, ' INDEX [^ ]+ ON [^ ]+ USING ', format(' INDEX %I ON %I.%I USING ', indexname, ${REBUILD_SCHEMA}::text, tablename)) as statement
    from pg_indexes where schemaname = 'public' and indexname = any (${[...BUILT_AFTER_FOLD]}::text[])`.execute(conn);
  const { rows: memory } = await sql<{ before: string }>`select current_setting('maintenance_work_mem') as before`.execute(conn);
  await sql`
    select set_config('maintenance_work_mem', ${INDEX_BUILD_MEMORY}, false)
    where pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes(${INDEX_BUILD_MEMORY})`.execute(conn);
  try {
    for (const { statement } of rows) await sql.raw(statement).execute(conn);
  } finally {
    await sql`select set_config('maintenance_work_mem', ${memory[0]?.before ?? INDEX_BUILD_MEMORY}, false)`.execute(conn).catch(() => {});
  }
}

/**
 * Vacuums and analyzes the new tables, before the indexes built after the fold. A new table has no
 * statistics, which the views' plans need from their first read on. And the fold left a dead row
 * for every step it superseded (2.3M at 1M events), with entries in cell_step_current, and no page
 * marked all-visible: until a vacuum, every index-only read of the views fetched each entry's row
 * from the table too (figures: the README's Design choices, "Rebuild"). Autovacuum, where it runs,
 * need not have got to them by the switch. Index cleanup on: by default a vacuum that finds dead
 * rows on few pages skips it, and leaves those pages unmarked; with those indexes not built yet,
 * it is cheap. None of them is an expression index, whose statistics an ANALYZE before it
 * would miss. VACUUM cannot run in a transaction block: `conn` is the rebuild's session, not a
 * transaction of it.
 */
export async function vacuumRebuildTables<DB>(conn: Kysely<DB>): Promise<void> {
  await sql.raw(`vacuum (analyze, index_cleanup on) ${READ_MODEL_TABLES.map((t) => `${REBUILD_SCHEMA}.${t}`).join(', ')}`).execute(conn);
}

/** Puts the rebuilt tables in place of the live ones, under the live ones' index names. */
export async function switchTables<DB>(trx: Kysely<DB>): Promise<void> {
  const { rows: names } = await sql<{ live: string; rebuilt: string }>`
    select l.indexname as live, r.indexname as rebuilt from ${rebuiltIndexes()}`.execute(trx);
  for (const table of READ_MODEL_TABLES) await sql.raw(`drop table public.${table}`).execute(trx);
  for (const table of READ_MODEL_TABLES) await sql.raw(`alter table ${REBUILD_SCHEMA}.${table} set schema public`).execute(trx);
  for (const { live, rebuilt } of names) {
    if (live !== rebuilt) await sql`alter index ${sql.id('public', rebuilt)} rename to ${sql.id(live)}`.execute(trx);
  }
  // The only trigger on these tables: a rebuild notifies nothing, the live cells do (notify_status_change.sql).
  await sql`
    create trigger milestone_cell_status after insert or update of status on public.milestone_cell
    for each row execute function notify_status_change()`.execute(trx);
  await sql.raw(`drop schema ${REBUILD_SCHEMA}`).execute(trx);
  await sql`update public.read_model_status set rebuild_pending = false`.execute(trx);
}
