import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../plugins/auth.js';
import { findMyNumber } from '../plugins/my-number-guard.js';
import { Problem, problemType } from '../problems.js';
import type { ServiceContext } from '../services/context.js';
import { applyResidentEventBatch, type BatchItem, type BatchLineResult } from '../services/resident-batches.js';
import { RESIDENT_EVENT_TYPES, type ResidentEventInput } from '../services/residents.js';
import { makeSpoolDir, sweepOrphanedSpoolDirs } from './batch-spool.js';
import { residentEventSchema } from './residents.js';
import { responses } from './schemas.js';

/** A line longer than this is refused on its own (lineTooLong) without being held in memory. */
export const MAX_LINE_BYTES = 64 * 1024;

/**
 * The raw request stream, wrapped so that nothing walks it as if it were a parsed body (the My Number
 * guard inspects request.body; a private field has no enumerable properties to inspect).
 */
class NdjsonBody {
  readonly #stream: Readable;
  constructor(stream: Readable) {
    this.#stream = stream;
  }
  get stream(): Readable {
    return this.#stream;
  }
}

const NEWLINE = 0x0a;
const isBlank = (b: Buffer) => b.every((c) => c === 0x20 || c === 0x09 || c === 0x0d);

/**
 * Phase 1: the body goes to a temporary file while its non-blank lines are counted, so that a batch
 * over BATCH_MAX_LINES is refused (413) before any line is applied, with memory flat whatever the size.
 */
async function spool(body: Readable, file: string, maxLines: number): Promise<number> {
  const out = createWriteStream(file);
  const closed = once(out, 'close');
  let lines = 0;
  let content = false; // the current line has a non-blank byte
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      for (let p = 0; p < chunk.length; ) {
        const nl = chunk.indexOf(NEWLINE, p);
        const end = nl === -1 ? chunk.length : nl;
        if (!content && end > p && !isBlank(chunk.subarray(p, end))) content = true;
        if (nl === -1) break;
        if (content) lines++;
        content = false;
        p = nl + 1;
      }
      if (lines + (content ? 1 : 0) > maxLines) {
        throw new Problem(413, 'batchTooLarge', 'Too many lines in the batch',
          `A batch holds at most ${maxLines} lines (BATCH_MAX_LINES); nothing was applied. Split it into smaller batches.`,
          { maxLines }, { Connection: 'close' });
      }
      if (!out.write(chunk)) await Promise.race([once(out, 'drain'), closed]);
    }
  } finally {
    out.end();
    await closed;
  }
  return lines + (content ? 1 : 0);
}

type RawLine = { line: number; text: string } | { line: number; tooLong: true };

/** Phase 2: the spooled file, line by line (physical line numbers from 1; blank lines skipped). */
async function* readLines(file: string): AsyncGenerator<RawLine> {
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  let n = 0;
  const finish = function* (): Generator<RawLine> {
    n++;
    if (tooLong) yield { line: n, tooLong: true };
    else {
      const buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      if (!isBlank(buf)) yield { line: n, text: buf.toString('utf8') };
    }
    parts = [];
    size = 0;
    tooLong = false;
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    for (let p = 0; p < chunk.length; ) {
      const nl = chunk.indexOf(NEWLINE, p);
      const end = nl === -1 ? chunk.length : nl;
      if (!tooLong) {
        size += end - p;
        if (size > MAX_LINE_BYTES) {
          tooLong = true;
          parts = [];
        } else if (end > p) parts.push(chunk.subarray(p, end));
      }
      if (nl === -1) break;
      yield* finish();
      p = nl + 1;
    }
  }
  if (size > 0 || tooLong) yield* finish();
}

interface AjvLikeError {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function validationProblem(errors: AjvLikeError[]): Problem {
  const list = errors.map((issue) => {
    const extra = issue.params?.additionalProperty ?? issue.params?.missingProperty;
    const base = `line${issue.instancePath ?? ''}`;
    return {
      path: typeof extra === 'string' ? `${base}/${extra}` : base,
      message: typeof extra === 'string' && issue.params?.additionalProperty ? 'unknown field' : (issue.message ?? 'invalid'),
    };
  });
  return new Problem(400, 'validationFailed', 'Line does not match the event schema', 'The line is not a valid resident event (POST /v1/resident-events).', { errors: list });
}

const KNOWN_TYPES = new Set<string>(RESIDENT_EVENT_TYPES);

function problemBody(p: Problem) {
  return { type: problemType(p.code), title: p.title, status: p.status, ...(p.detail ? { detail: p.detail } : {}), ...p.extra };
}

const resultLine = (r: BatchLineResult) =>
  `${JSON.stringify(r.problem ? { line: r.line, eventId: r.eventId, status: r.status, problem: problemBody(r.problem) } : { line: r.line, eventId: r.eventId, status: r.status, result: r.result })}\n`;

const residentBatches: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app, { ctx }) => {
  // The raw stream, not buffered: BODY_LIMIT_BYTES does not apply; BATCH_MAX_LINES does (spool()).
  app.addContentTypeParser('application/x-ndjson', (_request, payload, done) => done(null, new NdjsonBody(payload)));

  const swept = await sweepOrphanedSpoolDirs();
  if (swept > 0) ctx.log.info({ swept }, 'removed batch spool directories left by processes that died');

  const schema = residentEventSchema(ctx.config.residentCodePattern.source);
  type Validate = ((value: unknown) => boolean) & { errors?: AjvLikeError[] | null };
  let validate: Validate | undefined;
  const applied = app.metrics.counter('resident_events_total', 'Resident events by type and outcome (applied, replayed, refused)', ['type', 'outcome', 'source']);

  app.post('/v1/resident-events/batch', {
    config: { auth: 'residents:write' },
    schema: {
      tags: ['residents'],
      summary: 'Apply many resident events (NDJSON), exactly once per eventId, answering line by line',
      description:
        'Body: `application/x-ndjson`, one event per line exactly as `POST /v1/resident-events` takes it (blank lines are skipped; lines are ' +
        'numbered from 1 as they appear). The body is streamed to a temporary file while its lines are counted: more than BATCH_MAX_LINES ' +
        'lines is 413 before anything is applied; BODY_LIMIT_BYTES does not apply. The answer is NDJSON, one line per event line, in order: ' +
        '`{ line, eventId, status, result }` (201 applied, 200 already applied by an earlier request: the first answer) or ' +
        '`{ line, eventId, status, problem }` (400 not JSON or not the schema, 404 unknown resident, 422 My Number-like value, …). A bad line ' +
        'does not stop or undo the others. Lines are committed in chunks of 250; a line appears in the answer only after its chunk committed. ' +
        'If the batch stops early (database unavailable), a last line without `line` carries the problem: replay the batch.',
      // No type: the parsed body is the raw stream, which an empty schema lets through; every line is checked by the handler.
      body: { description: 'NDJSON resident events', content: { 'application/x-ndjson': { schema: { description: 'one resident event (POST /v1/resident-events) per line' } } } },
      response: {
        200: { description: 'One NDJSON line per input line', content: { 'application/x-ndjson': { schema: { type: 'string' } } } },
        ...responses({}, 413, 415),
      },
    },
  }, async (request, reply) => {
    const body = request.body as unknown;
    if (!(body instanceof NdjsonBody)) {
      throw new Problem(415, 'unsupportedMediaType', 'Unsupported media type', 'Send the events as application/x-ndjson, one JSON event per line.');
    }
    validate ??= app.validatorCompiler!({ schema, method: 'POST', url: '/v1/resident-events', httpPart: 'body' }) as unknown as Validate;
    const dir = await makeSpoolDir();
    const file = path.join(dir, 'body.ndjson');
    const cleanup = () => rm(dir, { recursive: true, force: true });
    let lines: number;
    try {
      lines = await spool(body.stream, file, ctx.config.policy.batchMaxLines);
    } catch (error) {
      body.stream.resume();
      await cleanup();
      throw error;
    }
    request.log.info({ lines }, 'resident event batch received');

    async function* items(): AsyncGenerator<BatchItem> {
      for await (const raw of readLines(file)) {
        if ('tooLong' in raw) {
          yield { line: raw.line, eventId: null, type: 'unknown', problem: new Problem(400, 'lineTooLong', 'Line too long', `A line may hold at most ${MAX_LINE_BYTES} bytes.`) };
          continue;
        }
        let value: unknown;
        try {
          value = JSON.parse(raw.text);
        } catch {
          yield { line: raw.line, eventId: null, type: 'unknown', problem: new Problem(400, 'invalidJson', 'Line is not JSON', 'Each line must be one JSON object.') };
          continue;
        }
        const o = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
        const eventId = typeof o.eventId === 'string' ? o.eventId : null;
        const type = typeof o.type === 'string' && KNOWN_TYPES.has(o.type) ? o.type : 'unknown';
        const found = findMyNumber(value, 'line');
        if (found) {
          yield {
            line: raw.line, eventId, type, problem: new Problem(422, 'myNumberNotAccepted', 'My Number not accepted',
              `The value at ${found} looks like a My Number (個人番号), which this service never accepts or stores; use the resident code (宛名番号).`,
              { errors: [{ path: found, message: 'My Number not accepted' }] }),
          };
          continue;
        }
        if (!validate!(value)) {
          yield { line: raw.line, eventId, type, problem: validationProblem(validate!.errors ?? []) };
          continue;
        }
        const e = value as Omit<ResidentEventInput, 'data'> & { data?: Record<string, unknown> };
        yield { line: raw.line, eventId, type, input: { ...e, data: e.data ?? {} } };
      }
    }

    const out = new PassThrough();
    reply.type('application/x-ndjson; charset=utf-8').header('Cache-Control', 'no-store');
    reply.send(out);
    const closed = once(out, 'close');
    const emit = async (results: BatchLineResult[]) => {
      for (const r of results) applied.inc({ type: r.type, outcome: r.outcome, source: 'batch' });
      if (out.destroyed) throw new Error('client went away');
      if (!out.write(results.map(resultLine).join(''))) await Promise.race([once(out, 'drain'), closed]);
    };
    void applyResidentEventBatch(request.ctx, actorOf(request), items(), emit, { progressMs: ctx.config.batchProgressLogMs })
      .catch((error: unknown) => {
        if (out.destroyed) {
          request.log.warn('resident event batch stopped: the client went away (what was answered is committed; replay the rest)');
          return;
        }
        request.log.error({ err: error }, 'resident event batch stopped');
        const p = new Problem(503, 'batchInterrupted', 'Batch interrupted', 'The batch stopped before its end; lines answered above are applied. Replay the batch: applied lines answer 200.');
        out.write(`${JSON.stringify({ status: p.status, problem: problemBody(p) })}\n`);
      })
      .finally(() => {
        out.end();
        void cleanup();
      });
    return reply;
  });
};

export default residentBatches;
