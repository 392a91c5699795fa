// In-memory caches that stay correct with several service processes on one database.
//
// A cache may only answer while this process LISTENs on a dedicated connection: writers send
// NOTIFY (migration 0007: a trigger on the table, so hand-made changes count too), PostgreSQL
// delivers it to every listener when the writing transaction commits, and the listener drops the
// affected entries. While the connection is down (or not yet up) `live` is false and caches are
// bypassed; on reconnect every cache is cleared, since notifications sent meanwhile are lost.
// Each entry also has a bounded TTL as the safety net. A read that started before an invalidation
// must not store its (possibly stale) answer afterwards: callers take `generation` before the
// read and store only if it is unchanged.
import type { DbHandle } from '../db/connection.js';
import { openMaintenanceConnection, type MaintenanceConnection } from '../db/maintenance-connection.js';
import { serviceInstance, type ServiceContext } from './context.js';

export const CACHE_CHANNELS = ['api_keys_changed', 'ocsp_responses_changed', 'reference_data_changed'] as const;
export type CacheChannel = (typeof CACHE_CHANNELS)[number];

export class CacheBus {
  /** The listening connection; `broken` turns true the moment it fails. */
  connection: { readonly broken: boolean } | undefined;
  /** True while notifications are being received; caches answer only then. */
  get live(): boolean {
    return this.connection !== undefined && !this.connection.broken;
  }
  /** Bumped on every invalidation; a read stores its answer only if this did not move meanwhile. */
  generation = 0;
  private readonly handlers = new Map<CacheChannel, Set<(payload: string) => void>>();

  /** `payload`: what the NOTIFY carried (e.g. the serials that changed); empty means everything. */
  on(channel: CacheChannel, handler: (payload: string) => void): void {
    let set = this.handlers.get(channel);
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
  }

  off(channel: CacheChannel, handler: (payload: string) => void): void {
    this.handlers.get(channel)?.delete(handler);
  }

  invalidate(channel: CacheChannel, payload = ''): void {
    this.generation++;
    for (const h of this.handlers.get(channel) ?? []) h(payload);
  }

  invalidateAll(): void {
    for (const channel of CACHE_CHANNELS) this.invalidate(channel);
  }
}

const buses = new WeakMap<ServiceContext, CacheBus>();

/** The bus of one service instance (a process may hold several in tests). */
export function cacheBus(ctx: ServiceContext): CacheBus {
  const instance = serviceInstance(ctx);
  let bus = buses.get(instance);
  if (!bus) buses.set(instance, (bus = new CacheBus()));
  return bus;
}

/**
 * A bounded map with a TTL per entry, used only while the bus is live. Oldest entries go first
 * when full (insertion order); nothing here is more than `ttlMs` old.
 */
export class BoundedCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  constructor(private readonly bus: CacheBus, private readonly maxEntries: number, private readonly ttlMs: number) {}

  get(key: string): V | undefined {
    if (!this.bus.live) return undefined;
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (performance.now() >= hit.until) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.value;
  }

  /** Stores an answer read while the generation was `generation` (see the module comment). */
  set(key: string, value: V, generation: number): void {
    if (!this.bus.live || generation !== this.bus.generation) return;
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, until: performance.now() + this.ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

export interface CacheInvalidation {
  stop(): Promise<void>;
}

const RECONNECT_MS = 1000;

/** Listens for invalidations on a connection of its own, reconnecting when it drops. */
export function startCacheInvalidation(ctx: ServiceContext, database: DbHandle): CacheInvalidation {
  const bus = cacheBus(ctx);
  let conn: MaintenanceConnection | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const connect = async () => {
    try {
      const fresh = await openMaintenanceConnection(database);
      for (const channel of CACHE_CHANNELS) await fresh.listen(channel, (payload) => bus.invalidate(channel, payload));
      if (stopped) {
        await fresh.close();
        return;
      }
      conn = fresh;
      // Anything cached before (or changed while nobody listened) is forgotten before caching resumes.
      bus.invalidateAll();
      bus.connection = fresh;
    } catch (error) {
      ctx.log.warn({ err: error }, 'cache invalidation: cannot listen; caches stay off until it can');
    }
  };
  const watch = async () => {
    if (stopped) return;
    if (!conn || conn.broken) {
      bus.connection = undefined;
      bus.invalidateAll();
      await conn?.close();
      conn = undefined;
      await connect();
    }
    if (!stopped) timer = setTimeout(() => void watch(), RECONNECT_MS);
  };
  void watch();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      bus.connection = undefined;
      bus.invalidateAll();
      await conn?.close();
    },
  };
}
