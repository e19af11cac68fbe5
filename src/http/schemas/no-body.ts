import { z } from 'zod';

/**
 * The body of an operation that takes none: absent (Fastify hands a POST without one over as null)
 * or `{}`. Any field is refused, not ignored, so that a client who believes it asked for something
 * (`{"force": true}`) learns that nothing of the kind exists.
 */
export const NoBody = z.strictObject({}).nullish().meta({ description: 'No body, or {}' });
