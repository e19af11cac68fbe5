/*
 * Examples for the OpenAPI document, taken from the example scenario (db/seed-example-scenario.ts,
 * SPEC §1): SK Telecom's defense MOU and its lightweight pilot in the defense-ax program. Swagger
 * UI shows them instead of samples made up from the schemas ("string", the smallest integer).
 */

const PILOT_SOURCE = {
  url: 'https://news.example/skt-defense-pilot',
  publisher: 'ZDNet Korea',
  title: 'Lightweight A.X K1 to be piloted in Q2',
  publishedAt: '2026-05',
};

/** The MOU, as a writer proposes it. */
export const EXAMPLE_MOU_SIGNED = {
  type: 'mou.signed' as const,
  occurredAt: '2026-05',
  data: {
    parties: ['SK Telecom', 'Ministry of National Defense'],
    title: 'MOU to build a defense AI model',
    consortiumId: 'skt',
    programId: 'defense-ax',
    milestone: 'defense-model-mou',
  },
  sources: [
    {
      url: 'https://news.example/skt-mnd-mou',
      publisher: 'The Korea Herald',
      title: 'SK Telecom to build defense AI model with MND',
      publishedAt: '2026-05',
    },
  ],
};

/** The pilot, as a writer proposes it. */
export const EXAMPLE_PILOT_STARTED = {
  type: 'pilot.started' as const,
  occurredAt: '2026-Q2',
  data: {
    consortiumId: 'skt',
    programId: 'defense-ax',
    milestone: 'lightweight-pilot',
    model: 'A.X K1 lightweight',
    scope: 'A lightweight version of A.X K1 piloted for defense use in the second quarter.',
  },
  sources: [PILOT_SOURCE],
};

/** The pilot as the service stores and answers it. */
export const EXAMPLE_EVENT = {
  id: '0193a6f2-5c4e-7d21-9b8a-3f6e2d1c4b50',
  type: 'pilot.started',
  schemaVersion: 1,
  stream: 'consortium:skt',
  streamVersion: 7,
  position: 31,
  occurredAt: { value: '2026-Q2', precision: 'quarter', start: '2026-04-01T00:00:00.000Z', end: '2026-07-01T00:00:00.000Z' },
  recordedAt: '2026-11-20T09:15:02.481Z',
  data: EXAMPLE_PILOT_STARTED.data,
  sources: [PILOT_SOURCE],
  metadata: {
    actor: 'ADMIN_API_KEY',
    actorKeyId: '0193a6f0-1e2d-7c3b-8a49-5d6e7f809a1b',
    requestId: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
  },
};
