import { Buffer } from 'node:buffer';
import { readFile } from 'node:fs/promises';
import { URL } from 'node:url';

const INLINE_MAP = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/;

/** Module hook (see source-maps.mjs): the original text of each source, where tsx left null. */
export async function load(url, context, nextLoad) {
  const loaded = await nextLoad(url, context);
  if (!url.startsWith('file:') || !/\.[cm]?ts$/.test(new URL(url).pathname) || loaded.source == null) return loaded;
  const code = typeof loaded.source === 'string' ? loaded.source : Buffer.from(loaded.source).toString('utf8');
  const inline = INLINE_MAP.exec(code);
  if (!inline) return loaded;
  const map = JSON.parse(Buffer.from(inline[1], 'base64').toString('utf8'));
  if (!Array.isArray(map.sources) || (Array.isArray(map.sourcesContent) && map.sourcesContent.every((s) => typeof s === 'string'))) return loaded;
  map.sourcesContent = await Promise.all(map.sources.map((source) => readFile(new URL(source, url), 'utf8').catch(() => null)));
  const encoded = Buffer.from(JSON.stringify(map)).toString('base64');
  return { ...loaded, source: `${code.slice(0, inline.index)}//# sourceMappingURL=data:application/json;base64,${encoded}\n` };
}
