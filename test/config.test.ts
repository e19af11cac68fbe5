import { describe, expect, it } from 'vitest';
import { ConfigError, describeDatabaseUrl, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('defaults to the embedded database under ./data on 127.0.0.1:3000', () => {
    expect(loadConfig({})).toMatchObject({ port: 3000, host: '127.0.0.1', database: { kind: 'pglite', dataDir: './data' } });
  });

  it('uses PostgreSQL when DATABASE_URL is set', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h:5432/db', DATABASE_POOL_SIZE: '4' }).database).toEqual({
      kind: 'postgres',
      url: 'postgres://u@h:5432/db',
      poolSize: 4,
    });
  });

  it('bounds slow clients by default: 30 s to send a request, 72 s idle keep-alive, 120 s without a byte', () => {
    expect(loadConfig({})).toMatchObject({ requestTimeoutMs: 30_000, keepAliveTimeoutMs: 72_000, socketIdleTimeoutMs: 120_000 });
  });

  it.each(['::', '0.0.0.0', 'localhost', 'ml_service_1', 'host.example.', '::ffff:127.0.0.1'])('listens on HOST=%s, an address or a host name', (host) => {
    expect(loadConfig({ HOST: host, PORT: '0' })).toMatchObject({ host, port: 0 });
  });

  it('reads the timeouts from the environment', () => {
    const config = loadConfig({ REQUEST_TIMEOUT_MS: '500', KEEP_ALIVE_TIMEOUT_MS: '5000', SOCKET_IDLE_TIMEOUT_MS: '20000' });

    expect(config).toMatchObject({ requestTimeoutMs: 500, keepAliveTimeoutMs: 5000, socketIdleTimeoutMs: 20_000 });
  });

  it('caps live feeds at 10 per key and 100 per instance by default, and reads both caps', () => {
    expect(loadConfig({})).toMatchObject({ maxFeedsPerKey: 10, maxFeedsPerInstance: 100 });
    expect(loadConfig({ FEED_MAX_PER_KEY: '3', FEED_MAX_PER_INSTANCE: '40' })).toMatchObject({ maxFeedsPerKey: 3, maxFeedsPerInstance: 40 });
    expect(() => loadConfig({ FEED_MAX_PER_INSTANCE: '0' })).toThrow(/FEED_MAX_PER_INSTANCE: /);
  });

  it.each([
    ['WEBHOOK_RETRY_SCHEDULE', '5,300,9999999999999'],
    ['WEBHOOK_MAX_RETRY_AFTER_SECONDS', '9999999999999'],
    ['WEBHOOK_DISABLE_AFTER_HOURS', '8761'],
    ['WEBHOOK_LEASE_SECONDS', '86401'],
  ])('refuses %s=%s, a wait the database could not add to its clock or a timer could not keep', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}: .*(year|day)`));
  });

  it('takes delivery waits of up to a year, and a lease of up to a day', () => {
    const config = loadConfig({
      WEBHOOK_RETRY_SCHEDULE: '5,31536000',
      WEBHOOK_MAX_RETRY_AFTER_SECONDS: '31536000',
      WEBHOOK_DISABLE_AFTER_HOURS: '8760',
      WEBHOOK_LEASE_SECONDS: '86400',
    });

    expect(config.webhooks).toMatchObject({ leaseSeconds: 86_400, disableAfterSeconds: 31_536_000, retrySchedule: [5, 31_536_000], maxRetryAfterSeconds: 31_536_000 });
  });

  it('reports every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'eighty', WEBHOOK_ALLOW_HTTP: 'yes' })).toThrow(/PORT: .*; WEBHOOK_ALLOW_HTTP: /);
  });

  it('reads HEAP_GROWING_PERCENT, 50 by default, 0 leaving V8 its own choice', () => {
    expect(loadConfig({}).heapGrowingPercent).toBe(50);
    expect(loadConfig({ HEAP_GROWING_PERCENT: '0' }).heapGrowingPercent).toBe(0);
    expect(loadConfig({ HEAP_GROWING_PERCENT: '1000' }).heapGrowingPercent).toBe(1000);
  });

  it('folds a rebuild on REBUILD_WORKERS connections of a server (2 by default, at most the pool), on one with PGlite', () => {
    const server = { DATABASE_URL: 'postgres://u@h:5432/db' };
    expect(loadConfig(server).rebuildWorkers).toBe(2);
    expect(loadConfig({ ...server, REBUILD_WORKERS: '4' }).rebuildWorkers).toBe(4);
    expect(loadConfig({ ...server, REBUILD_WORKERS: '8', DATABASE_POOL_SIZE: '3' }).rebuildWorkers).toBe(3);
    expect(loadConfig({ REBUILD_WORKERS: '4' }).rebuildWorkers).toBe(1);
  });

  it('runs APPEND_CONCURRENCY append calls at once on a server (2 by default, at most the pool less two), one on PGlite', () => {
    const server = { DATABASE_URL: 'postgres://u@h:5432/db' };
    expect(loadConfig(server).appendConcurrency).toBe(2);
    expect(loadConfig({ ...server, APPEND_CONCURRENCY: '6' }).appendConcurrency).toBe(6);
    expect(loadConfig({ ...server, APPEND_CONCURRENCY: '8', DATABASE_POOL_SIZE: '6' }).appendConcurrency).toBe(4);
    expect(loadConfig({ ...server, APPEND_CONCURRENCY: '8', DATABASE_POOL_SIZE: '2' }).appendConcurrency).toBe(1);
    expect(loadConfig({ ...server, DATABASE_POOL_SIZE: '6' }).appendMaxCalls).toBe(4);
    expect(loadConfig({ APPEND_CONCURRENCY: '4' }).appendConcurrency).toBe(1);
  });

  it.each(['postgresql:///ledger?host=/var/run/postgresql', 'postgresql://ledger@/ledger?host=/var/run/postgresql', 'postgres:///ledger', 'postgres://u:50%off@h/ledger', 'postgres://[::1]:5432/ledger'])(
    'takes DATABASE_URL=%s, which the driver reads (a socket folder, PGHOST, a bare %% it escapes, IPv6)',
    (url) => {
      expect(loadConfig({ DATABASE_URL: url }).database).toMatchObject({ kind: 'postgres', url });
    },
  );

  it('treats an empty DATABASE_URL as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', DATA_DIR: '/tmp/ledger' }).database).toEqual({ kind: 'pglite', dataDir: '/tmp/ledger' });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['PORT', ''],
    ['PORT', '0x1F90'],
    ['HOST', 'not a host'],
    ['HOST', '127.0.0.1 '],
    ['WEBHOOK_TIMEOUT_MS', '3000000000'],
    ['SHUTDOWN_GRACE_MS', '2147478648'],
    // The client's answer deadline is this and 5 s: past the longest timer, it would fire at once.
    ['DATABASE_STATEMENT_TIMEOUT_MS', '2147478648'],
    ['WEBHOOK_POLL_MS', '2147483648'],
    ['SOCKET_IDLE_TIMEOUT_MS', '2147483648'],
    ['DATABASE_URL', 'mysql://x'],
    // Each failed only at the first connection, with a stack that named no variable.
    ['DATABASE_URL', 'postgres://postgres@127.0.0.1:99999/ledger'],
    ['DATABASE_URL', 'postgres://postgres@127.0.0.1:0/ledger'],
    // Read as 16, 1000 and 60 until 2026-12-05, where PORT refused them.
    ['RATE_LIMIT_PER_MINUTE', '0x10'],
    ['RATE_LIMIT_PER_MINUTE', '1e3'],
    ['RATE_LIMIT_PER_MINUTE', ' 60 '],
    ['WEBHOOK_TIMEOUT_MS', '5e3'],
    ['REBUILD_WORKERS', '0x2'],
    ['LOG_LEVEL', 'loud'],
    ['DATABASE_POOL_SIZE', '0'],
    ['REBUILD_WORKERS', '0'],
    ['REBUILD_WORKERS', '17'],
    ['APPEND_CONCURRENCY', '0'],
    ['APPEND_CONCURRENCY', '65'],
    ['BODY_LIMIT_BYTES', '-1'],
    ['ADMIN_API_KEY', 'too-short'],
    ['ADMIN_API_KEY', 'sixteen or more but with spaces'],
    ['RATE_LIMIT_PER_MINUTE', '0'],
    ['WEBHOOK_ALLOWED_CIDRS', '10.0.0.0/33'],
    ['WEBHOOK_ALLOWED_CIDRS', 'not-a-cidr'],
    ['WEBHOOK_RETRY_SCHEDULE', '5,soon'],
    ['WEBHOOK_ALLOW_HTTP', 'yes'],
    ['REQUEST_TIMEOUT_MS', '0'],
    ['REQUEST_TIMEOUT_MS', 'forever'],
    ['KEEP_ALIVE_TIMEOUT_MS', '1.5'],
    ['SOCKET_IDLE_TIMEOUT_MS', '10000'],
    ['API_KEY_CACHE_MS', ''],
    ['API_KEY_CACHE_MS', '60001'],
    ['HEAP_GROWING_PERCENT', ''],
    ['HEAP_GROWING_PERCENT', '1001'],
    ['HEAP_GROWING_PERCENT', '-5'],
  ])('refuses %s=%s with a message naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^invalid configuration: ${name}: `));
  });
});

describe('describeDatabaseUrl, for a start-up message', () => {
  it.each([
    ['postgres://ledger:s3cret@db.internal:5433/ledger', 'database ledger on db.internal port 5433 as ledger'],
    // What the URL leaves out, the driver takes from the environment or its defaults.
    ['postgres://ledger:s3cret@db.internal/ledger', 'database ledger on db.internal port 5432 as ledger'],
    ['postgres:///ledger?host=/var/run/postgresql&password=s3cret', 'database ledger on /var/run/postgresql port 5432 as (PGUSER)'],
    ['postgres://[::1]:5432/ledger', 'database ledger on ::1 port 5432 as (PGUSER)'],
  ])('names where %s points', (url, described) => {
    expect(describeDatabaseUrl(url)).toBe(described);
  });

  it.each(['postgres://ledger:123/s3cret@db.internal/ledger', 'postgres://ledger:12?x=s3cret@db.internal/ledger', 'postgres://ledger:12#s3cret@db.internal/ledger'])(
    'prints no piece of a password whose unescaped / ? # shifts the parts of the URL: %s',
    (url) => {
      expect(describeDatabaseUrl(url)).not.toMatch(/12|s3cret/);
    },
  );

  it('reads a percent-encoded user name with an @ (user@server) as the driver does', () => {
    expect(describeDatabaseUrl('postgres://ledger%40server:s3cret@db.internal:5432/ledger')).toBe('database ledger on db.internal port 5432 as ledger@server');
  });
});
