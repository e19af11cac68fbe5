import type { FastifyInstance } from 'fastify';
import { UnsupportedCharsetError } from './error-handler.js';

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)"?/i;
const UTF8 = /^utf-?8$/i;

/**
 * Refuses a body declared in any charset but UTF-8 (415). Fastify's JSON parser ignores the
 * parameter and reads UTF-8, so a UTF-16 body would otherwise be misread, not refused.
 * Runs before parsing and after authentication, so an anonymous client still gets its 401 first.
 */
export function registerCharsetCheck(app: FastifyInstance): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    const charset = CHARSET.exec(request.headers['content-type'] ?? '')?.[1];
    if (charset !== undefined && !UTF8.test(charset)) throw new UnsupportedCharsetError(charset);
    return payload;
  });
}
