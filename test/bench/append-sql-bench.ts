/*
 * `npm run bench:append-sql`: what an append costs in PostgreSQL alone, without the service.
 *
 * Issue 9 holds single milestone-fact appends at c8 to 0.3 of plain INSERTs of the same rows. This
 * runs, with `pgbench` (PostgreSQL's own load generator, from the server's client package), three
 * transactions side by side on a history loaded by `SCALE_LOAD_ONLY=1 npm run bench:scale`
 * (APPEND_SQL_DATABASE), alternating in rounds, at one client and at eight:
 *   - plain: one INSERT into the event table, as the scale bench's baseline writes it (a stream of
 *     its own, a program id no view reads; its statement trigger runs, as for every row);
 *   - fact: one call of append_events() with one consortium fact naming a milestone of a cell the
 *     history holds (a random one of 5,000), as the service sends it for one POST, dated after all
 *     the history (in world-time order: it supersedes nothing);
 *   - unprojected: the same fact without its milestone (pilot.started, which needs none): the same
 *     call and checks, and no cell to fold.
 * Each as its own transaction (autocommit), the query sent as text each time, as the service sends
 * its unnamed statements, with this checkout's functions (db/functions/*.sql). The difference between fact and unprojected is the fold's; between
 * unprojected and plain, the rest of append_events. It runs on a copy of that database, which it
 * drops after: its facts, dated after all the history, would make every later fact of those cells
 * late (a re-fold of what follows it), and the database no longer the history it was loaded as.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { functionFiles } from '../../db/functions.js';
import { copyDatabase, databaseUrl, runAdmin } from '../support/postgres-admin.js';

const SERVER = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = process.env.APPEND_SQL_DATABASE ?? '';
if (!/^[a-z_][a-z0-9_]{0,62}$/.test(DATABASE)) throw new Error('APPEND_SQL_DATABASE must name a database loaded by SCALE_LOAD_ONLY=1 npm run bench:scale');
const ROUNDS = Number(process.env.APPEND_SQL_ROUNDS ?? 3);
const SECONDS = Number(process.env.APPEND_SQL_SECONDS ?? 6);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || !Number.isInteger(SECONDS) || SECONDS < 1) {
  throw new Error('APPEND_SQL_ROUNDS and APPEND_SQL_SECONDS must be positive integers');
}
/** The copy's name, derived from the source's, so that the drop below never reaches another database. */
const COPY = `${DATABASE.slice(0, 50)}_append_sql`;
const url = databaseUrl(SERVER, COPY);
const CELLS = 5000;
const HELPER = 'bench_append_sql_cells';

const log = (line: string) => process.stderr.write(`[append-sql ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** One POST's items as record-events.ts builds them (src/store/event-store.ts, toFunctionInput), for a cell of the helper table. */
const items = (fact: 'named' | 'unnamed') => `jsonb_build_array(jsonb_build_object(
    'ordinal', 0, 'id', uuid_v7()::text, 'schema_version', 1, 'expected_version', null, 'retracts', null, 'defines', '[]'::jsonb,
    'type', ${fact === 'named' ? `'milestone.missed'` : `'pilot.started'`},
    'stream', 'consortium:' || c.consortium_id, 'program_id', c.program_id, 'consortium_id', c.consortium_id,
    'milestone', ${fact === 'named' ? 'c.milestone' : 'null'},
    'occurred_value', '2099-01-01', 'occurred_precision', 'day',
    'occurred_start', '2099-01-01T00:00:00.000Z', 'occurred_end', '2099-01-02T00:00:00.000Z',
    'data', jsonb_build_object('note', 'A fact of the append bench', 'programId', c.program_id, 'consortiumId', c.consortium_id)
            ${fact === 'named' ? `|| jsonb_build_object('milestone', c.milestone)` : ''},
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

const append = (fact: 'named' | 'unnamed') => `\\set k random(1, ${CELLS})
select count(*) from ${HELPER} c cross join lateral append_events(${items(fact)}, 'append-sql-bench', null, null) a where c.n = :k;
`;

// A stream of its own each (uuid_v7: time-ordered, so its index grows at one end, as the scale bench's per-client streams do).
const PLAIN = `insert into event (id, type, schema_version, stream, stream_version, occurred_value, occurred_precision,
  occurred_start, occurred_end, data, sources, metadata, program_id, consortium_id, milestone)
values (uuid_v7(), 'milestone.missed', 1, 'program:scale-baseline-' || uuid_v7(), 1, '2099-01-01', 'day', '2099-01-01', '2099-01-02',
  '{"note": "A fact of the append bench", "milestone": "m-1", "programId": "scale-baseline", "consortiumId": "c-00001"}',
  '[{"url": "https://news.example/bench", "publisher": "Example News"}]',
  '{"actor": "append-sql-bench", "requestId": "00000000-0000-4000-8000-000000000000"}', 'scale-baseline', 'c-00001', 'm-1');
`;

const SCRIPTS = { plain: PLAIN, fact: append('named'), unprojected: append('unnamed') } as const;
type Kind = keyof typeof SCRIPTS;
const KINDS: readonly Kind[] = ['plain', 'fact', 'unprojected'];

/** Runs pgbench and returns its transactions per second; any failed transaction fails the bench. */
async function pgbench(file: string, clients: number): Promise<number> {
  const args = ['-n', '-M', 'simple', '-c', String(clients), '-j', String(Math.min(clients, 2)), '-T', String(SECONDS), '-f', file, url];
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

async function main(): Promise<void> {
  log(`copying ${DATABASE} to ${COPY}`);
  await runAdmin(SERVER, `drop database if exists ${COPY} with (force)`);
  await copyDatabase(SERVER, DATABASE, COPY);
  try {
    // This checkout's functions, as the service puts them in place when it starts: the copy holds those of the service that loaded it.
    for (const file of await functionFiles()) await runAdmin(url, file.text);
    await measure();
  } finally {
    await runAdmin(SERVER, `drop database if exists ${COPY} with (force)`);
  }
}

async function measure(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'append-sql-'));
  const files = Object.fromEntries(
    KINDS.map((kind) => {
      const file = join(folder, `${kind}.sql`);
      writeFileSync(file, SCRIPTS[kind]);
      return [kind, file];
    }),
  );
  // Consortium cells of the history, 5,000 at random: the facts land on many cells, as the scale bench's sample does.
  await runAdmin(
    url,
    `create table ${HELPER} as select row_number() over () as n, program_id, milestone, consortium_id
     from (select * from milestone_cell where consortium_id <> '' order by random() limit ${CELLS}) c`,
  );
  try {
    await runAdmin(url, `create index on ${HELPER} (n)`);
    await runAdmin(url, `analyze ${HELPER}`);
    const rates: { kind: Kind; clients: number; round: number; tps: number }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const clients of [1, 8]) {
        for (const kind of KINDS) {
          const file = files[kind];
          if (file === undefined) throw new Error(`no script for ${kind}`);
          const tps = await pgbench(file, clients);
          rates.push({ kind, clients, round, tps });
          log(`round ${round}, c${clients}, ${kind}: ${tps.toFixed(0)}/s`);
        }
      }
    }
    const rate = (kind: Kind, clients: number, round: number) => rates.find((r) => r.kind === kind && r.clients === clients && r.round === round)?.tps ?? NaN;
    process.stdout.write('| clients | round | plain INSERT/s | fact/s | unprojected/s | fact ÷ plain | unprojected ÷ plain |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n');
    for (const clients of [1, 8]) {
      for (let round = 1; round <= ROUNDS; round++) {
        const [plain, fact, unprojected] = KINDS.map((kind) => rate(kind, clients, round));
        if (plain === undefined || fact === undefined || unprojected === undefined) continue;
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
