import type { Static, TSchema } from '@sinclair/typebox';
import { jsonChecker } from '../plugins/validator.js';
import { Problem } from '../problems.js';

/**
 * Cursors are opaque to clients: base64url JSON of the last position. A cursor that comes back is
 * checked against the position's schema before any of it reaches a query, so an edited or made-up
 * cursor is a 400, never a database error.
 */
export function cursorCodec<T extends TSchema>(position: T) {
  const isPosition = jsonChecker<Static<T>>(position);
  return {
    decode(cursor: string | undefined): Static<T> | undefined {
      if (cursor === undefined) return undefined;
      let value: unknown;
      try {
        value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
      } catch {
        value = undefined;
      }
      if (isPosition(value)) return value;
      throw new Problem(400, 'invalidCursor', 'Invalid cursor', 'The cursor is not one this service issued; start again without it.');
    },
    /** Fetches limit+1 rows to know whether another page exists. */
    page<R>(rows: R[], limit: number, positionOf: (last: R) => Static<T>): { items: R[]; nextCursor: string | null } {
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return { items, nextCursor: rows.length > limit && last !== undefined ? Buffer.from(JSON.stringify(positionOf(last))).toString('base64url') : null };
    },
  };
}
