/**
 * `npm run bench:scale` (issue 9): loads a generated history (programs, consortiums, milestones of
 * both scopes, two busy programs, late facts, retractions) through the HTTP API in batches, and
 * measures in one run: the load rate per bucket of events; single milestone-fact appends beside plain
 * `pg` INSERTs of the same rows; every view at c1 and c32 beside a bare Fastify route doing one
 * indexed SELECT of the rows it shows, at a small checkpoint and at the full size; each view at c1
 * side by side on the full history and on a copy of the small checkpoint (scale-growth.ts); the
 * rebuild rate; the service's RSS.
 *
 * Needs a PostgreSQL server: DATABASE_URL, or the local one on 127.0.0.1:5432. It creates a
 * database of its own and drops it at the end. Sizes and durations: see PARAMS below.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { copyDatabase, databaseUrl, runAdmin } from '../support/postgres-admin.js';
import { createScaleHistory, seededRandom, type ScaleHistory } from '../support/scale-history.js';
import { createHistoryLoader, type HistoryLoader } from '../support/scale-load.js';
import { measureGrowth, type GrowthPair } from '../support/scale-growth.js';
import { addVacuums, standInForAutovacuum } from '../support/scale-vacuum.js';
import { measureAppends, measureGet, measurePgInserts, sampleRss, startBareRoutes, YOUNG_GENERATION, type BareQuery, type BareRoutes, type HttpPoint } from '../support/scale-points.js';
import { CURRENT_MATRIX, CUT_VIEWS, EARLY_BOTH, evaluateTargets, printReport, type Checkpoint, type InOrderAppends, type Cutoffs, type RebuiltView, type ScaleReport, type ViewPoints } from '../support/scale-report.js';
import { findFreePort, launchService, spawnService, waitUntilReady, type ServiceCommand, type ServiceProcess } from '../support/service-process.js';

const env = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
};

const PARAMS = {
  events: env('SCALE_EVENTS', 1_000_000),
  programs: env('SCALE_PROGRAMS', 1000),
  consortiums: env('SCALE_CONSORTIUMS', 2000),
  milestones: env('SCALE_MILESTONES', 8),
  hotShare: env('SCALE_HOT_SHARE', 0.05),
  lateShare: env('SCALE_LATE_SHARE', 0.1),
  retractShare: env('SCALE_RETRACT_SHARE', 0.005),
  seed: env('SCALE_SEED', 9),
};
const CHECKPOINT = env('SCALE_CHECKPOINT', 10_000);
const BUCKET = env('SCALE_BUCKET', 100_000);
const BATCH = env('SCALE_BATCH', 1000);
const POSTERS = env('SCALE_POSTERS', 3);
const SECONDS = env('BENCH_SECONDS', 5);
const WARMUP_SECONDS = env('BENCH_WARMUP_SECONDS', 1);
const TIMEOUT_SECONDS = env('SCALE_TIMEOUT_SECONDS', 10);
const REBUILD_TIMEOUT_SECONDS = env('SCALE_REBUILD_TIMEOUT_SECONDS', 900);
const POOL_SIZE = 16;
const SERVER = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ADMIN_KEY = `bench-admin-${randomUUID()}`;
const HEADERS = { authorization: `Bearer ${ADMIN_KEY}` };
/** SCALE_LOAD_ONLY=1 loads the history, keeps the database and stops: for profiling against it. */
const LOAD_ONLY = process.env.SCALE_LOAD_ONLY === '1';
/** SCALE_KEEP=1 keeps the database after the run, whole or failed (its tables as the rebuild left them, after the appends and views measured on them). */
const KEEP = process.env.SCALE_KEEP === '1';
const dbName = process.env.SCALE_DATABASE ?? `ml_scale_bench_${Date.now()}`;
if (!/^[a-z_][a-z0-9_]{0,62}$/.test(dbName)) throw new Error('SCALE_DATABASE must be a lower-case SQL identifier');
const url = databaseUrl(SERVER, dbName);
/** The small checkpoint's database as it was measured, kept beside the growing one (measureGrowth). */
const smallDbName = `${dbName.slice(0, 57)}_small`;
if (smallDbName === dbName) throw new Error(`SCALE_DATABASE: its copy would be named ${smallDbName}, as it is; choose a shorter name`);
const GROWTH_ROUNDS = env('SCALE_GROWTH_ROUNDS', 3);
const GROWTH_SECONDS = env('SCALE_GROWTH_SECONDS', 2);
const GROWTH_WARMUP_SECONDS = env('SCALE_GROWTH_WARMUP_SECONDS', 3);

const log = (line: string) => process.stderr.write(`[scale ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** The rows each view shows, selected bare: the baselines of issue 9's c32 targets. */
const BARE = {
  programs: 'program registry, first 100 rows',
  program: 'milestones of the busy program',
  cells: 'cells of the busy program',
  milestone: 'cells of the busy milestone',
  consortiums: 'consortium registry, first 100 rows',
  consortium: 'cells of the busy consortium',
  timeline: 'events of the busy program in world order, first 100',
  cold: 'cells of the cold program',
  latest: 'latest 20 events of the busy program (reference only)',
} as const;

/*
 * The columns each view reads, in the form it reads them (evidence ids as one text, as cell-states.ts
 * reads them), so that a bare route sends what its view is built from and no more.
 */
const DEFINITION = 'data, schema_version, occurred_value, occurred_precision, occurred_start, occurred_end';
const CELL = `program_id, milestone, consortium_id, status, since_value, since_precision, since_start, since_end,
  evidence_count, array_to_string(evidence, ',') as evidence`;

function bareQueries(history: ScaleHistory): BareQuery[] {
  const [hot = ''] = history.hotPrograms;
  const cells = `select ${CELL} from milestone_cell where program_id = $1 order by milestone, consortium_id`;
  return [
    { name: BARE.programs, sql: `select program_id, ${DEFINITION} from program_entry order by program_id limit 100`, params: [] },
    { name: BARE.program, sql: `select program_id, milestone, ${DEFINITION} from milestone_entry where program_id = $1 order by milestone`, params: [hot] },
    { name: BARE.cells, sql: cells, params: [hot] },
    {
      name: BARE.milestone,
      sql: `select ${CELL} from milestone_cell where program_id = $1 and milestone = $2 order by consortium_id`,
      params: [hot, history.milestone],
    },
    { name: BARE.consortiums, sql: `select consortium_id, ${DEFINITION} from consortium_entry order by consortium_id limit 100`, params: [] },
    {
      // Its own cells and its programs' program-scope ones, as the view shows them.
      name: BARE.consortium,
      sql: `select ${CELL} from (select * from milestone_cell where consortium_id = $1 union all
        select c.* from enrolment_entry e join milestone_cell c on c.program_id = e.program_id and c.consortium_id = ''
        where e.consortium_id = $1) c order by program_id, milestone`,
      params: [history.hotConsortium],
    },
    { name: BARE.timeline, sql: 'select * from event where program_id = $1 order by occurred_start, position limit 100', params: [hot] },
    { name: BARE.cold, sql: cells, params: [history.coldProgram] },
    { name: BARE.latest, sql: 'select * from event where program_id = $1 order by position desc limit 20', params: [hot] },
  ];
}

/** Each view, and the bare query of the rows it shows (a cut-off matrix shows the program's cells, as the current one). */
function viewPaths(history: ScaleHistory, { asOf, knownAt, earlyAsOf }: Cutoffs): { name: string; path: string; baseline: string }[] {
  const [hot] = history.hotPrograms;
  const k = encodeURIComponent(knownAt);
  return [
    { name: 'programs', path: '/v1/programs', baseline: BARE.programs },
    { name: 'program (busy)', path: `/v1/programs/${hot}`, baseline: BARE.program },
    { name: CURRENT_MATRIX, path: `/v1/programs/${hot}/milestones`, baseline: BARE.cells },
    { name: 'milestone (busy)', path: `/v1/programs/${hot}/milestones/${history.milestone}`, baseline: BARE.milestone },
    { name: 'matrix asOf', path: `/v1/programs/${hot}/milestones?asOf=${asOf}`, baseline: BARE.cells },
    { name: 'matrix knownAt', path: `/v1/programs/${hot}/milestones?knownAt=${k}`, baseline: BARE.cells },
    { name: 'matrix asOf+knownAt', path: `/v1/programs/${hot}/milestones?asOf=${asOf}&knownAt=${k}`, baseline: BARE.cells },
    { name: EARLY_BOTH, path: `/v1/programs/${hot}/milestones?asOf=${earlyAsOf}&knownAt=${k}`, baseline: BARE.cells },
    { name: 'consortiums', path: '/v1/consortiums', baseline: BARE.consortiums },
    { name: 'consortium status', path: `/v1/consortiums/${history.hotConsortium}/status`, baseline: BARE.consortium },
    { name: 'timeline (busy)', path: `/v1/timeline?programId=${hot}&limit=100`, baseline: BARE.timeline },
    { name: 'matrix (cold)', path: `/v1/programs/${history.coldProgram}/milestones`, baseline: BARE.cold },
  ];
}

/**
 * After a point that left requests running (autocannon stops waiting at its timeout, the service does
 * not), waits until /readyz, which asks the database, answers quickly again: at most one timeout long.
 */
async function settle(service: ServiceProcess): Promise<void> {
  const deadline = Date.now() + TIMEOUT_SECONDS * 1000;
  while (Date.now() < deadline) {
    const started = performance.now();
    const ok = await fetch(`${service.url}/readyz`, { signal: AbortSignal.timeout(TIMEOUT_SECONDS * 1000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok && performance.now() - started < 50) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function measurePoint(url: string, path: string, headers: Readonly<Record<string, string>>): Promise<Omit<ViewPoints, 'name' | 'baseline'>> {
  const probe = await fetch(`${url}${path}`, { headers, signal: AbortSignal.timeout(TIMEOUT_SECONDS * 1000) }).then(
    async (r) => ({ status: r.status, bytes: (await r.text()).length }),
    () => ({ status: 0, bytes: 0 }),
  );
  const target = { url, path, headers };
  if (WARMUP_SECONDS > 0) await measureGet(target, 1, WARMUP_SECONDS, TIMEOUT_SECONDS);
  const c1 = await measureGet(target, 1, SECONDS, TIMEOUT_SECONDS);
  const c32 = await measureGet(target, 32, SECONDS, TIMEOUT_SECONDS);
  return { path, ...probe, c1, c32 };
}

async function measureViews(
  service: ServiceProcess,
  history: ScaleHistory,
  loader: HistoryLoader,
  bare: BareRoutes,
): Promise<{ views: ViewPoints[]; bare: ViewPoints[]; cutoffs: Cutoffs }> {
  // The middle of the facts loaded so far, in world time and in system time; and a quarter of the
  // way, in world time, for an asOf months before K's news (EARLY_BOTH).
  const facts = loader.loaded() - history.references.length;
  const middle = history.references.length + Math.floor(facts / 2);
  const cutoffs = {
    asOf: history.dayAt(middle),
    knownAt: loader.recordedAtNear(middle),
    earlyAsOf: history.dayAt(history.references.length + Math.floor(facts / 4)),
  };
  const views: ViewPoints[] = [];
  for (const { name, path, baseline } of viewPaths(history, cutoffs)) {
    const point = await measurePoint(service.url, path, HEADERS);
    await settle(service);
    // Its baseline right after it, so that the ratio compares two points of the same minute.
    const bareC32 = await measureGet({ url: bare.url, path: bare.path(baseline), headers: {} }, 32, SECONDS, TIMEOUT_SECONDS);
    views.push({ name, baseline, ...point, bareC32 });
    log(`${name}: ${point.status}, ${point.bytes} B; c1 ${point.c1.rps.toFixed(1)}/s p50 ${point.c1.p50} ms; c32 ${point.c32.rps.toFixed(1)}/s p99 ${point.c32.p99} ms; bare beside it c32 ${bareC32.rps.toFixed(1)}/s`);
  }
  const bares: ViewPoints[] = [];
  for (const query of bareQueries(history)) {
    const point = await measurePoint(bare.url, bare.path(query.name), {});
    bares.push({ name: query.name, ...point, path: query.sql });
    log(`bare ${query.name}: ${point.bytes} B; c1 ${point.c1.rps.toFixed(1)}/s, c32 ${point.c32.rps.toFixed(1)}/s`);
  }
  return { views, bare: bares, cutoffs };
}

/**
 * The busy matrix at c1, current and at the full checkpoint's cut-offs, on the tables the rebuild
 * wrote and analyzed: their rows lie in cell order where the appends' lie in time order, and the
 * planner's choices differ on them (src/store/prepared-statement.ts, MARKED_PLANNER_SETTINGS).
 */
async function measureAfterRebuild(service: ServiceProcess, history: ScaleHistory, cutoffs: Cutoffs): Promise<RebuiltView[]> {
  const names = new Set([CURRENT_MATRIX, ...CUT_VIEWS]);
  const points: RebuiltView[] = [];
  for (const { name, path } of viewPaths(history, cutoffs).filter((v) => names.has(v.name))) {
    const target = { url: service.url, path, headers: HEADERS };
    if (WARMUP_SECONDS > 0) await measureGet(target, 1, WARMUP_SECONDS, TIMEOUT_SECONDS);
    const c1 = await measureGet(target, 1, SECONDS, TIMEOUT_SECONDS);
    points.push({ name, c1 });
    log(`after the rebuild, ${name}: c1 ${c1.rps.toFixed(1)}/s p50 ${c1.p50} ms (${c1.failed} failed)`);
  }
  return points;
}

/** Each view on the full history and on the small checkpoint's copy, at each one's cut-offs (scale-growth.ts). */
function growthPairs(history: ScaleHistory, full: { url: string; cutoffs: Cutoffs }, small: { url: string; cutoffs: Cutoffs }): GrowthPair[] {
  const smallPaths = viewPaths(history, small.cutoffs);
  return viewPaths(history, full.cutoffs).map((view) => {
    const smallPath = smallPaths.find((v) => v.name === view.name)?.path;
    if (smallPath === undefined) throw new Error(`${view.name} has no path at the small checkpoint's cut-offs`);
    return {
      name: view.name,
      full: { url: full.url, path: view.path, headers: HEADERS },
      small: { url: small.url, path: smallPath, headers: HEADERS },
    };
  });
}

async function measureSingleAppends(
  service: ServiceProcess,
  history: ScaleHistory,
  loader: HistoryLoader,
): Promise<{ appends: { concurrency: number; http: HttpPoint; pg: HttpPoint }[]; inOrderAppends: InOrderAppends }> {
  const day = history.dayAt(loader.loaded());
  const appends = [];
  let inOrderAppends: InOrderAppends | undefined;
  for (const concurrency of [1, 8, 32]) {
    const random = seededRandom(PARAMS.seed + concurrency);
    const nextBody = () => history.sampleFact(random, day);
    const pgPoint = await measurePgInserts(url, concurrency, SECONDS, nextBody);
    const http = await measureAppends({ url: service.url, headers: HEADERS }, concurrency, SECONDS, nextBody);
    appends.push({ concurrency, http, pg: pgPoint });
    log(`single appends c${concurrency}: http ${http.rps.toFixed(0)}/s (${http.failed} failed), pg ${pgPoint.rps.toFixed(0)}/s`);
    if (concurrency === 8) {
      // The sample less its late and quarter-dated facts: each lands after every fact of its cell.
      const inOrder = () => {
        for (let attempt = 0; attempt < 1000; attempt++) {
          const body = nextBody();
          if (body.occurredAt === day) return body;
        }
        throw new Error('no fact in world-time order in 1,000 of the sample (SCALE_LATE_SHARE 1?)');
      };
      // Each after a round of appends, so that neither follows the INSERTs' round, as the c8 point does.
      const ordered = await measureAppends({ url: service.url, headers: HEADERS }, concurrency, SECONDS, inOrder);
      const sampleAfter = await measureAppends({ url: service.url, headers: HEADERS }, concurrency, SECONDS, nextBody);
      inOrderAppends = { inOrder: ordered, sampleAfter };
      log(`single appends c8, in world-time order only: http ${ordered.rps.toFixed(0)}/s (${ordered.failed} failed); the sample again: ${sampleAfter.rps.toFixed(0)}/s`);
    }
  }
  if (inOrderAppends === undefined) throw new Error('no c8 point');
  return { appends, inOrderAppends };
}

async function measureCheckpoint(service: ServiceProcess, history: ScaleHistory, loader: HistoryLoader, bare: BareRoutes): Promise<Checkpoint> {
  const events = await countEvents();
  log(`checkpoint at ${events} events`);
  const rss = sampleRss(service.child.pid ?? 0);
  const rssIdleMb = await sampleRss(service.child.pid ?? 0).stop();
  const read = await measureViews(service, history, loader, bare);
  const rssMb = await rss.stop();
  const appends = await measureSingleAppends(service, history, loader);
  return { events, ...read, rssIdleMb, rssMb, ...appends, eventsAfterAppends: await countEvents() };
}

async function countEvents(): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>('select count(*) as n from event');
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

/** `npm run projections:rebuild` against the bench database; its printed rate. */
async function runRebuild(): Promise<{ eventsPerSecond: number; output: string }> {
  const child = spawn('npm', ['run', '--silent', 'projections:rebuild'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
  }, REBUILD_TIMEOUT_SECONDS * 1000);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  // The rebuild prints its rate so far at every chunk: the last line is the whole run's.
  const rate = [...output.matchAll(/\((\d+) events\/s\)/g)].at(-1)?.[1];
  if (code === 0 && rate !== undefined) return { eventsPerSecond: Number(rate), output: output.trim().slice(-2000) };
  // A failed rebuild prints a stack: keep the lines that say what failed.
  const reason = output
    .split('\n')
    .filter((line) => /^\w*error\b|^\s*(hint|detail|code):/i.test(line))
    .slice(0, 6)
    .join('\n');
  return { eventsPerSecond: NaN, output: `failed (exit ${code ?? 'signal'}):\n${reason}` };
}

/** Builds the service as `npm start` does, so that the bench measures what production runs (no TypeScript loader). */
async function buildService(): Promise<ServiceCommand> {
  const child = spawn('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`npm run build failed (exit ${code ?? 'signal'})`);
  return { file: process.execPath, args: ['--enable-source-maps', YOUNG_GENERATION, 'dist/src/main.js'] };
}

const serviceEnv = (database: string) => ({
  DATABASE_URL: database,
  DATABASE_POOL_SIZE: String(POOL_SIZE),
  ADMIN_API_KEY: ADMIN_KEY,
  RATE_LIMIT_PER_MINUTE: '100000000',
});

/** Runs `work` with a second service on `database` (a URL), as the first is run, and stops it after. */
async function withService<T>(database: string, command: ServiceCommand, work: (service: ServiceProcess) => Promise<T>): Promise<T> {
  const service = await launchService(serviceEnv(database), command);
  try {
    return await work(service);
  } finally {
    service.child.kill('SIGTERM');
    await service.exited;
  }
}

async function main(): Promise<void> {
  const command = await buildService();
  await runAdmin(SERVER, `create database ${dbName}`);
  const port = await findFreePort();
  const service = spawnService(serviceEnv(url), port, command);
  let bare: BareRoutes | undefined;
  let copied = false;
  let vacuum: Awaited<ReturnType<typeof standInForAutovacuum>>;
  try {
    await waitUntilReady(service);
    vacuum = await standInForAutovacuum(url);
    log(vacuum === undefined ? 'autovacuum is on: left to the server' : 'autovacuum is off on this server: the bench stands in for it');
    const history = createScaleHistory(PARAMS);
    bare = await startBareRoutes(url, POOL_SIZE, bareQueries(history));
    const loader = createHistoryLoader(history, PARAMS.events, { url: service.url, headers: HEADERS, batchSize: BATCH, posters: POSTERS, bucket: BUCKET });
    log(`${history.references.length} reference events, then facts up to ${PARAMS.events}`);
    await loader.loadReferences();
    const smallTarget = Math.max(CHECKPOINT, history.references.length + BATCH);
    if (LOAD_ONLY) {
      await loader.loadUntil(PARAMS.events);
      log(`loaded ${await countEvents()} events into ${dbName}; kept`);
      return;
    }
    await loader.loadUntil(smallTarget);
    // A copy of the small checkpoint as its views are measured, for measureGrowth. The stand-in for
    // autovacuum would not survive the copy's closing its connection: it stops and starts again.
    // Vacuumed and analyzed first, so that the copy has the statistics and visibility maps the
    // stand-in gives the original only later: its first pass ran on empty tables.
    const vacuumedBefore = await vacuum?.stop();
    await runAdmin(url, 'vacuum (analyze)');
    // One left by a run that stopped before its end would make the copy fail.
    await runAdmin(SERVER, `drop database if exists ${smallDbName} with (force)`);
    await copyDatabase(SERVER, dbName, smallDbName);
    copied = true;
    vacuum = await standInForAutovacuum(url);
    await waitUntilReady(service);
    await settle(service);
    const small = await measureCheckpoint(service, history, loader, bare);
    // The single appends and the plain INSERTs stored rows too: the full size counts every row.
    const extra = small.eventsAfterAppends - loader.loaded();
    log(`loading to ${PARAMS.events} events (${extra} rows from the append points included)`);
    let lastLog = Date.now();
    const progress = setInterval(() => {
      if (Date.now() - lastLog > 30_000) {
        lastLog = Date.now();
        log(`${loader.loaded()} events stored`);
      }
    }, 5000);
    await loader.loadUntil(PARAMS.events - extra).finally(() => clearInterval(progress));
    const full = await measureCheckpoint(service, history, loader, bare);
    const vacuumedAfter = await vacuum?.stop();
    vacuum = undefined;
    const vacuumed = vacuumedBefore === undefined || vacuumedAfter === undefined ? undefined : addVacuums(vacuumedBefore, vacuumedAfter);
    // Two new services, one on each side, started one after the other: neither is the one that
    // served the load (measureGrowth).
    const growth = await withService(url, command, (fullService) =>
      withService(databaseUrl(SERVER, smallDbName), command, (smallService) =>
        measureGrowth(growthPairs(history, { url: fullService.url, cutoffs: full.cutoffs }, { url: smallService.url, cutoffs: small.cutoffs }), {
          rounds: GROWTH_ROUNDS,
          seconds: GROWTH_SECONDS,
          warmupSeconds: GROWTH_WARMUP_SECONDS,
          viewWarmupSeconds: WARMUP_SECONDS,
          timeoutSeconds: TIMEOUT_SECONDS,
          log,
        }),
      ),
    ).catch((error: unknown) => {
      log(`side by side: not measured (${String(error)})`);
      return [];
    });
    log('rebuilding projections');
    const rebuild = await runRebuild();
    log(rebuild.output);
    // A failure here must not lose the run's report: the views after the rebuild are then missing, and fail their targets.
    const afterRebuild = Number.isFinite(rebuild.eventsPerSecond)
      ? await measureAfterRebuild(service, history, full.cutoffs).catch((error: unknown) => {
          log(`after the rebuild: not measured (${String(error)})`);
          return [];
        })
      : [];
    const report: ScaleReport = {
      params: { ...PARAMS, checkpoint: smallTarget, bucket: BUCKET, batch: BATCH, posters: POSTERS, seconds: SECONDS },
      references: history.references.length,
      history: { ...history.stats() },
      load: loader.bucketRates(),
      small,
      full,
      rebuild,
      afterRebuild,
      growth,
      vacuum: vacuumed,
      targets: [],
    };
    const withTargets = { ...report, targets: evaluateTargets(report) };
    printReport(withTargets);
    const file = process.env.SCALE_REPORT;
    if (file !== undefined && file !== '') await writeFile(file, `${JSON.stringify(withTargets, null, 2)}\n`);
  } finally {
    await vacuum?.stop();
    await bare?.close();
    service.child.kill('SIGTERM');
    await service.exited;
    try {
      if (KEEP) log(`kept the database ${dbName}: drop it when done`);
      else if (!LOAD_ONLY) await runAdmin(SERVER, `drop database if exists ${dbName} with (force)`);
    } finally {
      if (copied) await runAdmin(SERVER, `drop database if exists ${smallDbName} with (force)`);
    }
  }
}

await main();
