import { z } from 'zod';
import { decimalInteger } from './decimal-integer.js';

/** `after` and `limit` of every paged list (SPEC §5): no answer grows with the history. */
export const pageQuery = (maxPageSize: number) => ({
  after: z.string().optional().meta({ description: 'nextCursor of the previous page; omit to start at the beginning' }),
  limit: decimalInteger(1, maxPageSize, 100),
});

export const NextCursor = z
  .string()
  .optional()
  .meta({ description: 'Pass as `after` for the next page, with the same query; absent on the last page. It keeps the knownAt the page was answered at when that was earlier than asked' });
