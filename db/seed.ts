import { seedExampleScenario } from './seed-example-scenario.js';

// `npm run seed`: records the example scenario of SPEC §1 in a running service, through its API.
const baseUrl = process.env.SEED_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
// A writer key; the admin key the service was started with will do.
const apiKey = process.env.SEED_API_KEY ?? process.env.ADMIN_API_KEY;

try {
  if (apiKey === undefined) throw new Error('set SEED_API_KEY (a writer key) or ADMIN_API_KEY');
  const { requests, eventIds } = await seedExampleScenario(baseUrl, apiKey);
  process.stdout.write(`seeded ${baseUrl}: ${requests} requests, ${eventIds.length} events\n`);
} catch (error) {
  // fetch hides the reason for a refused connection in `cause`: that is the line a newcomer needs.
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
  process.stderr.write(`seed failed against ${baseUrl}: ${error instanceof Error ? error.message : String(error)}${cause}\n`);
  process.exit(1);
}
