import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServiceDatabase } from '../support/service-database.js';
import { findFreePort, killService, launchService, spawnService, waitForExit, type ServiceProcess } from '../support/service-process.js';

// Configuration is read before anything is opened: the service stops within its own start-up time,
// which on a loaded machine (node, tsx and every module loaded afresh) can take several seconds.
const EXIT_BOUND_MS = 30_000;

let dataDir: string;
const started: ServiceProcess[] = [];
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ml-startup-config-'));
});
afterAll(async () => {
  await Promise.all(started.map(killService));
  await rm(dataDir, { recursive: true, force: true });
});

describe('start-up configuration', () => {
  it.each([
    ['PORT', 'eighty'],
    ['WEBHOOK_ALLOWED_CIDRS', 'not-a-cidr'],
    ['REQUEST_TIMEOUT_MS', '0'],
  ])('stops at once on %s=%s, naming the variable on stderr', async (name, value) => {
    // The embedded database in a folder of this test's own, should the bad value be let through.
    const service = spawnService({ DATABASE_URL: '', DATA_DIR: dataDir, [name]: value }, 0);
    started.push(service);

    const exit = await waitForExit(service, EXIT_BOUND_MS);

    expect(exit).toEqual({ code: 1, signal: null });
    expect(service.stderr()).toMatch(new RegExp(`^invalid configuration: ${name}: `, 'm'));
    // Nothing was started: not even the database folder was written.
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('stops a second service on the DATA_DIR a running one uses, naming DATA_DIR and the process that holds it; once that one is killed (kill -9), the folder is taken over', async () => {
    const own = await mkdtemp(join(tmpdir(), 'ml-startup-data-dir-'));
    try {
      const first = await launchService({ DATABASE_URL: '', DATA_DIR: own });
      started.push(first);
      const second = spawnService({ DATABASE_URL: '', DATA_DIR: own }, 0);
      started.push(second);

      const refused = await waitForExit(second, EXIT_BOUND_MS);
      first.child.kill('SIGKILL');
      await first.exited;
      const after = await launchService({ DATABASE_URL: '', DATA_DIR: own });
      started.push(after);
      const ready = await fetch(`${after.url}/readyz`);
      await killService(after);

      expect(refused).toEqual({ code: 1, signal: null });
      expect(second.stderr()).toMatch(new RegExp(`^DATA_DIR=${own} is in use by process ${String(first.child.pid)}: `, 'm'));
      expect(ready.status).toBe(200);
    } finally {
      await rm(own, { recursive: true, force: true });
    }
    // Two embedded databases created and migrated from nothing, one after the other.
  }, 180_000);

  it('stops on a DATA_DIR that is a file, naming DATA_DIR on stderr rather than with a stack', async () => {
    const own = await mkdtemp(join(tmpdir(), 'ml-startup-data-file-'));
    try {
      const file = join(own, 'a-file');
      await writeFile(file, 'not a folder');
      const service = spawnService({ DATABASE_URL: '', DATA_DIR: file }, 0);
      started.push(service);

      const exit = await waitForExit(service, EXIT_BOUND_MS);

      expect(exit).toEqual({ code: 1, signal: null });
      expect(service.stderr()).toMatch(new RegExp(`^DATA_DIR=${file} cannot hold the embedded database: EEXIST`, 'm'));
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });

  it('stops on a DATA_DIR whose files the embedded database cannot open, naming DATA_DIR and what to check rather than WebAssembly\'s words with a stack (probe of the embedded database)', async () => {
    const own = await mkdtemp(join(tmpdir(), 'ml-startup-data-bad-'));
    try {
      // A folder that holds something else than this service's database.
      await writeFile(join(own, 'PG_VERSION'), '99\n');
      const service = spawnService({ DATABASE_URL: '', DATA_DIR: own }, 0);
      started.push(service);

      const exit = await waitForExit(service, EXIT_BOUND_MS);

      expect(exit).toEqual({ code: 1, signal: null });
      expect(service.stderr()).toMatch(
        new RegExp(`^DATA_DIR=${own} cannot hold the embedded database: the embedded database could not open its files \\(.+\\); check that this user may write every file in it, that its disk has room, and that it holds nothing but this service's database$`, 'm'),
      );
      expect(service.stderr()).not.toMatch(/^\s+at /m);
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });

  it('stops when the database DATABASE_URL names cannot be reached, naming DATABASE_URL and what failed on stderr, never the password', async () => {
    // A port nothing listens on: the one a closed listener had.
    const port = await findFreePort();
    const service = spawnService({ DATABASE_URL: `postgres://ledger:not-for-logs@127.0.0.1:${port}/ledger` }, 0);
    started.push(service);

    const exit = await waitForExit(service, EXIT_BOUND_MS);

    expect(exit).toEqual({ code: 1, signal: null });
    expect(service.stderr()).toMatch(
      new RegExp(`^cannot open the database DATABASE_URL names \\(database ledger on 127\\.0\\.0\\.1 port ${port} as ledger\\): connect ECONNREFUSED`, 'm'),
    );
    expect(service.stderr()).not.toContain('not-for-logs');
    expect(service.stderr()).not.toMatch(/^\s+at /m);
  });

  it('stops on a database a newer release has migrated, saying so in a sentence and not with a stack', async () => {
    const database = await createServiceDatabase();
    try {
      const opened = await database.open();
      try {
        await sql`insert into kysely_migration (name, timestamp) values ('2099-01-01T00-00-00_a_later_release', now())`.execute(opened.db);
      } finally {
        await opened.db.destroy();
      }
      const service = spawnService(database.env, 0);
      started.push(service);

      const exit = await waitForExit(service, EXIT_BOUND_MS);

      expect(exit).toEqual({ code: 1, signal: null });
      expect(service.stderr()).toMatch(/^this database has been migrated by a newer release of milestone-ledger \(2099-01-01T00-00-00_a_later_release: unknown to this release\)/m);
      expect(service.stderr()).not.toMatch(/^\s+at /m);
    } finally {
      await database.remove();
    }
  });

  it('stops on a HOST it cannot listen on, naming HOST and PORT on stderr', async () => {
    const own = await mkdtemp(join(tmpdir(), 'ml-startup-host-'));
    try {
      // .invalid never resolves (RFC 6761); its form is a host name's, so only listening finds it out.
      const service = spawnService({ DATABASE_URL: '', DATA_DIR: own, HOST: 'no-such-host.invalid' }, 0);
      started.push(service);

      const exit = await waitForExit(service, EXIT_BOUND_MS);

      expect(exit).toEqual({ code: 1, signal: null });
      expect(service.stderr()).toMatch(/^cannot listen on HOST=no-such-host\.invalid PORT=\d+: /m);
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });
});
