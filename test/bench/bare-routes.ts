import Fastify from 'fastify';
import pg from 'pg';
import { z } from 'zod';

/*
 * The bare routes of the scale benchmark, in a process of their own, as the service is: issue 9
 * measures each view beside "a bare Fastify route doing one indexed SELECT of the same rows". In
 * the benchmark's own process they shared one event loop with the load generator, which the
 * service does not, and so answered fewer requests than they could. Started by startBareRoutes
 * (test/support/scale-points.ts): queries in BARE_QUERIES (JSON), it prints the address it listens
 * on as one line and runs until SIGTERM or until its stdin closes.
 */
const Env = z.object({
  BARE_DATABASE_URL: z.string().min(1),
  BARE_POOL_SIZE: z.coerce.number().int().min(1),
  BARE_QUERIES: z.string().transform((text) => z.array(z.object({ sql: z.string(), params: z.array(z.string()) })).parse(JSON.parse(text))),
});
const env = Env.parse(process.env);
const pool = new pg.Pool({ connectionString: env.BARE_DATABASE_URL, max: env.BARE_POOL_SIZE });
// The benchmark drops its database with force at the end: an idle client's connection ends then.
pool.on('error', () => undefined);
const app = Fastify({ logger: false });
env.BARE_QUERIES.forEach((query, index) => {
  app.get(`/bare/${index}`, async () => {
    const { rows } = await pool.query(query.sql, query.params);
    return { rows };
  });
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${url}\n`);
const stop = () => {
  void app
    .close()
    .then(() => pool.end())
    .finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
// Its stdin is a pipe from the benchmark: if the benchmark dies, so does this.
process.stdin.once('close', stop).resume();
