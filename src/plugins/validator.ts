import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Request validation. Query strings, path parameters and headers arrive as text, so they are coerced
 * to the schema's types; JSON bodies are not: `"pin": 1234` or `"name": ["x"]` is a wrong type (400),
 * not something to convert. Unknown fields are refused, never stripped.
 */
const COMMON: Options = { removeAdditional: false, useDefaults: true, allErrors: true, discriminator: true, strict: false };

function ajv(options: Options): Ajv {
  const instance = new Ajv({ ...COMMON, ...options });
  addFormats.default(instance);
  return instance;
}

export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const body = ajv({ coerceTypes: false });
  const text = ajv({ coerceTypes: 'array' });
  return ({ schema, httpPart }) => (httpPart === 'body' ? body : text).compile(schema as object);
}

// One instance for every checker, made on first use: each Ajv compiles its meta-schemas when made,
// and route modules create their checkers at import time (start-up).
let checkers: Ajv | undefined;

/** A checker for JSON the service reads back from its own output (cursors): same formats, no coercion. Compiled on first use. */
export function jsonChecker<T>(schema: object): (value: unknown) => value is T {
  let validate: ((value: unknown) => boolean) | undefined;
  return (value: unknown): value is T => {
    validate ??= (checkers ??= ajv({ coerceTypes: false, useDefaults: false })).compile<T>(schema);
    return validate(value);
  };
}
