import { z } from 'zod';
import { FuzzyDateText } from './fuzzy-date.js';
import { isSafeText, SafeText, UNSAFE_TEXT_ERROR } from './safe-text.js';

/** Where a fact comes from: analysts weigh a claim by its source. */
export const Source = z
  .strictObject({
    // The URL parser accepts a NUL or an unpaired surrogate in a path (it percent-encodes them), and
    // zod keeps the text as given: refused here, as in any other text, not by the database.
    url: z.url({ protocol: /^https?$/, error: 'url must be an absolute http(s) URL' }).max(2048).refine(isSafeText, { error: UNSAFE_TEXT_ERROR }),
    publisher: SafeText.min(1).max(200).optional(),
    title: SafeText.min(1).max(500).optional(),
    publishedAt: FuzzyDateText.optional(),
  })
  .meta({ id: 'Source' });
export type Source = z.infer<typeof Source>;
