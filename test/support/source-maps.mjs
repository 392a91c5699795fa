/**
 * Preloaded after tsx in test processes (.taprc node-arg): puts each TypeScript file's text into
 * the source map tsx inlines. tsx writes `sourcesContent: [null]`, and c8 (tap's coverage report)
 * then takes that null for the original source instead of reading the file, so every src/ file
 * came out as one covered line. With the text in the map, the report counts the real lines.
 */
import { register } from 'node:module';

register('./source-maps-hooks.mjs', import.meta.url);
