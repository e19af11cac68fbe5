import { describe, expect, it } from 'vitest';
import { notADate, parseFuzzyDate } from '../../src/domain/fuzzy-date.js';

const interval = (text: string) => {
  const d = parseFuzzyDate(text);
  return d && { precision: d.precision, start: d.start.toISOString(), end: d.end.toISOString() };
};

describe('parseFuzzyDate', () => {
  it.each([
    ['2026', 'year', '2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['2026-H1', 'half', '2026-01-01T00:00:00.000Z', '2026-07-01T00:00:00.000Z'],
    ['2026-H2', 'half', '2026-07-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['2026-Q2', 'quarter', '2026-04-01T00:00:00.000Z', '2026-07-01T00:00:00.000Z'],
    ['2026-Q4', 'quarter', '2026-10-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['2026-08', 'month', '2026-08-01T00:00:00.000Z', '2026-09-01T00:00:00.000Z'],
    ['2026-12', 'month', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['2026-06-10', 'day', '2026-06-10T00:00:00.000Z', '2026-06-11T00:00:00.000Z'],
    ['2024-02-29', 'day', '2024-02-29T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
    ['2026-05-14T09:30:00+09:00', 'instant', '2026-05-14T00:30:00.000Z', '2026-05-14T00:30:00.000Z'],
    ['2026-05-14T09:30Z', 'instant', '2026-05-14T09:30:00.000Z', '2026-05-14T09:30:00.000Z'],
  ])('reads %s as a %s from %s to %s', (text, precision, start, end) => {
    expect(interval(text)).toEqual({ precision, start, end });
  });

  it.each(['', '26', '2026-Q0', '2026-Q5', '2026-H3', '2026-13', '2026-00', '2026-02-30', '2025-02-29', '2026-5', 'Q2 2026', '2026-05-14T09:30:00', 'yesterday', '9999', '0000-01-01T00:00:00Z', '0050-Q1', '2026-02-30T10:00Z', '2026-13-01T00:00Z'])(
    'refuses %j',
    (text) => {
      expect(parseFuzzyDate(text)).toBeUndefined();
    },
  );

  it.each([
    ['9999', "not a valid date: '9999'; years run from 1000 to 9998"],
    // Five digits: a year past the store's too, not a form refused (probe of every route).
    ['10000', "not a valid date: '10000'; years run from 1000 to 9998"],
    ['10000-06-01', "not a valid date: '10000-06-01'; years run from 1000 to 9998"],
    ['0999-06', "not a valid date: '0999-06'; years run from 1000 to 9998"],
    ['9999-12-31T23:59:59.999Z', "not a valid date: '9999-12-31T23:59:59.999Z'; years run from 1000 to 9998"],
    ['2026-Q5', "not a valid date: '2026-Q5'; expected 2026, 2026-H1, 2026-Q2, 2026-05, 2026-05-14 or an ISO-8601 date-time with offset"],
    ['9999-Q5', "not a valid date: '9999-Q5'; expected 2026, 2026-H1, 2026-Q2, 2026-05, 2026-05-14 or an ISO-8601 date-time with offset"],
    ['2026-02-29', "not a valid date: '2026-02-29'; expected 2026, 2026-H1, 2026-Q2, 2026-05, 2026-05-14 or an ISO-8601 date-time with offset"],
    ['1900-02-29', "not a valid date: '1900-02-29'; expected 2026, 2026-H1, 2026-Q2, 2026-05, 2026-05-14 or an ISO-8601 date-time with offset"],
  ])('says why %j is no date: the years it may have, when its form would do, else the forms', (text, said) => {
    expect(notADate(text)).toBe(said);
  });

  it('keeps the text as the writer gave it', () => {
    expect(parseFuzzyDate('2026-Q2')?.value).toBe('2026-Q2');
  });
});
