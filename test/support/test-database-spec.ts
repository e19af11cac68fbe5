/** What global setup hands every test file: where its own database comes from. */
export type TestDatabaseSpec =
  | {
      readonly kind: 'postgres';
      /** A connection to the server, used to create and drop the per-file databases. */
      readonly adminUrl: string;
      /** A migrated database that every test file's database is copied from. */
      readonly template: string;
      readonly prefix: string;
      readonly source: 'DATABASE_URL' | 'testcontainers';
    }
  | { readonly kind: 'pglite'; readonly snapshotPath: string };

declare module 'vitest' {
  export interface ProvidedContext {
    testDatabase: TestDatabaseSpec;
  }
}
