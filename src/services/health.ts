import { sql } from 'kysely';
import { migrationsCurrent } from '../db/migrator.js';
import type { ServiceContext } from './context.js';

export interface Readiness {
  ready: boolean;
  database: 'up' | 'down';
  migrations: 'current' | 'pending' | 'unknown';
}

export async function readiness(ctx: ServiceContext): Promise<Readiness> {
  try {
    await sql`select 1`.execute(ctx.db);
  } catch {
    return { ready: false, database: 'down', migrations: 'unknown' };
  }
  const current = await migrationsCurrent(ctx.db as never).catch(() => false);
  return { ready: current, database: 'up', migrations: current ? 'current' : 'pending' };
}
