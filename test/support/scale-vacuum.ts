import pg from 'pg';

/*
 * A stand-in for autovacuum, for a server that runs without it (the development and CI machines':
 * conf.d/90-ci.conf sets autovacuum = off). A production server vacuums and analyzes each table as
 * it grows; without that, tables keep no visibility map, and statistics stay as the last ANALYZE left
 * them, so cached plans chosen for an empty table (a retraction table of no rows: a full scan)
 * stay in use at a million events. Every `everyMs` it vacuums, or only analyzes, each table past
 * autovacuum's own thresholds, read as autovacuum reads them (the server's settings, the table's
 * storage parameters), one table at a time, as the load goes on. It is throttled as autovacuum is
 * (the server's autovacuum_vacuum_cost_delay and cost limit): unthrottled until run 8 of 2026-12-02,
 * it ran beside the measurements at full speed, as autovacuum never would.
 */

export interface VacuumStats {
  readonly vacuums: number;
  readonly analyzes: number;
  readonly seconds: number;
}

/** The stand-in's work over two spans of a run, as one (the bench stops it around a copy of its database). */
export const addVacuums = (a: VacuumStats, b: VacuumStats): VacuumStats => ({
  vacuums: a.vacuums + b.vacuums,
  analyzes: a.analyzes + b.analyzes,
  seconds: a.seconds + b.seconds,
});

/** Tables past a threshold, with what each needs; autovacuum's formulas (PostgreSQL 15, autovacuum.c). */
const DUE = `
  with t as (
    select s.relname, s.n_dead_tup, s.n_ins_since_vacuum, s.n_mod_since_analyze, greatest(c.reltuples, 0) as tuples,
           (select o.option_value::float8 from pg_options_to_table(c.reloptions) o where o.option_name = 'autovacuum_vacuum_scale_factor') as vacuum_scale,
           (select o.option_value::float8 from pg_options_to_table(c.reloptions) o where o.option_name = 'autovacuum_vacuum_insert_scale_factor') as insert_scale
    from pg_stat_user_tables s join pg_class c on c.oid = s.relid
    where s.schemaname = 'public'
  )
  select t.relname,
         t.n_dead_tup > current_setting('autovacuum_vacuum_threshold')::float8
           + coalesce(t.vacuum_scale, current_setting('autovacuum_vacuum_scale_factor')::float8) * t.tuples
         or t.n_ins_since_vacuum > current_setting('autovacuum_vacuum_insert_threshold')::float8
           + coalesce(t.insert_scale, current_setting('autovacuum_vacuum_insert_scale_factor')::float8) * t.tuples as vacuum,
         t.n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float8
           + current_setting('autovacuum_analyze_scale_factor')::float8 * t.tuples as analyze
  from t`;

/** Starts the stand-in if the server's autovacuum is off; undefined if it is on. */
export async function standInForAutovacuum(databaseUrl: string, everyMs = 15_000): Promise<{ stop(): Promise<VacuumStats> } | undefined> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  // The benchmark drops its database with force at the end.
  client.on('error', () => undefined);
  const { rows } = await client.query<{ autovacuum: string }>('show autovacuum');
  if (rows[0]?.autovacuum === 'on') {
    await client.end();
    return undefined;
  }
  // Autovacuum's cost-based delay, in this session's manual VACUUM and ANALYZE (PostgreSQL docs,
  // "Cost-based Vacuum Delay"; -1 for either means vacuum's own setting, as for autovacuum).
  await client.query(`
    select set_config('vacuum_cost_delay',
                      case when current_setting('autovacuum_vacuum_cost_delay') like '-%' then current_setting('vacuum_cost_delay')
                           else current_setting('autovacuum_vacuum_cost_delay') end, false),
           set_config('vacuum_cost_limit',
                      case when current_setting('autovacuum_vacuum_cost_limit') = '-1' then current_setting('vacuum_cost_limit')
                           else current_setting('autovacuum_vacuum_cost_limit') end, false)`);
  let vacuums = 0;
  let analyzes = 0;
  let seconds = 0;
  let stopped = false;
  const round = async () => {
    const due = await client.query<{ relname: string; vacuum: boolean; analyze: boolean }>(DUE);
    for (const table of due.rows) {
      if (stopped || (!table.vacuum && !table.analyze)) continue;
      const started = performance.now();
      await client.query(`${table.vacuum ? 'vacuum (analyze)' : 'analyze'} public.${pg.escapeIdentifier(table.relname)}`);
      seconds += (performance.now() - started) / 1000;
      if (table.vacuum) vacuums++;
      else analyzes++;
    }
  };
  let wake: () => void = () => undefined;
  const loop = (async () => {
    while (!stopped) {
      await round();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, everyMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })().catch((error: unknown) => {
    // The database went away under it (the benchmark ends by dropping it): nothing left to vacuum.
    if (!stopped) process.stderr.write(`autovacuum stand-in stopped: ${String(error)}\n`);
  });
  return {
    stop: async () => {
      stopped = true;
      wake();
      await loop;
      await client.end();
      return { vacuums, analyzes, seconds };
    },
  };
}
