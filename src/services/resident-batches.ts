// Bulk resident events (POST /v1/resident-events/batch). Lines come in already
// parsed and checked (or refused) by the route, in order; they are applied in
// chunks, one transaction per chunk, through the same applyResidentEventsIn as a
// single event, so every line is exactly-once by its eventId and a refused line
// changes nothing while the others apply.
//
// Results are handed out only after the chunk commits, in line order: a line
// reported 201 is durable, and a crash loses at most the chunks in flight (their
// lines were never reported; a replay applies them). Deadlocks with concurrent work
// on the same residents, and an event id recorded meanwhile by another request,
// retry the chunk.
//
// Two chunks run at once when they share no resident and no event id: one signs
// and computes while the other waits for PostgreSQL. Lines of one resident (or one
// event id) in consecutive chunks wait for the earlier chunk to commit, so each
// resident's events still apply in line order.
import type { Problem } from '../problems.js';
import { inRetriedTransaction, type Actor, type ServiceContext } from './context.js';
import { applyResidentEventsIn, type ResidentEventInput, type ResidentEventResult } from './residents.js';

export type BatchItem =
  | { line: number; eventId: string | null; type: string; input: ResidentEventInput }
  | { line: number; eventId: string | null; type: string; problem: Problem };

export type BatchOutcome = 'applied' | 'replayed' | 'refused';

export interface BatchLineResult {
  line: number;
  eventId: string | null;
  type: string;
  status: number;
  outcome: BatchOutcome;
  result?: ResidentEventResult;
  problem?: Problem;
}

export interface BatchOptions {
  /** Lines per transaction (default 250). */
  chunkSize?: number;
  /** Progress log period (default 5 s). */
  progressMs?: number;
}

export interface BatchSummary {
  lines: number;
  applied: number;
  replayed: number;
  refused: number;
  seconds: number;
}

/** What orders two chunks: the residents and event ids they touch. */
function chunkKeys(chunk: BatchItem[]): Set<string> {
  const keys = new Set<string>();
  for (const item of chunk) {
    if (!('input' in item)) continue;
    keys.add(`r:${item.input.residentCode}`);
    keys.add(`e:${item.input.eventId}`);
  }
  return keys;
}

/** One chunk in one transaction; a result per item, in order. */
async function runChunk(ctx: ServiceContext, actor: Actor, items: BatchItem[]): Promise<BatchLineResult[]> {
  const inputs = items.flatMap((item) => ('input' in item ? [item.input] : []));
  const outcomes = await inRetriedTransaction(ctx, (trx) => applyResidentEventsIn(trx, ctx, actor, inputs));
  let next = 0;
  return items.map((item): BatchLineResult => {
    const base = { line: item.line, eventId: item.eventId, type: item.type };
    if ('problem' in item) return { ...base, status: item.problem.status, outcome: 'refused', problem: item.problem };
    const outcome = outcomes[next++]!;
    if ('problem' in outcome) return { ...base, status: outcome.problem.status, outcome: 'refused', problem: outcome.problem };
    return { ...base, status: outcome.status, outcome: outcome.status === 201 ? 'applied' : 'replayed', result: outcome.body };
  });
}

/**
 * Applies the items chunk by chunk; `emit` receives each committed chunk's results in order (and may
 * wait, for back-pressure). Throws when a chunk fails for a reason other than a refused line (the
 * database went away): what was emitted is committed, the rest is not, and a replay completes it.
 */
export async function applyResidentEventBatch(
  ctx: ServiceContext,
  actor: Actor,
  items: AsyncIterable<BatchItem>,
  emit: (results: BatchLineResult[]) => Promise<void>,
  options: BatchOptions = {},
): Promise<BatchSummary> {
  const chunkSize = options.chunkSize ?? 250;
  const progressMs = options.progressMs ?? 5000;
  const started = performance.now();
  const summary: BatchSummary = { lines: 0, applied: 0, replayed: 0, refused: 0, seconds: 0 };
  let lastLog = started;
  let linesAtLastLog = 0;
  const report = async (results: BatchLineResult[]): Promise<void> => {
    for (const r of results) summary[r.outcome]++;
    summary.lines += results.length;
    await emit(results);
    const now = performance.now();
    if (now - lastLog >= progressMs) {
      ctx.log.info({
        linesDone: summary.lines, applied: summary.applied, replayed: summary.replayed, refused: summary.refused,
        linesPerSecond: Math.round(((summary.lines - linesAtLastLog) * 1000) / (now - lastLog)),
      }, 'resident event batch progress');
      lastLog = now;
      linesAtLastLog = summary.lines;
    }
  };
  // The chunk before, while it runs: its keys, and the promise that it has been reported.
  let previous: { keys: Set<string>; reported: Promise<void> } | undefined;
  const flush = async (chunk: BatchItem[]): Promise<void> => {
    const keys = chunkKeys(chunk);
    const before = previous;
    if (before && [...keys].some((k) => before.keys.has(k))) await before.reported;
    const results = runChunk(ctx, actor, chunk);
    results.catch(() => undefined); // awaited below, after the chunk before is reported
    const reported = (async () => {
      await before?.reported;
      await report(await results);
    })();
    reported.catch(() => undefined); // when the chunk before fails, the caller hears it from that one
    previous = { keys, reported };
    // At most two in flight: this one may start as soon as the one before it is reported.
    await before?.reported;
  };
  let chunk: BatchItem[] = [];
  for await (const item of items) {
    chunk.push(item);
    if (chunk.length >= chunkSize) {
      await flush(chunk);
      chunk = [];
    }
  }
  if (chunk.length > 0) await flush(chunk);
  await previous?.reported;
  summary.seconds = Math.round(performance.now() - started) / 1000;
  ctx.log.info({ ...summary, linesPerSecond: summary.seconds > 0 ? Math.round(summary.lines / summary.seconds) : summary.lines }, 'resident event batch done');
  return summary;
}
