import { z } from 'zod';
import { FuzzyDateText } from './fuzzy-date.js';
import { HttpUrl } from './http-url.js';
import { SafeText } from './safe-text.js';

/** Where a fact comes from: analysts weigh a claim by its source. */
export const Source = z
  .strictObject({
    url: HttpUrl,
    publisher: SafeText.min(1).max(200).optional(),
    title: SafeText.min(1).max(500).optional(),
    publishedAt: FuzzyDateText.optional(),
  })
  .meta({ id: 'Source' });
export type Source = z.infer<typeof Source>;
