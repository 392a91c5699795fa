import t from 'tap';
import { applyResidentEventBatch, type BatchItem, type BatchLineResult } from '../../src/services/resident-batches.js';
import { testApp } from '../support/app.js';

const at = '2026-01-14T09:00:00+09:00';
const actor = { keyId: null, requestId: 'batch-order-test' };

async function* from(items: BatchItem[]) {
  yield* items;
}

t.test('chunks run two at a time only when they share no resident: each resident’s lines still apply in line order', async (t) => {
  const h = await testApp(t);
  const ctx = h.app.ctx;
  const items: BatchItem[] = [];
  const add = (eventId: string, residentCode: string, type: 'registered' | 'addressChanged', data: Record<string, unknown>) =>
    items.push({ line: items.length + 1, eventId, type, input: { eventId, residentCode, type, effectiveAt: at, data } });
  for (const code of ['A', 'B', 'C']) add(`reg-${code}`, code, 'registered', { name: '順番 確認', address: `${code}-0`, dateOfBirth: '1980-01-01', sex: 'male' });
  // A moves on every line across many one-line chunks; B and C in between (disjoint chunks may overlap).
  for (let i = 1; i <= 40; i++) {
    add(`A-${i}`, 'A', 'addressChanged', { address: `A-${i}` });
    add(`${i % 2 ? 'B' : 'C'}-${i}`, i % 2 ? 'B' : 'C', 'addressChanged', { address: `${i % 2 ? 'B' : 'C'}-${i}` });
  }
  const emitted: BatchLineResult[] = [];
  const summary = await applyResidentEventBatch(ctx, actor, from(items), async (r) => {
    emitted.push(...r);
  }, { chunkSize: 1 });
  t.equal(summary.applied, items.length);
  t.same(emitted.map((r) => r.line), items.map((i) => i.line), 'answers in line order');
  const address = async (code: string) => (await ctx.db.selectFrom('residents').select('address').where('resident_code', '=', code).executeTakeFirstOrThrow()).address;
  t.equal(await address('A'), 'A-40', 'A ends at its last line');
  t.equal(await address('B'), 'B-39');
  t.equal(await address('C'), 'C-40');
  const aEvents = await ctx.db.selectFrom('resident_events').select(['event_id', 'received_at']).where('resident_code', '=', 'A').orderBy('received_at').orderBy('event_id').execute();
  const order = aEvents.map((e) => e.event_id).filter((id) => id.startsWith('A-'));
  t.same(order, Array.from({ length: 40 }, (_, i) => `A-${i + 1}`), 'A’s events were received in line order');
});
