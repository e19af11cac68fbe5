import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { responseSerializerCompiler } from '../../src/http/response-serializer.js';
import { ProblemDetails } from '../../src/http/problem.js';
import { CellOutput } from '../../src/http/schemas/status-views.js';

const compile = (schema: z.ZodType) => responseSerializerCompiler({ schema, method: 'GET', url: '/x', httpStatus: '200' });
const fuzzy = { value: '2026', precision: 'year', start: '2026-01-01T00:00:00.000Z', end: '2027-01-01T00:00:00.000Z' };
const cell = { status: 'planned', since: fuzzy, overdue: false, certain: true, evidenceCount: 1 };
const entry = { id: '00000000-0000-4000-8000-000000000000', type: 'mou.signed', occurredAt: fuzzy, title: 't', sources: [] };

describe('response serializer (fast-json-stringify from the zod schemas)', () => {
  it('writes either branch of a union, and only the declared properties, even of an object carrying one more', () => {
    const write = compile(CellOutput);

    expect(JSON.parse(write({ ...cell, evidence: ['a', 'b'] }))).toEqual({ ...cell, evidence: ['a', 'b'] });
    expect(JSON.parse(write({ ...cell, evidence: [entry] }))).toEqual({ ...cell, evidence: [entry] });
    expect(JSON.parse(write({ ...cell, secret: 'x', evidence: [{ ...entry, position: '3' }] }))).toEqual({ ...cell, evidence: [entry] });
  });

  it('passes a problem’s extensions through and leaves out what is undefined', () => {
    const write = compile(ProblemDetails);

    expect(JSON.parse(write({ type: '/p', title: 't', status: 429, retryAfterSeconds: 3, suggestions: ['a'], detail: undefined }))).toEqual({
      type: '/p',
      title: 't',
      status: 429,
      retryAfterSeconds: 3,
      suggestions: ['a'],
    });
  });
});
