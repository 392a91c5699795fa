// Bulk resident events (POST /v1/resident-events/batch). Lines come in already
// parsed and checked (or refused) by the route, in order; they are applied in
// chunks, one transaction per chunk, through the same applyResidentEventIn as a
// single event, so every line is exactly-once by its eventId.
//
// A chunk first runs without savepoints (the common case: every line is good).
// If a line is refused, that attempt is rolled back and the chunk runs again
// with a SAVEPOINT per line, so a refused line is undone alone and the others
// stay. Results are handed out only after the chunk commits: a line reported
// 201 is durable, and a crash loses at most the chunk in flight (its lines were
// never reported; a replay applies them). Deadlocks with concurrent work on the
// same residents retry the chunk.
import { DomainError } from '../domain/errors.js';
import { problemFromDomainError } from '../domain-problems.js';
import { appliedEvents, lockResidents } from '../db/repositories/resident-locks.js';
import { releaseSavepoint, rollbackToSavepoint, savepoint } from '../db/savepoints.js';
import { Problem } from '../problems.js';
import { inTransaction, type Actor, type ServiceContext, type Tx } from './context.js';
import { requestFingerprint } from './idempotency.js';
import { applyResidentEventIn, type ResidentEventInput, type ResidentEventResult } from './residents.js';

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
  /** A transaction stops taking lines after this long (default 1000 ms); the rest go to the next. */
  chunkMs?: number;
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

// Deadlock, serialization failure, and a registration racing another of the same resident (the retry
// then sees the resident and refuses the line with 409).
const RETRYABLE = new Set(['40P01', '40001', '23505']);
const MAX_RETRIES = 5;

class Refused extends Error {}

function asProblem(error: unknown): Problem | undefined {
  if (error instanceof Problem) return error;
  if (error instanceof DomainError) return problemFromDomainError(error);
  return undefined;
}

type Applied = Map<string, { requestHash: string; response: unknown }>;

async function applyOne(trx: Tx, ctx: ServiceContext, actor: Actor, item: Extract<BatchItem, { input: unknown }>, applied: Applied): Promise<BatchLineResult> {
  // A line applied by an earlier request answers from the prefetched row (what applyResidentEventIn would
  // answer, without its two queries a line); anything else, including an id claimed by a transaction
  // still in flight, goes through applyResidentEventIn, which waits for it.
  const earlier = applied.get(item.input.eventId);
  if (earlier && earlier.response !== null) {
    if (earlier.requestHash !== requestFingerprint('POST', '/v1/resident-events', item.input)) {
      throw new Problem(422, 'eventIdReused', 'Event id already used for another event',
        `Event ${item.input.eventId} was recorded with different content; a new event needs a new eventId.`);
    }
    return { line: item.line, eventId: item.eventId, type: item.type, status: 200, outcome: 'replayed', result: earlier.response as ResidentEventResult };
  }
  const r = await applyResidentEventIn(trx, ctx, actor, item.input);
  return { line: item.line, eventId: item.eventId, type: item.type, status: r.status, outcome: r.status === 201 ? 'applied' : 'replayed', result: r.body };
}

/**
 * One chunk in one transaction; returns a result per item, in order, for a prefix of the items: the
 * transaction stops taking lines after `maxMs` (row locks and the audit chain head are held until
 * commit, so other writers wait at most about that long). The caller carries the rest over.
 */
async function runChunk(ctx: ServiceContext, actor: Actor, items: BatchItem[], maxMs: number): Promise<BatchLineResult[]> {
  const refusedEarly = (item: Extract<BatchItem, { problem: Problem }>): BatchLineResult =>
    ({ line: item.line, eventId: item.eventId, type: item.type, status: item.problem.status, outcome: 'refused', problem: item.problem });
  const attempt = (withSavepoints: boolean) =>
    inTransaction(ctx, async (trx) => {
      const out: BatchLineResult[] = [];
      // All of the chunk's residents first, in order (see lockResidents): no deadlock with other writers.
      await lockResidents(trx, items.flatMap((item) => ('input' in item ? [item.input.residentCode] : [])));
      const applied = await appliedEvents(trx, items.flatMap((item) => ('input' in item ? [item.input.eventId] : [])));
      const started = performance.now();
      for (const item of items) {
        if (out.length > 0 && performance.now() - started > maxMs) break;
        if ('problem' in item) {
          out.push(refusedEarly(item));
          continue;
        }
        if (!withSavepoints) {
          try {
            out.push(await applyOne(trx, ctx, actor, item, applied));
          } catch (error) {
            if (asProblem(error)) throw new Refused();
            throw error;
          }
          continue;
        }
        await savepoint(trx, 'batch_line');
        try {
          out.push(await applyOne(trx, ctx, actor, item, applied));
          await releaseSavepoint(trx, 'batch_line');
        } catch (error) {
          const problem = asProblem(error);
          if (!problem) throw error;
          await rollbackToSavepoint(trx, 'batch_line');
          out.push({ line: item.line, eventId: item.eventId, type: item.type, status: problem.status, outcome: 'refused', problem });
        }
      }
      return out;
    });

  let withSavepoints = false;
  for (let retries = 0; ; ) {
    try {
      return await attempt(withSavepoints);
    } catch (error) {
      if (error instanceof Refused && !withSavepoints) {
        withSavepoints = true;
        continue;
      }
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && RETRYABLE.has(code) && retries < MAX_RETRIES) {
        retries++;
        await new Promise((r) => setTimeout(r, 20 * retries + Math.floor(Math.random() * 50)));
        continue;
      }
      throw error;
    }
  }
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
  const chunkMs = options.chunkMs ?? 1000;
  const progressMs = options.progressMs ?? 5000;
  const started = performance.now();
  const summary: BatchSummary = { lines: 0, applied: 0, replayed: 0, refused: 0, seconds: 0 };
  let lastLog = started;
  let linesAtLastLog = 0;
  /** Runs a chunk; returns the items it did not reach (time budget). */
  const flush = async (chunk: BatchItem[]): Promise<BatchItem[]> => {
    const results = await runChunk(ctx, actor, chunk, chunkMs);
    for (const r of results) summary[r.outcome]++;
    summary.lines += results.length;
    await emit(results);
    const now = performance.now();
    if (now - lastLog >= progressMs) {
      ctx.log.info({
        batch: actor.requestId, linesDone: summary.lines, applied: summary.applied, replayed: summary.replayed, refused: summary.refused,
        linesPerSecond: Math.round(((summary.lines - linesAtLastLog) * 1000) / (now - lastLog)),
      }, 'resident event batch progress');
      lastLog = now;
      linesAtLastLog = summary.lines;
    }
    return chunk.slice(results.length);
  };
  let chunk: BatchItem[] = [];
  for await (const item of items) {
    chunk.push(item);
    if (chunk.length >= chunkSize) chunk = await flush(chunk);
  }
  while (chunk.length > 0) chunk = await flush(chunk);
  summary.seconds = Math.round(performance.now() - started) / 1000;
  ctx.log.info({ batch: actor.requestId, ...summary, linesPerSecond: summary.seconds > 0 ? Math.round(summary.lines / summary.seconds) : summary.lines }, 'resident event batch done');
  return summary;
}
