import { z } from 'zod';
import { FuzzyDateText } from './fuzzy-date.js';
import { SafeText } from './safe-text.js';

/** Where a fact comes from: analysts weigh a claim by its source. */
export const Source = z
  .strictObject({
    url: z.url({ protocol: /^https?$/, error: 'url must be an absolute http(s) URL' }).max(2048),
    publisher: SafeText.min(1).max(200).optional(),
    title: SafeText.min(1).max(500).optional(),
    publishedAt: FuzzyDateText.optional(),
  })
  .meta({ id: 'Source' });
export type Source = z.infer<typeof Source>;
