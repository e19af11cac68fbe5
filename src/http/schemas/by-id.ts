import { z } from 'zod';

/** Path parameters of a route addressing one resource by its UUID. */
export const ById = z.object({ id: z.uuid() });
