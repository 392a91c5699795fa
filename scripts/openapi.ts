/** `npm run openapi`: regenerates openapi/openapi.json from the routes' schemas. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { OPENAPI_ENV, openapiText } from '../src/openapi-document.js';

const config = loadConfig({ ...OPENAPI_ENV, DATA_DIR: 'memory://', LOG_LEVEL: 'warn', ADMIN_API_KEY: 'openapi-generation-only-key' });
const app = await buildApp(config);
await app.ready();
mkdirSync('openapi', { recursive: true });
writeFileSync('openapi/openapi.json', openapiText(app));
await app.close();
console.log('wrote openapi/openapi.json');
