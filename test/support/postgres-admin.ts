import pg from 'pg';

/** The same server and credentials, another database. */
export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Runs one statement on its own connection and returns its rows (CREATE DATABASE refuses to run in a transaction). */
export async function queryAdmin<R extends pg.QueryResultRow>(serverUrl: string, statement: string, values: readonly unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return (await client.query<R>(statement, [...values])).rows;
  } finally {
    await client.end();
  }
}

/** Runs one statement on its own connection. */
export async function runAdmin(serverUrl: string, statement: string): Promise<void> {
  await queryAdmin(serverUrl, statement);
}

/** Drops every database whose name starts with `prefix`, closing what is still connected to it. */
export async function dropDatabases(serverUrl: string, prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('select datname from pg_database where datname like $1', [
      `${prefix}%`,
    ]);
    for (const { datname } of rows) await client.query(`drop database if exists "${datname}" with (force)`);
  } finally {
    await client.end();
  }
}

/**
 * Copies a database as it stands (CREATE DATABASE … TEMPLATE), its planner statistics and
 * visibility maps included (not its activity counters). PostgreSQL copies only a database no one
 * else is connected to: new connections to it are refused meanwhile and those open are closed, so a
 * service on it answers 503 for a moment and then reconnects by itself (SPEC §9); a client that
 * cannot reconnect must be stopped before. CREATE DATABASE itself waits a few seconds for the
 * closed sessions to end; a retry covers one that takes longer.
 */
export async function copyDatabase(serverUrl: string, from: string, to: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  const source = pg.escapeIdentifier(from);
  try {
    await client.query(`alter database ${source} allow_connections false`);
    try {
      for (let attempt = 1; ; attempt++) {
        await client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [from]);
        try {
          await client.query(`create database ${pg.escapeIdentifier(to)} template ${source}`);
          return;
        } catch (error) {
          // 55006: a backend still closing ("source database is being accessed by other users").
          const busy = error instanceof pg.DatabaseError && error.code === '55006';
          if (!busy || attempt === 10) throw error;
        }
      }
    } finally {
      await client.query(`alter database ${source} allow_connections true`);
    }
  } finally {
    await client.end();
  }
}
