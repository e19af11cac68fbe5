/** A system error's code (EEXIST, ENOENT, …); undefined for anything else. */
export const codeOf = (error: unknown): unknown => (error instanceof Error && 'code' in error ? error.code : undefined);
