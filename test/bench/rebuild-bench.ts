/*
 * `npm run bench:rebuild`: issue 9's "rebuild that streams … completes on 10M events", measured.
 *
 * Takes a scale history loaded by `SCALE_LOAD_ONLY=1 npm run bench:scale` (REBUILD_SOURCE), copies
 * its database, and multiplies its log in SQL to REBUILD_COPIES times its size: each copy holds the
 * same events for programs and consortiums of its own (ids suffixed `-c<n>`, event ids derived from
 * the original's), recorded later in system time than the copy before it, so that every copy is a
 * history like the first, busy programs and late news included. Loading 10M events through the API
 * would take hours on this machine; the rebuild reads only the log (and the retractions it keeps),
 * so what it is given is what the API would have stored. Then it runs `npm run projections:rebuild`
 * as an operator does, and reports the rate it prints, the largest RSS of its processes and the most
 * locks the database's sessions held at once (both sampled every second), and drops the copy.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { copyDatabase, databaseUrl, runAdmin } from '../support/postgres-admin.js';

const SERVER = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE = process.env.REBUILD_SOURCE ?? '';
const COPIES = Number(process.env.REBUILD_COPIES ?? 10);
const identifier = /^[a-z_][a-z0-9_]{0,62}$/;
if (!identifier.test(SOURCE)) throw new Error('REBUILD_SOURCE must name a database loaded by SCALE_LOAD_ONLY=1 npm run bench:scale');
if (!Number.isInteger(COPIES) || COPIES < 1) throw new Error('REBUILD_COPIES must be a positive integer');
/** The copy's name, derived from the source's, so that the drop below never reaches another database. */
const TARGET = `${SOURCE.slice(0, 50)}_x${COPIES}`;
/**
 * REBUILD_KEEP=1 keeps the copy, to read or rebuild again: not to append to, since the copies'
 * streams and references (stream, reference) are not copied, only what the rebuild reads.
 */
const KEEP = process.env.REBUILD_KEEP === '1';

const log = (line: string) => process.stderr.write(`[rebuild ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/**
 * Adds copy `n` of the first `last` positions of the log: ids in the data and the row suffixed,
 * event ids (the event's own and a retraction's target) derived from the original's, recorded
 * `n` spans later. In position order, so that within a cell the order of the original holds.
 */
const COPY_EVENTS = `
  with span as (select max(recorded_at) - min(recorded_at) + interval '1 day' as span from event where position <= $2)
  insert into event (id, type, schema_version, stream, stream_version, occurred_value, occurred_precision, occurred_start,
                     occurred_end, recorded_at, data, sources, metadata, program_id, consortium_id, milestone)
  select md5(e.id::text || ':' || $1)::uuid, e.type, e.schema_version, e.stream || $3, e.stream_version, e.occurred_value,
         e.occurred_precision, e.occurred_start, e.occurred_end, e.recorded_at + $1::integer * span.span,
         e.data
           || case when e.data ? 'programId' then jsonb_build_object('programId', (e.data ->> 'programId') || $3) else '{}' end
           || case when e.data ? 'consortiumId' then jsonb_build_object('consortiumId', (e.data ->> 'consortiumId') || $3) else '{}' end
           || case when e.data ? 'eventId' then jsonb_build_object('eventId', md5((e.data ->> 'eventId')::uuid::text || ':' || $1)::uuid) else '{}' end
           || case when jsonb_typeof(e.data -> 'consortiums') = 'array'
                   then jsonb_build_object('consortiums', (select jsonb_agg(c || $3) from jsonb_array_elements_text(e.data -> 'consortiums') c))
                   else '{}' end,
         e.sources, e.metadata, e.program_id || $3, e.consortium_id || $3, e.milestone
  from event e cross join span
  where e.position <= $2
  order by e.position`;

/** The retractions among the copied events, as the append path records them. */
const COPY_RETRACTIONS = `
  insert into retraction (event_id, retracted_by)
  select md5(r.event_id::text || ':' || $1)::uuid, md5(r.retracted_by::text || ':' || $1)::uuid
  from retraction r join event x on x.id = r.retracted_by and x.position <= $2`;

async function multiplyLog(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ last: string; events: string }>('select max(position) as last, count(*) as events from event');
    const last = rows[0]?.last ?? '0';
    for (let n = 1; n < COPIES; n++) {
      const started = performance.now();
      await client.query('begin');
      await client.query(COPY_EVENTS, [n, last, `-c${n}`]);
      await client.query(COPY_RETRACTIONS, [n, last]);
      await client.query('commit');
      log(`copy ${n} of the log added in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
    await client.query('vacuum (analyze) event');
    const { rows: counted } = await client.query<{ events: string }>('select count(*) as events from event');
    return Number(counted[0]?.events ?? 0);
  } finally {
    await client.end();
  }
}

/** The processes of the tree under `root`, from /proc (the rebuild runs as npm, then tsx, then node). */
function processTree(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name, in parentheses, may hold spaces: the parent's pid is the second field after it.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), parent);
    } catch {
      // The process ended meanwhile.
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const [pid, parent] of parents) if (parent === tree[i]) tree.push(pid);
  return tree;
}

/** The largest resident set of one process of the tree, in MB. */
function largestRss(root: number): number {
  let largest = 0;
  for (const pid of processTree(root)) {
    try {
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (kb !== undefined) largest = Math.max(largest, Number(kb) / 1024);
    } catch {
      // The process ended meanwhile.
    }
  }
  return largest;
}

/**
 * The cells by status with their evidence counted, as one line: each copy folds to the same cells
 * as the original, so the rebuilt log shows the source's figures times REBUILD_COPIES.
 */
async function cellSummary(url: string, times = 1): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ status: string; cells: string; evidence: string }>(
      'select status, count(*) as cells, sum(evidence_count) as evidence from milestone_cell group by status order by status',
    );
    return rows.map((r) => `${r.status} ${Number(r.cells) * times} cells, ${Number(r.evidence) * times} evidence`).join('; ');
  } finally {
    await client.end();
  }
}

interface RebuildRun {
  readonly code: number | null;
  readonly output: string;
  readonly seconds: number;
  readonly rssMb: number;
  readonly locks: number;
}

async function runRebuild(url: string): Promise<RebuildRun> {
  const started = performance.now();
  const child = spawn('npm', ['run', '--silent', 'projections:rebuild'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const onOutput = (chunk: Buffer) => {
    output += chunk.toString();
    process.stderr.write(chunk);
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  const sampler = new pg.Client({ connectionString: url });
  await sampler.connect();
  let rssMb = 0;
  let locks = 0;
  let sampling = Promise.resolve();
  const timer = setInterval(() => {
    sampling = sampling
      .then(async () => {
        if (child.pid !== undefined) rssMb = Math.max(rssMb, largestRss(child.pid));
        const { rows } = await sampler.query<{ locks: string }>(
          'select count(*) as locks from pg_locks l join pg_stat_activity a on a.pid = l.pid where a.datname = current_database() and a.pid <> pg_backend_pid()',
        );
        locks = Math.max(locks, Number(rows[0]?.locks ?? 0));
      })
      // A sample that fails is missed, not the end of the run: the copy must still be dropped below.
      .catch((error: unknown) => {
        log(`a sample failed: ${String(error)}`);
      });
  }, 1000);
  const code = await new Promise<number | null>((resolve) => {
    child.once('close', resolve);
    child.once('error', (error) => {
      log(`npm run projections:rebuild did not start: ${error.message}`);
      resolve(null);
    });
  });
  clearInterval(timer);
  await sampling;
  await sampler.end();
  return { code, output, seconds: (performance.now() - started) / 1000, rssMb, locks };
}

const server = databaseUrl(SERVER, 'postgres');
const target = databaseUrl(SERVER, TARGET);
await runAdmin(server, `drop database if exists ${pg.escapeIdentifier(TARGET)} with (force)`);
const expected = await cellSummary(databaseUrl(SERVER, SOURCE), COPIES);
log(`copying ${SOURCE} to ${TARGET}`);
await copyDatabase(server, SOURCE, TARGET);
try {
  const events = await multiplyLog(target);
  log(`${events} events in the log; rebuilding`);
  const run = await runRebuild(target);
  const rebuilt = run.code === 0 ? await cellSummary(target) : 'not read';
  const same = rebuilt === expected;
  log(`cells rebuilt: ${rebuilt}`);
  if (!same) log(`expected ${COPIES} times the source's: ${expected}`);
  const rate = [...run.output.matchAll(/\((\d+) events\/s\)/g)].at(-1)?.[1];
  process.stdout.write(
    `rebuild of ${events} events (${COPIES} copies of ${SOURCE}): ${run.code === 0 ? 'completed' : `failed (exit ${String(run.code)})`} in ` +
      `${run.seconds.toFixed(0)} s, ${rate ?? '?'} events/s as it printed; largest RSS of its processes ${run.rssMb.toFixed(0)} MB; ` +
      `most locks held in the database at once ${run.locks}; cells by status ${same ? 'the source\'s times ' + String(COPIES) : 'NOT the source\'s times ' + String(COPIES)}\n`,
  );
  process.exitCode = run.code === 0 && same ? 0 : 1;
} finally {
  if (!KEEP) await runAdmin(server, `drop database if exists ${pg.escapeIdentifier(TARGET)} with (force)`);
}
