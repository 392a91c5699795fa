import type { Migration } from 'kysely';

/**
 * The migrations compiled into the bundle that `npm start` runs: scripts/start.mjs replaces this
 * module with one that imports every file of migrations/. Undefined here, i.e. under tsx (tests,
 * scripts), where the migrator reads the folder instead.
 */
export const bundledMigrations: Record<string, Migration> | undefined = undefined;
