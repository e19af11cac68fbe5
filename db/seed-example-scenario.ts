import { z } from 'zod';
import { EXAMPLE_MOU_SIGNED, EXAMPLE_PILOT_STARTED } from '../src/domain/example-events.js';
import type { ProposedEvent } from '../src/domain/proposed-event.js';

/*
 * The example scenario of SPEC §1, recorded through the public API as any writer would, so that
 * the seed exercises validation, references and idempotency exactly like a real client.
 *
 * Source URLs (https://news.example/...) and article titles are illustrative: we cannot vouch
 * for real article addresses. The publishers, dates and facts follow the public reporting.
 */

// Typed against the API's own request schema: a misspelt field fails `tsc`, not the seed run.
type EventProposal = z.input<typeof ProposedEvent>;

interface SeedRequest {
  /*
   * Fixed per request so that a second run is replayed by the server instead of stored again.
   * The `seed-2026-11` prefix versions the scenario: changing any body under an existing key is
   * refused with 422 on a database seeded before, so an edited scenario needs a new prefix.
   */
  readonly idempotencyKey: string;
  readonly events: readonly EventProposal[];
}

const KEY_PREFIX = 'seed-2026-11';

const news = (slug: string, publisher: string, title: string, publishedAt: string) => ({
  url: `https://news.example/${slug}`,
  publisher,
  title,
  publishedAt,
});

const programs: SeedRequest = {
  idempotencyKey: `${KEY_PREFIX}:programs`,
  events: [
    {
      type: 'program.registered',
      occurredAt: '2025-06',
      data: {
        programId: 'kr-sovereign-ai',
        name: 'National AI foundation model project',
        sponsor: 'Ministry of Science and ICT',
        description: 'Consortiums compete in staged evaluations to build a sovereign Korean AI foundation model.',
      },
    },
    {
      type: 'milestone.planned',
      occurredAt: '2025-08',
      data: {
        programId: 'kr-sovereign-ai',
        milestone: 'first-evaluation',
        title: 'First-stage evaluation of the consortiums’ models',
        due: '2025-12',
        scope: 'program',
      },
    },
    {
      type: 'milestone.planned',
      occurredAt: '2025-08',
      data: {
        programId: 'kr-sovereign-ai',
        milestone: 'final-evaluation',
        title: 'Final evaluation of the four consortiums, August 2026',
        due: '2026-08',
        scope: 'program',
      },
    },
    {
      type: 'program.registered',
      occurredAt: '2026-H1',
      data: {
        programId: 'defense-ax',
        name: 'Defense AX',
        sponsor: 'Ministry of National Defense',
        description: 'AI transformation of defense: defense-specific models, pilots and military AI infrastructure.',
      },
    },
    {
      type: 'milestone.planned',
      occurredAt: '2026-H1',
      data: {
        programId: 'defense-ax',
        milestone: 'military-ai-datacenter',
        title: 'Plan for a military AI data center',
        due: '2026-H2',
        scope: 'consortium',
      },
    },
    {
      type: 'milestone.planned',
      occurredAt: '2026-H1',
      data: {
        programId: 'defense-ax',
        milestone: 'kida-nia-cooperation',
        title: 'Cooperation agreement between KIDA and NIA on defense AI',
        due: '2026-05',
        scope: 'program',
      },
    },
  ],
};

const consortiums: SeedRequest = {
  idempotencyKey: `${KEY_PREFIX}:consortiums`,
  events: [
    {
      type: 'consortium.registered',
      occurredAt: '2025-08',
      data: { consortiumId: 'skt', name: 'SK Telecom consortium', lead: 'SK Telecom', models: ['A.X K1'] },
    },
    {
      type: 'consortium.registered',
      occurredAt: '2025-08',
      data: { consortiumId: 'lg-ai-research', name: 'LG AI Research consortium', lead: 'LG AI Research', models: ['EXAONE'] },
    },
    {
      type: 'consortium.registered',
      occurredAt: '2025-08',
      data: { consortiumId: 'upstage', name: 'Upstage consortium', lead: 'Upstage', models: ['Solar'] },
    },
    {
      type: 'consortium.registered',
      occurredAt: '2025-08',
      data: { consortiumId: 'naver-cloud', name: 'Naver Cloud consortium', lead: 'Naver Cloud', models: ['HyperCLOVA X'] },
    },
    // Motif joined in February 2026, taking a slot left open after the first evaluation.
    {
      type: 'consortium.registered',
      occurredAt: '2026-02',
      data: { consortiumId: 'motif', name: 'Motif Technologies consortium', lead: 'Motif Technologies' },
    },
    { type: 'consortium.enrolled', occurredAt: '2025-08', data: { consortiumId: 'skt', programId: 'kr-sovereign-ai' } },
    {
      type: 'consortium.enrolled',
      occurredAt: '2025-08',
      data: { consortiumId: 'lg-ai-research', programId: 'kr-sovereign-ai' },
    },
    { type: 'consortium.enrolled', occurredAt: '2025-08', data: { consortiumId: 'upstage', programId: 'kr-sovereign-ai' } },
    { type: 'consortium.enrolled', occurredAt: '2026-02', data: { consortiumId: 'motif', programId: 'kr-sovereign-ai' } },
    { type: 'consortium.enrolled', occurredAt: '2026-05', data: { consortiumId: 'skt', programId: 'defense-ax' } },
    { type: 'consortium.enrolled', occurredAt: '2026-06', data: { consortiumId: 'naver-cloud', programId: 'defense-ax' } },
  ],
};

const foundationModels: SeedRequest = {
  idempotencyKey: `${KEY_PREFIX}:foundation-models`,
  events: [
    {
      type: 'model.announced',
      occurredAt: '2025-12',
      data: { consortiumId: 'skt', model: 'A.X K1', parameters: 500_000_000_000, programId: 'kr-sovereign-ai' },
      sources: [news('skt-ax-k1', 'The Korea Herald', 'SK Telecom unveils 500B-parameter A.X K1', '2025-12')],
    },
    {
      type: 'model.announced',
      occurredAt: '2025-12',
      data: { consortiumId: 'lg-ai-research', model: 'K-EXAONE', programId: 'kr-sovereign-ai' },
      sources: [news('lg-k-exaone', 'Korea JoongAng Daily', 'LG AI Research presents K-EXAONE', '2025-12')],
    },
    {
      type: 'model.announced',
      occurredAt: '2025-12',
      data: { consortiumId: 'upstage', model: 'Solar Open 100B', parameters: 100_000_000_000, programId: 'kr-sovereign-ai' },
      sources: [news('upstage-solar-open', 'The Korea Times', 'Upstage shows Solar Open 100B', '2025-12')],
    },
    // Predates both programs: recorded for the consortium only.
    {
      type: 'model.announced',
      occurredAt: '2023-08',
      data: { consortiumId: 'naver-cloud', model: 'HyperCLOVA X' },
      sources: [news('naver-hyperclova-x', 'Yonhap News Agency', 'Naver launches HyperCLOVA X', '2023-08-24')],
    },
  ],
};

const firstEvaluation: SeedRequest = {
  idempotencyKey: `${KEY_PREFIX}:first-evaluation`,
  events: [
    {
      type: 'evaluation.held',
      occurredAt: '2026-01',
      data: {
        programId: 'kr-sovereign-ai',
        milestone: 'first-evaluation',
        outcome: 'SK Telecom, LG AI Research and Upstage advance to the second stage; one slot is reopened.',
      },
      sources: [
        news('msit-first-evaluation', 'Ministry of Science and ICT', 'Results of the first-stage evaluation', '2026-01'),
        news('first-evaluation-results', 'Yonhap News Agency', 'Three teams pass first AI model evaluation', '2026-01'),
      ],
    },
    ...(['skt', 'lg-ai-research', 'upstage'] as const).map(
      (consortiumId): EventProposal => ({
        type: 'evaluation.held',
        occurredAt: '2026-01',
        data: { programId: 'kr-sovereign-ai', consortiumId, outcome: 'Advanced to the second stage.' },
        sources: [
          news('msit-first-evaluation', 'Ministry of Science and ICT', 'Results of the first-stage evaluation', '2026-01'),
        ],
      }),
    ),
  ],
};

const sktDefense: SeedRequest = {
  idempotencyKey: `${KEY_PREFIX}:skt-defense`,
  events: [
    // Planned here, once SK Telecom is registered: a plan names only consortiums that exist.
    {
      type: 'milestone.planned',
      occurredAt: '2026-H1',
      data: {
        programId: 'defense-ax',
        milestone: 'defense-model-mou',
        title: 'MOU with the Ministry of National Defense to build a defense AI model',
        due: '2026-05',
        scope: 'consortium',
        // SK Telecom's alone: the other consortiums enrolled in defense-ax have no cell for it.
        consortiums: ['skt'],
      },
    },
    {
      type: 'milestone.planned',
      occurredAt: '2026-H1',
      data: {
        programId: 'defense-ax',
        milestone: 'lightweight-pilot',
        title: 'Pilot of a lightweight defense model',
        due: '2026-Q2',
        scope: 'consortium',
        // SK Telecom's alone: the other consortiums enrolled in defense-ax have no cell for it.
        consortiums: ['skt'],
      },
    },
    // The OpenAPI document's examples are these two events (src/domain/example-events.ts).
    EXAMPLE_MOU_SIGNED,
    EXAMPLE_PILOT_STARTED,
  ],
};

const defenseCooperation: SeedRequest = {
  idempotencyKey: `${KEY_PREFIX}:defense-cooperation`,
  events: [
    {
      type: 'mou.signed',
      occurredAt: '2026-05',
      data: {
        parties: ['KIDA', 'NIA'],
        title: 'Cooperation MOU on defense AI between the Korea Institute for Defense Analyses and the National Information Society Agency',
        programId: 'defense-ax',
        milestone: 'kida-nia-cooperation',
      },
      sources: [news('kida-nia-mou', 'Yonhap News Agency', 'KIDA and NIA sign defense AI cooperation MOU', '2026-05')],
    },
    {
      type: 'seminar.held',
      occurredAt: '2026-06-10',
      data: {
        title: 'Naver Cloud presents military AI data center plans',
        location: 'Daejeon',
        consortiumId: 'naver-cloud',
        programId: 'defense-ax',
        milestone: 'military-ai-datacenter',
      },
      sources: [news('naver-military-ai-dc', 'Business Korea', 'Naver Cloud outlines military AI data center', '2026-06-10')],
    },
  ],
};

/** In order: each request only names what an earlier request (or an earlier event of its own) defines. */
const EXAMPLE_SCENARIO: readonly SeedRequest[] = [
  programs,
  consortiums,
  foundationModels,
  firstEvaluation,
  sktDefense,
  defenseCooperation,
];

const Recorded = z.object({ events: z.array(z.object({ id: z.string() })) });

/**
 * Records the scenario at `baseUrl`. Safe to run again: every request is replayed by its
 * Idempotency-Key, so a second run stores nothing and returns the same event ids.
 */
export async function seedExampleScenario(baseUrl: string, apiKey: string): Promise<{ requests: number; eventIds: string[] }> {
  const eventIds: string[] = [];
  // Sequential on purpose: later requests reference what earlier ones define.
  for (const request of EXAMPLE_SCENARIO) {
    const response = await fetch(`${baseUrl}/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${apiKey}`,
        'idempotency-key': request.idempotencyKey,
      },
      body: JSON.stringify({ events: request.events }),
    });
    const text = await response.text();
    if (response.status !== 201) {
      throw new Error(`POST /v1/events (${request.idempotencyKey}) answered ${response.status}: ${text}`);
    }
    eventIds.push(...Recorded.parse(JSON.parse(text)).events.map((event) => event.id));
  }
  return { requests: EXAMPLE_SCENARIO.length, eventIds };
}
