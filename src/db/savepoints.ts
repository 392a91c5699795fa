import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

// Plain SQL savepoints (Kysely's savepoint API is not supported by the PGlite dialect; these work on both).
export const savepoint = (db: Kysely<Database>, name: string) => sql`SAVEPOINT ${sql.id(name)}`.execute(db).then(() => undefined);
export const releaseSavepoint = (db: Kysely<Database>, name: string) => sql`RELEASE SAVEPOINT ${sql.id(name)}`.execute(db).then(() => undefined);
export const rollbackToSavepoint = (db: Kysely<Database>, name: string) => sql`ROLLBACK TO SAVEPOINT ${sql.id(name)}`.execute(db).then(() => undefined);
