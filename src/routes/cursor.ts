import { Problem } from '../problems.js';

/** Cursors are opaque to clients: base64url JSON of the last position. */
export function encodeCursor(position: Record<string, string>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, field: string): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>)[field];
    if (typeof value === 'string') return value;
  } catch {
    // falls through to the problem below
  }
  throw new Problem(400, 'invalidCursor', 'Invalid cursor', 'The cursor is not one this service issued; start again without it.');
}

/** Fetches limit+1 rows to know whether another page exists. */
export function page<T>(rows: T[], limit: number, position: (last: T) => Record<string, string>): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(position(last)) : null };
}
