/*
 * A page of a list read as `limit` rows and one more: the extra row, never returned, tells whether
 * another page follows, so that the last page, full or not, has no cursor.
 */
/** How many rows to read for a page of `limit`: one more, which tells whether another page follows. */
export const pageRead = (limit: number): number => limit + 1;

/** The page's rows out of a read of pageRead(limit), and its last row when another page follows. */
export function pageOf<T>(rows: readonly T[], limit: number): { readonly items: readonly T[]; readonly last: T | undefined } {
  const items = rows.slice(0, limit);
  return { items, last: rows.length > limit ? items.at(-1) : undefined };
}
