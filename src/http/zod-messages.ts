import { z } from 'zod';

/*
 * Messages a writer can act on. zod says "expected string, received undefined" for a field that is
 * missing; a field left out is "required". Set once for the process: every schema is zod's.
 */
z.config({
  customError: (issue) =>
    issue.code === 'invalid_type' && issue.input === undefined ? `required: ${issue.expected === 'object' ? 'an object' : `a ${issue.expected}`}` : undefined,
});
