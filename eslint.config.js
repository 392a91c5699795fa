// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * DESIGN.md's layers, enforced: routes → services → domain / pki / db.
 * Each entry lists what a folder may not import.
 */
const IO_MODULES = ['fs', 'node:fs', 'fs/promises', 'node:fs/promises', 'net', 'node:net', 'http', 'node:http', 'child_process', 'node:child_process', 'pg', 'kysely', 'fastify', '@electric-sql/pglite'];
const layer = (files, patterns, paths = []) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', {
      paths: paths.map((name) => ({ name, message: 'not allowed in this layer (DESIGN.md "Layers")' })),
      patterns: patterns.map((group) => ({ group: [group], message: 'not allowed in this layer (DESIGN.md "Layers")' })),
    }],
  },
});

export const LAYER_RULES = [
  layer(['src/domain/**/*.ts'], ['**/db/**', '**/pki/**', '**/routes/**', '**/services/**', '**/plugins/**', '**/app*', '**/server*', '**/config*'], [...IO_MODULES, 'node:crypto', 'crypto']),
  layer(['src/pki/**/*.ts'], ['**/db/**', '**/routes/**', '**/services/**', '**/plugins/**', '**/app*', '**/server*'], IO_MODULES),
  layer(['src/db/**/*.ts'], ['**/routes/**', '**/services/**', '**/plugins/**', '**/pki/**', '**/app*', '**/server*'], ['fastify']),
  layer(['src/services/**/*.ts'], ['**/routes/**', '**/plugins/**', '**/app*', '**/server*'], ['fastify', 'pg']),
  layer(['src/routes/**/*.ts'], ['**/db/**', '**/pki/**', '**/app*', '**/server*'], ['pg', 'kysely', '@electric-sql/pglite']),
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**', '.tap/**', 'data/**', 'scratch/**', 'bench/results/**', 'openapi/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', {
        selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
        message: 'Read time from the injected clock (src/clock.ts), not Date.now().',
      }],
    },
  },
  // The clock itself, tests, benchmarks and scripts measure real time.
  { files: ['src/clock.ts', 'test/**', 'bench/**', 'scripts/**'], rules: { 'no-restricted-syntax': 'off' } },
  // Tests read JSON answers field by field.
  { files: ['test/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  ...LAYER_RULES,
);
