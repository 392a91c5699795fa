// What relying parties fetch: CA certificates, the latest CRL, OCSP answers,
// and the verify use case. The OCSP hot path parses the request, matches the
// issuer, and returns stored bytes, for SHA-1 and SHA-256 CertIDs alike (both
// are pre-signed with every status change: ocsp-answers.ts). It never signs for
// a certificate we issued; the only signing on the request path is `unknown`
// for a serial this CA never issued, since a CertID names the serial and so
// cannot be signed in advance. Those answers are cached. A row written before
// migration 0013 may still lack its SHA-256 answer until the background refresh
// signs it (its first run after the upgrade): a SHA-256 CertID for it is
// answered `tryLater` meanwhile, not signed here.
import { createHash } from 'node:crypto';
import * as repo from '../db/repositories/pki.js';
import {
  buildOcspResponse,
  CA_IDS,
  decodeOcspGetRequest,
  isPkiError,
  matchCertId,
  ocspErrorResponse,
  OCSP_HASHES,
  parseOcspRequest,
  verifyCertificate,
  type OcspErrorStatus,
  type OcspHash,
} from '../pki/index.js';
import { notFound, Problem } from '../problems.js';
import { cacheBus } from './cache-invalidation.js';
import type { LoadedCa } from './certificate-authority.js';
import { serviceInstance, type ServiceContext } from './context.js';
import { ocspCache } from './ocsp-cache.js';

const HOUR = 3_600_000;

function caOr404(ctx: ServiceContext, ca: string): LoadedCa {
  const loaded = ctx.cas.find(ca);
  if (!loaded) throw notFound('Certificate authority', `No CA named ${ca}; use signature or userAuthentication.`);
  return loaded;
}

export function caCertificate(ctx: ServiceContext, ca: string): { der: Buffer; pem: string } {
  const loaded = caOr404(ctx, ca);
  return { der: loaded.identity.certificate, pem: loaded.certificatePem };
}

export interface PublishedCrl {
  der: Uint8Array;
  crlNumber: string;
  thisUpdate: Date;
  nextUpdate: Date;
  etag: string;
}

// CRLs can be large; a GET costs one small query for the number while it has not changed.
const crlCache = new WeakMap<ServiceContext, Map<string, PublishedCrl>>();

export async function latestCrl(ctx: ServiceContext, ca: string): Promise<PublishedCrl> {
  const loaded = caOr404(ctx, ca);
  const number = await repo.latestCrlNumber(ctx.db, loaded.id);
  if (number === undefined) throw new Problem(503, 'crlNotYetPublished', 'CRL not yet published', 'The first CRL is being built; try again shortly.', {}, { 'Retry-After': '5' });
  let cache = crlCache.get(serviceInstance(ctx));
  if (!cache) crlCache.set(serviceInstance(ctx), (cache = new Map()));
  const hit = cache.get(loaded.id);
  if (hit && hit.crlNumber === number) return hit;
  const row = await repo.findCrl(ctx.db, loaded.id, number);
  if (!row) throw new Problem(503, 'crlNotYetPublished', 'CRL not yet published', 'Try again shortly.', {}, { 'Retry-After': '1' });
  const crl: PublishedCrl = { ...row, etag: `"crl-${loaded.id}-${row.crlNumber}"` };
  cache.set(loaded.id, crl);
  return crl;
}

export interface OcspAnswer {
  der: Buffer;
  /** successful, or the OCSP error status (still HTTP 200: the error is in the OCSP bytes). */
  responseStatus: 'successful' | OcspErrorStatus;
  /** For successful answers: the validity window (cache headers). */
  thisUpdate?: Date;
  nextUpdate?: Date;
}

const errorAnswer = (status: OcspErrorStatus): OcspAnswer => ({ der: ocspErrorResponse(status), responseStatus: status });

// `unknown` answers signed on the request path, kept until half their (short) life, and dropped
// when an answer for that serial is stored (it was issued meanwhile).
const UNKNOWN_CACHE_MAX = 10_000;
const UNKNOWN_VALIDITY_MS = HOUR;
const unknownCache = new Map<string, repo.StoredOcspAnswer & { responderKeyId: Buffer }>();
const unknownKey = (caId: string, hash: OcspHash, serial: string) => `${serial}|${caId}|${hash}`;

function dropUnknown(serial: string): void {
  if (unknownCache.size === 0) return;
  if (serial === '') return unknownCache.clear();
  for (const caId of CA_IDS) for (const hash of OCSP_HASHES) unknownCache.delete(unknownKey(caId, hash, serial));
}

async function unknownAnswer(ctx: ServiceContext, ca: LoadedCa, hash: OcspHash, serial: string): Promise<repo.StoredOcspAnswer> {
  const key = unknownKey(ca.id, hash, serial);
  const now = ctx.clock.now();
  const hit = unknownCache.get(key);
  if (hit && hit.responderKeyId.equals(ca.responder.keyId) && now.getTime() >= hit.thisUpdate.getTime() && now.getTime() < (hit.thisUpdate.getTime() + hit.nextUpdate.getTime()) / 2) return hit;
  const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const nextUpdate = new Date(Math.min(thisUpdate.getTime() + Math.min(UNKNOWN_VALIDITY_MS, ctx.config.policy.ocspValidityHours * HOUR), ca.responder.notAfter.getTime()));
  const der = await buildOcspResponse({ issuer: ca.identity, responder: ca.responder, serial, status: { status: 'unknown' }, thisUpdate, nextUpdate, hashAlgorithm: hash });
  const entry = { der, thisUpdate, nextUpdate, responderKeyId: ca.responder.keyId };
  if (unknownCache.size >= UNKNOWN_CACHE_MAX) unknownCache.delete(unknownCache.keys().next().value as string);
  unknownCache.set(key, entry);
  return entry;
}

/** Makes the in-memory cache of stored answers (ocsp-cache.ts); the routes call it when registered. */
export function startOcspAnswerCache(ctx: ServiceContext): void {
  ocspCache(ctx, dropUnknown);
}

/**
 * The stored answer: from memory when cached, else one indexed lookup (then cached). undefined: no
 * row for the serial; `notYetSigned`: a row of before migration 0013 whose SHA-256 answer the
 * refresh has not signed yet (not cached: it will be shortly).
 */
async function storedAnswer(ctx: ServiceContext, caId: string, hash: OcspHash, serial: string): Promise<repo.StoredOcspAnswer | 'notYetSigned' | undefined> {
  const cache = ocspCache(ctx, dropUnknown);
  const hit = cache.get(caId, hash, serial);
  if (hit !== undefined) return hit ?? undefined;
  const generation = cacheBus(ctx).generation;
  const stored = await repo.findOcspResponse(ctx.db, caId, serial, hash);
  if (stored?.der === null) return 'notYetSigned';
  cache.set(caId, hash, serial, stored as repo.StoredOcspAnswer | undefined, generation);
  return stored as repo.StoredOcspAnswer | undefined;
}

/**
 * One OCSP request (DER) to the responder of `ca`. RFC 5019: one CertID per request (more →
 * malformedRequest). A CertID naming another issuer, or hashed with an algorithm other than SHA-1
 * or SHA-256 → unauthorized. A nonce is ignored: the answer is the pre-signed one (RFC 8954 §2.1).
 * A legacy row's SHA-256 answer not signed yet (see the module comment) → tryLater.
 */
export async function answerOcsp(ctx: ServiceContext, ca: string, request: Uint8Array): Promise<OcspAnswer> {
  const loaded = caOr404(ctx, ca);
  let certIds;
  try {
    ({ certIds } = parseOcspRequest(request));
  } catch (e) {
    if (isPkiError(e)) return errorAnswer('malformedRequest');
    throw e;
  }
  if (certIds.length !== 1) return errorAnswer('malformedRequest');
  const certId = certIds[0]!;
  if (!matchCertId(certId, [loaded.identity])) return errorAnswer('unauthorized');
  const hash = certId.hashAlgorithm as OcspHash;
  const stored = await storedAnswer(ctx, loaded.id, hash, certId.serial);
  if (stored === 'notYetSigned') return errorAnswer('tryLater');
  const answer = stored ?? (await unknownAnswer(ctx, loaded, hash, certId.serial));
  return { der: answer.der, responseStatus: 'successful', thisUpdate: answer.thisUpdate, nextUpdate: answer.nextUpdate };
}

/** Strong validator for a GET answer: SHA-1 of its bytes (only GET answers are cacheable). */
export function ocspEtag(answer: OcspAnswer): string {
  return `"${createHash('sha1').update(answer.der).digest('base64url')}"`;
}

/** GET form: the request is the URL-encoded base64 (or base64url) path segment. */
export async function answerOcspGet(ctx: ServiceContext, ca: string, segment: string): Promise<OcspAnswer> {
  caOr404(ctx, ca);
  let der: Buffer;
  try {
    der = decodeOcspGetRequest(segment);
  } catch (e) {
    if (isPkiError(e)) return errorAnswer('malformedRequest');
    throw e;
  }
  return answerOcsp(ctx, ca, der);
}

export type VerifiedStatus = 'good' | 'onHold' | 'revoked' | 'expired' | 'notYetValid' | 'unknown';

export interface VerifyView {
  chained: boolean;
  ca: string | null;
  serial: string;
  notBefore: string;
  notAfter: string;
  status: VerifiedStatus;
  revocationReason?: string;
  revokedAt?: string;
  invalidityDate?: string;
}

/**
 * Does a presented certificate chain to one of our CAs, and what is its status now? `unknown`
 * when it does not chain or we hold no record of it; a recorded revocation or hold wins over the
 * validity period; otherwise expired / notYetValid by the service clock.
 */
export async function verifyPresentedCertificate(ctx: ServiceContext, pem: string): Promise<VerifyView> {
  let result;
  try {
    result = verifyCertificate(pem, ctx.cas.identities());
  } catch (e) {
    if (isPkiError(e)) throw new Problem(422, 'certificateMalformed', 'Not a certificate', 'The input holds no parsable X.509 certificate (PEM or base64 DER).');
    throw e;
  }
  const view: VerifyView = {
    chained: result.chained,
    ca: result.ca,
    serial: result.serial,
    notBefore: result.notBefore.toISOString(),
    notAfter: result.notAfter.toISOString(),
    status: 'unknown',
  };
  if (!result.chained || !result.ca) return view;
  const row = await repo.findCertificateStatus(ctx.db, result.serial);
  if (!row || row.caId !== result.ca) return view;
  if (row.status === 'revoked' || row.status === 'onHold') {
    return {
      ...view,
      status: row.status,
      ...(row.revocationReason ? { revocationReason: row.revocationReason } : {}),
      ...(row.revokedAt ? { revokedAt: row.revokedAt.toISOString() } : {}),
      ...(row.invalidityDate ? { invalidityDate: row.invalidityDate.toISOString() } : {}),
    };
  }
  const now = ctx.clock.now();
  if (now < result.notBefore) return { ...view, status: 'notYetValid' };
  if (now >= result.notAfter) return { ...view, status: 'expired' };
  return { ...view, status: 'good' };
}
