// Pre-signed OCSP answers in memory, so that the OCSP hot path costs no database round trip
// (bench/ocsp.ts: the lookup was most of a request's cost). Correctness comes first:
//
// - Answers are cached only while this process LISTENs for `ocsp_responses_changed`
//   (cache-invalidation.ts; migration 0009 sends the changed serials from a trigger on
//   ocsp_responses, so every writer, in any process or by hand, is heard). A revocation committed
//   anywhere drops the serial here as soon as its NOTIFY arrives; while the listening connection is
//   down nothing is answered from memory, and on reconnect everything is forgotten.
// - A read that started before an invalidation never stores its answer (the bus generation).
// - This process's own writes: `ocspAnswersChanging` is called before a service writes new answers,
//   and those serials bypass the cache until their NOTIFY comes back after the commit (or
//   PENDING_MS, for a transaction rolled back), so a client that revoked here reads `revoked` here
//   on its next request, never the cached `good`.
// - Each entry lives at most TTL_MS (the safety net should a notification be lost while the
//   connection still looks healthy); the map holds at most OCSP_CACHE_MAX_ENTRIES (least recently
//   used go first).
//
// Serials this CA never issued are cached as absent (the `unknown` answer is signed and kept by
// pki-distribution.ts), and dropped like the others when an answer for them is stored.
//
// Every answer a responder signs ends with the responder's certificate; an entry keeps only the
// bytes before it and shares that certificate (~0.6 KB of bytes an entry instead of ~1.6 KB). Those
// bytes are kept as a one-byte (latin1) string on V8's heap rather than a Buffer: a Buffer of its
// own costs an ArrayBuffer, a backing store and a malloc block besides the bytes (~1.8 KB of RSS an
// entry in all, against ~0.9 KB now), and a 100,000-entry cache is a service's largest allocation.
import type { OcspHash } from '../pki/index.js';
import * as repo from '../db/repositories/pki.js';
import { cacheBus, type CacheBus } from './cache-invalidation.js';
import { serviceInstance, type ServiceContext } from './context.js';

const TTL_MS = 10 * 60_000;
const PENDING_MS = 60_000;
const PRELOAD_PAGE = 2000;

interface Entry {
  /** The answer without `suffix`, or the whole answer when suffix is null (latin1: one char a byte). */
  head: string;
  suffix: Buffer | null;
  /** Epoch milliseconds. */
  thisUpdate: number;
  nextUpdate: number;
  until: number;
  /** `OcspCache.stamp` when last stored or moved (for least-recently-used order). */
  stamp: number;
}

/** null: no stored answer (the serial is unknown to this CA). */
type Slot = Entry | { absent: true; until: number; stamp: number };

const HASHES: OcspHash[] = ['sha1', 'sha256'];
const keyOf = (caId: string, hash: OcspHash, serial: string) => `${serial}|${caId}|${hash}`;

export class OcspCache {
  private readonly entries = new Map<string, Slot>();
  /** Serials written by this process whose NOTIFY has not come back yet → deadline. */
  private readonly pending = new Map<string, number>();
  private loading = false;
  /** Counts stores and moves; an entry stamped long ago is near the eviction end. */
  private stamp = 0;
  /** This process has answered OCSP (see refill). */
  private used = false;

  constructor(
    private readonly bus: CacheBus,
    private readonly maxEntries: number,
    private readonly caIds: () => string[],
    /** The certificate each CA's current responder appends to its answers. */
    private readonly suffixOf: (caId: string) => Buffer | undefined,
    private readonly onDropped: (serial: string) => void,
    /** Fills the cache from storage (ocspCache() passes preload). */
    private readonly fill: () => void = () => {},
  ) {}

  /**
   * Fills the cache from storage once this process answers OCSP: from its first lookup, and again
   * after each (re)connection of the bus. A process that serves no OCSP (an API or batch replica
   * behind a router that sends /pki elsewhere) keeps no answers; a bulk batch run right after
   * start-up does not share its CPU and memory with loading answers it is about to replace.
   */
  refill(): void {
    if (this.used) setImmediate(this.fill);
  }

  get enabled(): boolean {
    return this.maxEntries > 0 && this.bus.live;
  }

  /** A hit (answer, or null for a known absence), or undefined on a miss. */
  get(caId: string, hash: OcspHash, serial: string): repo.StoredOcspAnswer | null | undefined {
    if (!this.used) {
      this.used = true;
      this.refill();
    }
    if (!this.enabled) return undefined;
    const key = keyOf(caId, hash, serial);
    const slot = this.entries.get(key);
    if (!slot) return undefined;
    if (performance.now() >= slot.until || (this.pending.size > 0 && this.isPending(serial))) {
      this.entries.delete(key);
      return undefined;
    }
    // Least recently used goes first: a hit moves to the end, unless it is in the newer half already
    // (moving costs a delete and an insert; the order stays close enough to LRU).
    if (this.stamp - slot.stamp > this.maxEntries / 2) {
      slot.stamp = ++this.stamp;
      this.entries.delete(key);
      this.entries.set(key, slot);
    }
    if ('absent' in slot) return null;
    const der = Buffer.allocUnsafe(slot.head.length + (slot.suffix?.length ?? 0));
    der.write(slot.head, 0, 'latin1');
    slot.suffix?.copy(der, slot.head.length);
    return { der, thisUpdate: new Date(slot.thisUpdate), nextUpdate: new Date(slot.nextUpdate) };
  }

  /** Stores what a read made while the bus generation was `generation` found (undefined: nothing stored). */
  set(caId: string, hash: OcspHash, serial: string, answer: repo.StoredOcspAnswer | undefined, generation: number): void {
    if (!this.enabled || generation !== this.bus.generation || this.isPending(serial)) return;
    const key = keyOf(caId, hash, serial);
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, answer ? this.entry(caId, answer) : { absent: true, until: performance.now() + TTL_MS, stamp: ++this.stamp });
  }

  private entry(caId: string, answer: repo.StoredOcspAnswer): Entry {
    const suffix = this.suffixOf(caId);
    const der = answer.der;
    const shared = suffix !== undefined && der.length > suffix.length && der.subarray(der.length - suffix.length).equals(suffix);
    const head = (shared ? der.subarray(0, der.length - suffix.length) : der).toString('latin1');
    return { head, suffix: shared ? suffix : null, thisUpdate: answer.thisUpdate.getTime(), nextUpdate: answer.nextUpdate.getTime(), until: performance.now() + TTL_MS, stamp: ++this.stamp };
  }

  private isPending(serial: string): boolean {
    const deadline = this.pending.get(serial);
    if (deadline === undefined) return false;
    if (performance.now() < deadline) return true;
    this.pending.delete(serial);
    return false;
  }

  /** This process is about to store new answers for these serials (see the module comment). */
  changing(serials: Iterable<string>): void {
    const deadline = performance.now() + PENDING_MS;
    const caIds = this.caIds();
    for (const serial of serials) {
      this.pending.set(serial, deadline);
      this.drop(serial, caIds);
    }
    if (this.pending.size > 100_000) for (const [serial, d] of this.pending) if (performance.now() >= d) this.pending.delete(serial);
  }

  /** A NOTIFY: these serials changed (comma-separated), or everything (empty payload). */
  invalidated(payload: string): void {
    if (payload === '') {
      this.entries.clear();
      this.pending.clear();
      this.onDropped('');
      return;
    }
    const caIds = this.caIds();
    for (const serial of payload.split(',')) {
      this.pending.delete(serial);
      this.drop(serial, caIds);
    }
  }

  private drop(serial: string, caIds: string[]): void {
    if (this.entries.size > 0) for (const caId of caIds) for (const hash of HASHES) this.entries.delete(keyOf(caId, hash, serial));
    this.onDropped(serial);
  }

  /**
   * Fills the cache with the stored SHA-1 answers (what openssl and most clients ask for), up to
   * its size, in pages, as cfssl loads its responses file at start (see refill for when); a serial
   * invalidated while loading is skipped, and everything stops if the bus goes down or is cleared.
   */
  async preload(ctx: ServiceContext): Promise<void> {
    if (this.loading || !this.enabled) return;
    this.loading = true;
    const changed = new Set<string>();
    let cleared = false;
    const watch = (payload: string) => (payload === '' ? (cleared = true) : payload.split(',').forEach((s) => changed.add(s)));
    this.bus.on('ocsp_responses_changed', watch);
    try {
      let after = '';
      let loaded = 0;
      while (loaded < this.maxEntries) {
        const page = await repo.ocspResponsesPage(ctx.db, after, Math.min(PRELOAD_PAGE, this.maxEntries - loaded));
        if (cleared || !this.enabled) return;
        for (const row of page) {
          const key = keyOf(row.caId, 'sha1', row.serial);
          if (changed.has(row.serial) || this.isPending(row.serial) || this.entries.has(key)) continue;
          if (this.entries.size >= this.maxEntries) return;
          this.entries.set(key, this.entry(row.caId, row));
        }
        loaded += page.length;
        if (page.length < PRELOAD_PAGE) return;
        after = page[page.length - 1]!.serial;
        await new Promise((r) => setImmediate(r)); // requests go first
      }
    } catch (error) {
      // Closing while loading, or the database away: the cache fills on demand instead.
      ctx.log.debug({ err: error }, 'ocsp cache: preload stopped');
    } finally {
      this.bus.off('ocsp_responses_changed', watch);
      this.loading = false;
      // Cleared while loading (a reconnect, a TRUNCATE): start again from what is stored now.
      if (cleared && this.enabled) setImmediate(() => void this.preload(ctx));
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

const caches = new WeakMap<ServiceContext, OcspCache>();

/**
 * The OCSP answer cache of one service instance, made when the routes are registered (before the
 * bus connects, so that it hears the first connection). `onDropped` hears every serial dropped
 * ('' for all), for caches that derive from these answers.
 */
export function ocspCache(ctx: ServiceContext, onDropped: (serial: string) => void = () => {}): OcspCache {
  // The instance's context, not a request's: the cache outlives the request that first asks for it.
  const instance = serviceInstance(ctx);
  let cache = caches.get(instance);
  if (!cache) {
    const bus = cacheBus(instance);
    const fresh = new OcspCache(
      bus,
      instance.config.ocspCacheMaxEntries,
      () => instance.cas.all().map((ca) => ca.id),
      (caId) => instance.cas.find(caId)?.responder.certificate,
      onDropped,
      () => void fresh.preload(instance),
    );
    bus.on('ocsp_responses_changed', (payload) => {
      fresh.invalidated(payload);
      // An empty payload also comes when the bus (re)connects: fill the cache again once it is live.
      if (payload === '') fresh.refill();
    });
    caches.set(instance, (cache = fresh));
  }
  return cache;
}

/** Call before storing new answers for these serials (services/certificate-status.ts). */
export function ocspAnswersChanging(ctx: ServiceContext, serials: Iterable<string>): void {
  caches.get(serviceInstance(ctx))?.changing(serials);
}
