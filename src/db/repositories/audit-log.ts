import type { Kysely } from 'kysely';
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

export async function appendAudit(db: Kysely<Database>, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      at: entry.at,
      key_id: entry.keyId,
      action: entry.action,
      resource: entry.resource,
      request_id: entry.requestId,
      detail: entry.detail ? JSON.stringify(entry.detail) : null,
    })
    .execute();
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
