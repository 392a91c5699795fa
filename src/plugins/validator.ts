import { SerializerSelector, type Serializer, type SerializerFactory } from '@fastify/fast-json-stringify-compiler';
import { Ajv, type Options, type ValidateFunction } from 'ajv';
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

/**
 * Each route's validators are compiled on the route's first request, not at start-up (Fastify
 * compiles every route's schemas when it starts: ~¼ of start-up CPU for ~70 routes).
 */
export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  let body: Ajv | undefined;
  let text: Ajv | undefined;
  return ({ schema, httpPart }) => {
    let validate: ValidateFunction | undefined;
    const lazy = (data: unknown, context?: Parameters<ValidateFunction>[1]): boolean => {
      validate ??= httpPart === 'body' ? (body ??= ajv({ coerceTypes: false })).compile(schema as object) : (text ??= ajv({ coerceTypes: 'array' })).compile(schema as object);
      const valid = validate(data, context);
      // Fastify reads the errors from the function it was given.
      lazy.errors = validate.errors;
      return valid;
    };
    lazy.errors = null as ValidateFunction['errors'];
    // Tells Fastify to pass the parent (request) so that Ajv may replace a root value, as it does for Ajv's own functions.
    lazy.schemaEnv = true;
    return lazy;
  };
}

const eagerSerializers = SerializerSelector();

/**
 * Fastify's own response serializers (fast-json-stringify), each compiled on its first use
 * instead of at start-up; passed as `schemaController.compilersFactory.buildSerializer`.
 */
export const lazySerializerFactory: SerializerFactory = (externalSchemas, options) => {
  const compile = eagerSerializers(externalSchemas, options);
  return (route) => {
    let serialize: Serializer | undefined;
    return (doc) => (serialize ??= compile(route))(doc);
  };
};

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
