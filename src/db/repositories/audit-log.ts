import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';

export interface AuditEntry {
  at: Date;
  keyId: string | null;
  action: string;
  resource: string;
  requestId: string | null;
  detail?: Record<string, unknown>;
}

export interface AuditEvent extends AuditEntry {
  id: string;
}

/**
 * Appends rows in order and links them to the chain (audit_append, migrations 0006 and 0008): the
 * chain head is locked FOR UPDATE in the caller's transaction, so concurrent appends are made one
 * after another, in id order. Call it late in a use case: the head stays locked until the
 * transaction ends.
 */
export async function appendAuditEntries(db: Kysely<Database>, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  if (!db.isTransaction) {
    await db.transaction().execute((trx) => appendAuditEntries(trx, entries));
    return;
  }
  const rows = entries.map((e) => ({
    at: e.at.toISOString(), keyId: e.keyId, action: e.action, resource: e.resource, requestId: e.requestId, ...(e.detail ? { detail: e.detail } : {}),
  }));
  await sql`SELECT audit_append(${JSON.stringify(rows)}::jsonb)`.execute(db);
}

export async function appendAudit(db: Kysely<Database>, entry: AuditEntry): Promise<void> {
  await appendAuditEntries(db, [entry]);
}

export interface AuditChainBreak {
  id: string | null;
  /** prevHashMismatch: the row does not point at the row before it (a row removed or inserted);
   *  hashMismatch: the row's content no longer matches its hash (edited);
   *  headMismatch: the last row is not the recorded head (rows removed at the end, or head edited). */
  problem: 'prevHashMismatch' | 'hashMismatch' | 'headMismatch';
}

export interface AuditChainReport {
  ok: boolean;
  checked: number;
  lastId: string | null;
  lastHash: string;
  firstBroken: AuditChainBreak | null;
}

export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/** Walks the chain in id order (keyset pages) and reports the first broken link. */
export async function verifyAuditChain(db: Kysely<Database>, pageSize = 5000): Promise<AuditChainReport> {
  let expectedPrev = AUDIT_GENESIS_HASH;
  let lastId: string | null = null;
  let checked = 0;
  const broken = (b: AuditChainBreak): AuditChainReport => ({ ok: false, checked, lastId, lastHash: expectedPrev, firstBroken: b });
  for (;;) {
    const rows = await sql<{ id: string; prev_hash: string; hash: string; recomputed: string }>`
      SELECT id::text AS id, prev_hash, hash,
             audit_row_hash(prev_hash, id, at, key_id, action, resource, request_id, detail) AS recomputed
      FROM audit_log WHERE audit_log.id > ${lastId ?? '0'}::bigint ORDER BY audit_log.id LIMIT ${pageSize}`.execute(db);
    for (const r of rows.rows) {
      checked++;
      if (r.prev_hash !== expectedPrev) return broken({ id: r.id, problem: 'prevHashMismatch' });
      if (r.hash !== r.recomputed) return broken({ id: r.id, problem: 'hashMismatch' });
      expectedPrev = r.hash;
      lastId = r.id;
    }
    if (rows.rows.length < pageSize) break;
  }
  const head = await sql<{ last_id: string | null; last_hash: string }>`SELECT last_id::text AS last_id, last_hash FROM audit_chain_head WHERE singleton`.execute(db);
  const h = head.rows[0];
  if (!h || h.last_hash !== expectedPrev || (h.last_id ?? null) !== lastId) return broken({ id: h?.last_id ?? null, problem: 'headMismatch' });
  return { ok: true, checked, lastId, lastHash: expectedPrev, firstBroken: null };
}

export interface AuditQuery {
  from?: Date;
  to?: Date;
  resource?: string;
  afterId?: string;
  limit: number;
}

export async function listAudit(db: Kysely<Database>, q: AuditQuery): Promise<AuditEvent[]> {
  let query = db.selectFrom('audit_log').selectAll().orderBy('id').limit(q.limit);
  if (q.from) query = query.where('at', '>=', q.from);
  if (q.to) query = query.where('at', '<=', q.to);
  if (q.resource) query = query.where('resource', '=', q.resource);
  if (q.afterId) query = query.where('id', '>', q.afterId);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    keyId: r.key_id,
    action: r.action,
    resource: r.resource,
    requestId: r.request_id,
    ...(r.detail ? { detail: r.detail } : {}),
  }));
}
