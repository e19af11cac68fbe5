// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Layering (research/aesthetics.md §5): http → services → store → domain, one way.
 * Each layer lists the folders it must not import from.
 */
const layer = (files, forbidden, message) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', { patterns: [{ group: forbidden, message }] }],
  },
});

export default tseslint.config(
  { ignores: ['node_modules', 'data', 'dist', 'openapi', 'coverage', '.scratch'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/consistent-type-assertions': ['error', { assertionStyle: 'never' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  layer(['src/domain/**'], ['**/store/**', '**/services/**', '**/http/**', '**/webhooks/**', 'kysely', 'pg', 'fastify', '@electric-sql/*'], 'domain is pure: no framework, no database'),
  layer(['src/store/**'], ['**/services/**', '**/http/**', '**/webhooks/**', 'fastify'], 'store may only import domain'),
  {
    ...layer(['src/http/**'], ['**/store/**', '**/webhooks/**', 'kysely', 'pg', '@electric-sql/*'], 'http calls services; the store stays behind them'),
    // The OpenAPI writer composes a whole app, as main.ts does.
    ignores: ['src/http/write-openapi.ts'],
  },
  layer(['src/services/**'], ['**/http/**', '**/webhooks/**', 'fastify', 'kysely', 'pg'], 'services call the store; SQL and HTTP stay out'),
  layer(['src/webhooks/**'], ['**/http/**', 'fastify', 'kysely', 'pg'], 'the dispatcher sits beside http: it calls services and the store, never SQL'),
  layer(['db/migrations/**'], ['**/src/**'], 'migrations are frozen in time: they never import src'),
  {
    // The status board's page code runs in the browser, as plain ES modules served as they are.
    files: ['src/http/board/**/*.js'],
    languageOptions: { globals: globals.browser, sourceType: 'module' },
  },
  {
    // Scripts and tests print their results; the service itself logs through pino.
    files: ['test/**', 'db/migrate.ts', 'src/http/write-openapi.ts'],
    rules: { 'no-console': 'off' },
  },
);
