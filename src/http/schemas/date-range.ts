import type { z } from 'zod';
import { endBound } from '../../domain/cut-off.js';
import type { FuzzyDate } from '../../domain/fuzzy-date.js';

/** One end of a range of dates, by the name the client gave it (a parameter, a body field). */
interface RangeEnd {
  readonly name: string;
  readonly date: FuzzyDate | undefined;
}

/**
 * Refuses a range whose end comes before its start (a timeline's from and to, recover's since and
 * until), each end meaning what SPEC §2.1 says: it holds nothing, and answered as empty, a swapped
 * pair would look like a quiet period.
 */
export function refuseBackwardRange(ctx: z.RefinementCtx, start: RangeEnd, end: RangeEnd): void {
  if (start.date === undefined || end.date === undefined || endBound(end.date) > start.date.start) return;
  ctx.addIssue({
    code: 'custom',
    path: [end.name],
    message: `${end.name}=${end.date.value} ends before ${start.name}=${start.date.value} begins, so the range holds nothing: give the earlier date as ${start.name}`,
  });
}
