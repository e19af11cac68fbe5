import { randomBytes } from 'node:crypto';

/** A fresh identifier, so that tests sharing a database never collide. */
export const uniqueId = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

export const programRegistered = (programId: string, occurredAt = '2025-06') => ({
  type: 'program.registered',
  occurredAt,
  data: { programId, name: `Program ${programId}`, sponsor: 'MSIT' },
});

export const milestonePlanned = (programId: string, milestone: string, scope: 'program' | 'consortium', due?: string) => ({
  type: 'milestone.planned',
  occurredAt: '2025-07',
  data: { programId, milestone, title: `Milestone ${milestone}`, scope, ...(due !== undefined && { due }) },
});

export const consortiumRegistered = (consortiumId: string) => ({
  type: 'consortium.registered',
  occurredAt: '2025-08',
  data: { consortiumId, name: `Consortium ${consortiumId}`, lead: 'Lead Co.' },
});

export const consortiumEnrolled = (consortiumId: string, programId: string) => ({
  type: 'consortium.enrolled',
  occurredAt: '2025-08-04',
  data: { consortiumId, programId },
});

export const seminarHeld = (programId: string, title = 'Seminar', occurredAt = '2026-06-10') => ({
  type: 'seminar.held',
  occurredAt,
  data: { programId, title },
  sources: [{ url: 'https://news.example/seminar', publisher: 'Example News' }],
});

/** A program with one consortium enrolled and two milestones, one per scope. */
export function programWithConsortium(tag = 'p') {
  const programId = uniqueId(tag);
  const consortiumId = uniqueId('c');
  return {
    programId,
    consortiumId,
    events: [
      programRegistered(programId),
      milestonePlanned(programId, 'final-evaluation', 'program', '2026-08'),
      milestonePlanned(programId, 'defense-pilot', 'consortium', '2026-Q2'),
      consortiumRegistered(consortiumId),
      consortiumEnrolled(consortiumId, programId),
    ],
  };
}
