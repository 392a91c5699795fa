import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';

/**
 * Locks the existing rows of these residents, in resident-code order, until the transaction ends.
 * A batch chunk takes all its residents first, before the CA row and the audit chain head, so that
 * it never waits for a resident while holding those: single requests and other batches cannot deadlock with it.
 */
export async function lockResidents(db: Kysely<Database>, residentCodes: string[]): Promise<void> {
  if (residentCodes.length === 0) return;
  await sql`SELECT resident_code FROM residents WHERE resident_code = ANY(${[...new Set(residentCodes)].sort()}::text[]) ORDER BY resident_code FOR UPDATE`.execute(db);
}

/** The stored answers of those of these events that were already applied (one query for a whole chunk). */
export async function appliedEvents(db: Kysely<Database>, eventIds: string[]): Promise<Map<string, { requestHash: string; response: unknown }>> {
  if (eventIds.length === 0) return new Map();
  const rows = await db.selectFrom('resident_events').select(['event_id', 'request_hash', 'response']).where('event_id', 'in', [...new Set(eventIds)]).execute();
  return new Map(rows.map((r) => [r.event_id, { requestHash: r.request_hash, response: r.response }]));
}
