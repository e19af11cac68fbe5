/*
 * `npm run bench:append-sql`: what an append costs in PostgreSQL alone, without the service.
 *
 * Issue 9 holds single milestone-fact appends at c8 to 0.3 of plain INSERTs of the same rows. This
 * runs, with `pgbench` (PostgreSQL's own load generator, from the server's client package), three
 * transactions side by side on a history loaded by `SCALE_LOAD_ONLY=1 npm run bench:scale`
 * (APPEND_SQL_DATABASE), alternating in rounds, at one client and at eight:
 *   - plain: one INSERT into the event table, as the scale bench's baseline writes it (a stream for
 *     each client, its versions rising; a program id no view reads; its statement trigger runs, as
 *     for every row);
 *   - fact: one call of append_events() with one consortium fact naming a milestone of a cell the
 *     history holds (a random one of 5,000), as the service sends it for one POST, dated after all
 *     the history (in world-time order: it supersedes nothing);
 *   - unprojected: a fact of the same consortium and program that names no milestone
 *     (pilot.started, which needs none): the same call and checks but the milestone's, and no cell
 *     to fold.
 * Each as its own transaction (autocommit), sent as text each time, as the service sends its
 * unnamed statements; the appends' items are built in SQL from a row of a helper table, where the
 * service binds them as one parameter, which costs the appends a little more than the INSERT. The
 * difference between fact and unprojected is the projection's (the cell's fold, finding the cell)
 * and the milestone requirement's look-ups; between unprojected and plain, the rest of
 * append_events. It runs on a copy of that database, brought to this release as the service
 * brings one when it starts (migrateToLatest: migrations, functions, catalogue rules), and drops
 * the copy after: its facts, dated after all the history, would make every later fact of those
 * cells late (a re-fold of what follows it).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrateToLatest } from '../../db/migrator.js';
import { openDatabase } from '../../src/store/open-database.js';
import { copyDatabase, databaseUrl, queryAdmin, runAdmin } from '../support/postgres-admin.js';

const SERVER = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = process.env.APPEND_SQL_DATABASE ?? '';
if (!/^[a-z_][a-z0-9_]{0,62}$/.test(DATABASE)) throw new Error('APPEND_SQL_DATABASE must name a database loaded by SCALE_LOAD_ONLY=1 npm run bench:scale');
const ROUNDS = Number(process.env.APPEND_SQL_ROUNDS ?? 3);
const SECONDS = Number(process.env.APPEND_SQL_SECONDS ?? 6);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || !Number.isInteger(SECONDS) || SECONDS < 1) {
  throw new Error('APPEND_SQL_ROUNDS and APPEND_SQL_SECONDS must be positive integers');
}
/** The copy's name, derived from the source's; dropped only while it carries MARK (below). */
const COPY = `${DATABASE.slice(0, 50)}_append_sql`;
if (COPY === DATABASE) throw new Error(`APPEND_SQL_DATABASE: its copy would be named ${COPY}, as it is; choose another name`);
/** The comment the bench puts on its copy: the one database it drops. */
const MARK = `append-sql-bench copy of ${DATABASE}`;
/** CREATE and DROP DATABASE run from the server's own database, never from the source or the copy. */
const ADMIN = databaseUrl(SERVER, 'postgres');
const url = databaseUrl(SERVER, COPY);
/** Consortium cells the facts land on, at random: at most this many, as the history holds. */
const CELLS = 5000;
const HELPER = 'bench_append_sql_cells';
/** The plain INSERTs' stream versions. */
const VERSIONS = 'bench_append_sql_versions';

const log = (line: string) => process.stderr.write(`[append-sql ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** One POST's items as record-events.ts builds them (src/store/event-store.ts, toFunctionInput), for a cell of the helper table. */
const items = (fact: 'named' | 'unnamed') => `jsonb_build_array(jsonb_build_object(
    'ordinal', 0, 'id', uuid_v7()::text, 'schema_version', 1, 'expected_version', null, 'retracts', null, 'defines', '[]'::jsonb,
    'type', ${fact === 'named' ? `'milestone.missed'` : `'pilot.started'`},
    'stream', 'consortium:' || c.consortium_id, 'program_id', c.program_id, 'consortium_id', c.consortium_id,
    'milestone', ${fact === 'named' ? 'c.milestone' : 'null'},
    'occurred_value', '2099-01-01', 'occurred_precision', 'day',
    'occurred_start', '2099-01-01T00:00:00.000Z', 'occurred_end', '2099-01-02T00:00:00.000Z',
    'data', ${
      fact === 'named'
        ? `jsonb_build_object('note', 'A fact of the append bench', 'programId', c.program_id, 'consortiumId', c.consortium_id, 'milestone', c.milestone)`
        : `jsonb_build_object('model', 'A model of the append bench', 'programId', c.program_id, 'consortiumId', c.consortium_id)`
    },
    'sources', '[{"url": "https://news.example/bench", "publisher": "Example News"}]'::jsonb,
    'metadata', '{"actor": "append-sql-bench", "requestId": "00000000-0000-4000-8000-000000000000"}'::jsonb,
    'requires', jsonb_build_array(
      jsonb_build_object('kind', 'program', 'key', c.program_id, 'field', 'programId'),
      jsonb_build_object('kind', 'consortium', 'key', c.consortium_id, 'field', 'consortiumId'),
      ${
        fact === 'named'
          ? `jsonb_build_object('kind', 'milestone', 'key', c.program_id || '/' || c.milestone, 'field', 'milestone',
                               'enrolment', c.consortium_id || '@' || c.program_id, 'participant', c.consortium_id || '@' || c.program_id || '/' || c.milestone),`
          : ''
      }
      jsonb_build_object('kind', 'enrolment', 'key', c.consortium_id || '@' || c.program_id, 'field', 'consortiumId'))))`;

const append = (fact: 'named' | 'unnamed', cells: number) => `\\set k random(1, ${cells})
select count(*) from ${HELPER} c cross join lateral append_events(${items(fact)}, 'append-sql-bench', null, null) a where c.n = :k;
`;

// A stream for each client, its versions rising (from one sequence: gaps, never a repeat), as the scale bench's baseline writes them.
const PLAIN = `insert into event (id, type, schema_version, stream, stream_version, occurred_value, occurred_precision,
  occurred_start, occurred_end, data, sources, metadata, program_id, consortium_id, milestone)
values (uuid_v7(), 'milestone.missed', 1, 'program:scale-baseline-append-sql-' || :client_id, nextval('${VERSIONS}')::int,
  '2099-01-01', 'day', '2099-01-01', '2099-01-02',
  '{"note": "A fact of the append bench", "milestone": "m-1", "programId": "scale-baseline", "consortiumId": "c-00001"}',
  '[{"url": "https://news.example/bench", "publisher": "Example News"}]',
  '{"actor": "append-sql-bench", "requestId": "00000000-0000-4000-8000-000000000000"}', 'scale-baseline', 'c-00001', 'm-1');
`;

type Kind = 'plain' | 'fact' | 'unprojected';
const KINDS: readonly Kind[] = ['plain', 'fact', 'unprojected'];
const script = (kind: Kind, cells: number): string => (kind === 'plain' ? PLAIN : append(kind === 'fact' ? 'named' : 'unnamed', cells));

/** Runs pgbench and returns its transactions per second; any failed transaction fails the bench. */
async function pgbench(file: string, clients: number): Promise<number> {
  // A fixed seed: every run draws the same cells in the same order.
  const args = ['-n', '-M', 'simple', '--random-seed', '9', '-c', String(clients), '-j', String(Math.min(clients, 2)), '-T', String(SECONDS), '-f', file, url];
  const child = spawn('pgbench', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (error) => reject(new Error(`cannot run pgbench (PostgreSQL's client package has it): ${error.message}`)));
    child.once('close', resolve);
  });
  const tps = /^tps = ([\d.]+)/m.exec(output)?.[1];
  if (code !== 0 || tps === undefined || /aborted|failed transactions: [1-9]/.test(output)) {
    throw new Error(`pgbench failed (exit ${code ?? 'signal'}):\n${output.trim().slice(-1500)}`);
  }
  return Number(tps);
}

/** Whether a database of the copy's name is there, and whether it is this bench's copy (it carries MARK). */
async function copyThere(): Promise<'none' | 'ours' | 'another'> {
  const [row] = await queryAdmin<{ comment: string | null }>(
    ADMIN,
    `select shobj_description(oid, 'pg_database') as comment from pg_database where datname = $1`,
    [COPY],
  );
  if (row === undefined) return 'none';
  return row.comment === MARK ? 'ours' : 'another';
}

/** Drops the copy if it is this bench's (a run stopped before its end leaves one); refuses to touch another database of that name. */
async function dropCopy(): Promise<void> {
  const there = await copyThere();
  if (there === 'another') throw new Error(`a database named ${COPY} is there and is not this bench's copy: drop or rename it yourself`);
  if (there === 'ours') await runAdmin(ADMIN, `drop database ${COPY} with (force)`);
}

async function main(): Promise<void> {
  await dropCopy();
  log(`copying ${DATABASE} to ${COPY}`);
  await copyDatabase(ADMIN, DATABASE, COPY);
  try {
    await runAdmin(ADMIN, `comment on database ${COPY} is ${pg.escapeLiteral(MARK)}`);
    // This checkout's migrations, functions and catalogue rules, as the service puts them in place
    // when it starts: the copy holds those of the release that loaded it.
    const { db } = await openDatabase({ kind: 'postgres', url, poolSize: 2 });
    try {
      const { error } = await migrateToLatest(db);
      if (error !== undefined) throw error;
    } finally {
      await db.destroy();
    }
    await measure();
  } finally {
    await dropCopy();
  }
}

async function measure(): Promise<void> {
  // Consortium cells of the history, up to CELLS, in an order fixed by their keys: each run draws from the same cells.
  await runAdmin(
    url,
    `create table ${HELPER} as select row_number() over () as n, program_id, milestone, consortium_id
     from (select * from milestone_cell where consortium_id <> '' order by md5(program_id || '/' || milestone || '/' || consortium_id) limit ${CELLS}) c`,
  );
  await runAdmin(url, `create index on ${HELPER} (n)`);
  await runAdmin(url, `create sequence ${VERSIONS}`);
  const [counted] = await queryAdmin<{ cells: number }>(url, `select count(*)::int as cells from ${HELPER}`);
  const cells = counted?.cells ?? 0;
  if (cells === 0) throw new Error(`${DATABASE} holds no consortium cell: load a history with SCALE_LOAD_ONLY=1 npm run bench:scale`);
  const folder = mkdtempSync(join(tmpdir(), 'append-sql-'));
  try {
    const fileOf = (kind: Kind) => join(folder, `${kind}.sql`);
    for (const kind of KINDS) writeFileSync(fileOf(kind), script(kind, cells));
    log(`${cells} consortium cells; ${ROUNDS} rounds of ${SECONDS} s a point`);
    process.stdout.write('| clients | round | plain INSERT/s | fact/s | unprojected/s | fact ÷ plain | unprojected ÷ plain |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n');
    for (let round = 1; round <= ROUNDS; round++) {
      for (const clients of [1, 8]) {
        // One after another: each point is measured alone.
        const rates: number[] = [];
        for (const kind of KINDS) rates.push(await pgbench(fileOf(kind), clients));
        const [plain = NaN, fact = NaN, unprojected = NaN] = rates;
        // Each row as it is measured: a later failure keeps what was measured before it.
        process.stdout.write(
          `| ${clients} | ${round} | ${plain.toFixed(0)} | ${fact.toFixed(0)} | ${unprojected.toFixed(0)} | ${(fact / plain).toFixed(2)} | ${(unprojected / plain).toFixed(2)} |\n`,
        );
      }
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

await main();
