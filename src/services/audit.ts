import { listAudit, verifyAuditChain, type AuditChainReport, type AuditEvent } from '../db/repositories/audit-log.js';
import type { ServiceContext } from './context.js';

export interface AuditEventView {
  id: string;
  at: string;
  keyId: string | null;
  action: string;
  resource: string;
  requestId: string | null;
  detail?: Record<string, unknown>;
}

function view(e: AuditEvent): AuditEventView {
  return { ...e, at: e.at.toISOString() };
}

export async function listAuditEvents(
  ctx: ServiceContext,
  q: { from?: string; to?: string; resource?: string; afterId?: string; limit: number },
): Promise<AuditEventView[]> {
  const rows = await listAudit(ctx.db, {
    limit: q.limit,
    ...(q.from ? { from: new Date(q.from) } : {}),
    ...(q.to ? { to: new Date(q.to) } : {}),
    ...(q.resource ? { resource: q.resource } : {}),
    ...(q.afterId ? { afterId: q.afterId } : {}),
  });
  return rows.map(view);
}

/** Recomputes the audit hash chain (migration 0006); `firstBroken` names the first row that does not fit. */
export async function verifyAuditLog(ctx: Pick<ServiceContext, 'db'>): Promise<AuditChainReport> {
  return verifyAuditChain(ctx.db);
}
