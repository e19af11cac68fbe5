import { z } from 'zod';

/**
 * A query parameter listing values separated by commas (`type=mou.signed,pilot.started`), blanks
 * around each ignored. A list naming nothing (`type=`, `type=,`) is refused: leaving the
 * parameter out is how a client asks for every value, and a filter that names nothing answered
 * as if it were absent would hand back what the client did not ask for.
 */
export const commaList = <T extends z.ZodType<unknown, string>>(item: T, parameter: string) =>
  z
    .string()
    .transform((text) => text.split(',').map((t) => t.trim()).filter((t) => t.length > 0))
    .pipe(z.array(item).min(1, { error: `${parameter} names nothing: give one or more, separated by commas, or leave ${parameter} out for all` }));
