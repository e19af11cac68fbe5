import { z } from 'zod';
import { quoted } from '../domain/quoted.js';

/*
 * Messages a writer can act on. zod says "expected string, received undefined" for a field that is
 * missing; a field left out is "required". Set once for the process: every schema is zod's.
 */
z.config({
  customError: (issue) => {
    if (issue.code === 'invalid_type' && issue.input === undefined) return `required: ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
    // A request without a body, or with an empty one, reaches its schema as null (Fastify's "no
    // body"): said so, not "expected object, received null" (found on 2026-12-07).
    if (issue.code === 'invalid_type' && issue.input === null && issue.expected === 'object' && (issue.path ?? []).length === 0) {
      return 'required: a JSON object (the body is empty, missing or null)';
    }
    // The keys quoted as any client value is, and a few of them: zod's message carried each key
    // whole, all of them (the review of the day's refusals: a key of 200,000 characters came back twice).
    if (issue.code === 'unrecognized_keys') return unknownKeys(issue.keys);
    return undefined;
  },
});

/** The most keys a message names. */
const MOST_KEYS_NAMED = 5;

function unknownKeys(keys: readonly string[]): string {
  const named = keys.slice(0, MOST_KEYS_NAMED).map(quoted).join(', ');
  const more = keys.length > MOST_KEYS_NAMED ? ` and ${keys.length - MOST_KEYS_NAMED} more` : '';
  return `${keys.length === 1 ? 'unrecognized key' : 'unrecognized keys'}: ${named}${more}`;
}
