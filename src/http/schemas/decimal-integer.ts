import { z } from 'zod';

/**
 * An integer query or path parameter, written in plain decimal digits only. `Number()` (and so
 * `z.coerce.number()`) also reads `0x10`, `1e3`, `+5` and ` 5`: a client sending those has a bug we
 * would otherwise hide, and two spellings of one request would defeat caches and logs.
 */
export const decimalInteger = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^[0-9]+$/, 'must be written in decimal digits only (no sign, spaces, exponent or 0x)')
    .transform(Number)
    .pipe(z.int().min(min).max(max))
    .default(fallback)
    // zod leaves a default out of an input JSON Schema when a transform follows; the description carries it.
    .meta({ type: 'integer', minimum: min, maximum: max, description: `Decimal digits only; ${fallback} when omitted` });
