// The two issuing CAs (signature, userAuthentication): created on first start,
// kept in certificate_authorities with their keys encrypted (PKCS#8 under
// CA_KEY_PASSPHRASE), loaded and decrypted into memory once per process.
import type { KeyObject } from 'node:crypto';
import * as repo from '../db/repositories/pki.js';
import {
  buildCaCertificate,
  buildResponderCertificate,
  caIdentity,
  CA_IDS,
  decryptPrivateKey,
  encryptPrivateKey,
  generateRsaKeyPair,
  isCaId,
  ocspResponder,
  parseCertificate,
  responderNeedsRenewal,
  toPem,
  type CaId,
  type CaIdentity,
  type OcspResponder,
} from '../pki/index.js';
import type { ServiceContext } from './context.js';

/** CA certificates are long-lived: a test CA that expires under running systems helps nobody. */
export const CA_VALIDITY_YEARS = 20;
const HOUR = 3_600_000;

export interface LoadedCa {
  id: CaId;
  identity: CaIdentity;
  /** Decrypted, in memory only. */
  privateKey: KeyObject;
  certificatePem: string;
  /** Delegated OCSP responder; replaced in place when renewed (here or by another process). */
  responder: OcspResponder;
  responderNotBefore: Date;
}

/** The loaded CAs of this process. */
export class CaRegistry {
  private readonly byId = new Map<CaId, LoadedCa>();

  /** Throws when the CA is not loaded (a programming error: loading happens at start-up). */
  get(ca: CaId): LoadedCa {
    const loaded = this.byId.get(ca);
    if (!loaded) throw new Error(`certificate authority ${ca} is not loaded`);
    return loaded;
  }

  /** For untrusted input such as a URL segment. */
  find(ca: string): LoadedCa | undefined {
    return isCaId(ca) ? this.byId.get(ca) : undefined;
  }

  all(): LoadedCa[] {
    return [...this.byId.values()];
  }

  identities(): CaIdentity[] {
    return this.all().map((c) => c.identity);
  }

  get loaded(): boolean {
    return this.byId.size === CA_IDS.length;
  }

  /** @internal used by loading and responder renewal. */
  put(ca: LoadedCa): void {
    this.byId.set(ca.id, ca);
  }
}

/** A registry with nothing loaded: what ServiceContext holds until loadCertificateAuthorities runs. */
export const emptyCaRegistry = (): CaRegistry => new CaRegistry();

async function newResponder(issuer: CaIdentity, caPrivateKey: KeyObject, now: Date, passphrase: string): Promise<{ certificate: Buffer; encryptedKey: string }> {
  const keys = await generateRsaKeyPair(2048);
  const cert = await buildResponderCertificate({ issuer, caPrivateKey, responderPublicKey: keys.publicKey, notBefore: now });
  return { certificate: cert.der, encryptedKey: encryptPrivateKey(keys.privateKey, passphrase, 'pem') };
}

async function createCa(ca: CaId, now: Date, passphrase: string): Promise<repo.CaRow> {
  const { privateKey } = await generateRsaKeyPair(2048);
  // An hour of slack for relying parties whose clocks run a little behind.
  const notBefore = new Date(now.getTime() - HOUR);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  const cert = await buildCaCertificate({ ca, privateKey, notBefore, notAfter });
  const responder = await newResponder(caIdentity(ca, cert.der), privateKey, now, passphrase);
  return {
    caId: ca,
    certificate: cert.der,
    encryptedKey: encryptPrivateKey(privateKey, passphrase, 'pem'),
    responderCertificate: responder.certificate,
    responderEncryptedKey: responder.encryptedKey,
  };
}

function loadRow(row: repo.CaRow, passphrase: string): LoadedCa {
  const id = row.caId as CaId;
  const privateKey = decryptPrivateKey(row.encryptedKey, passphrase);
  const responderKey = decryptPrivateKey(row.responderEncryptedKey, passphrase);
  return {
    id,
    identity: caIdentity(id, row.certificate),
    privateKey,
    certificatePem: toPem(row.certificate),
    responder: ocspResponder(row.responderCertificate, responderKey),
    responderNotBefore: parseCertificate(row.responderCertificate).notBefore,
  };
}

/**
 * Loads both CAs, creating any that is missing (keys made here, stored encrypted). Two processes
 * starting at once both may generate keys, but INSERT … ON CONFLICT DO NOTHING lets exactly one
 * row win, and both then load that row. Responders due for renewal are renewed here too, so a
 * service that was down for weeks does not start with an expired responder.
 */
export async function loadCertificateAuthorities(ctx: Omit<ServiceContext, 'cas'> & { cas?: CaRegistry }): Promise<CaRegistry> {
  const passphrase = ctx.config.caKeyPassphrase;
  let rows = await repo.listCas(ctx.db);
  const missing = CA_IDS.filter((id) => !rows.some((r) => r.caId === id));
  if (missing.length > 0) {
    const now = ctx.clock.now();
    const created = await Promise.all(missing.map((id) => createCa(id, now, passphrase)));
    for (const row of created) await repo.insertCaIfAbsent(ctx.db, row, now);
    ctx.log.info({ cas: missing }, 'created certificate authorities (keys encrypted at rest)');
    rows = await repo.listCas(ctx.db);
  }
  const registry = new CaRegistry();
  for (const row of rows) {
    if (isCaId(row.caId)) registry.put(loadRow(row, passphrase));
  }
  if (!registry.loaded) throw new Error('certificate authorities missing after creation');
  await renewRespondersIfDue({ ...ctx, cas: registry });
  return registry;
}

/**
 * Renews each responder certificate that is within a third of its lifetime of expiry (or not
 * valid now). Compare-and-set on the stored certificate: if another process renewed first, this
 * one loads that instead. Returns the CAs whose responder changed (their stored OCSP responses
 * are then due for re-signing: see refreshOcspResponses).
 */
export async function renewRespondersIfDue(ctx: ServiceContext): Promise<CaId[]> {
  const renewed: CaId[] = [];
  const now = ctx.clock.now();
  for (const ca of ctx.cas.all()) {
    if (!responderNeedsRenewal(ca.responder.certificate, now)) continue;
    const next = await newResponder(ca.identity, ca.privateKey, now, ctx.config.caKeyPassphrase);
    const won = await repo.replaceResponder(ctx.db, ca.id, ca.responder.certificate, next.certificate, next.encryptedKey);
    if (won) ctx.log.info({ ca: ca.id, notAfter: parseCertificate(next.certificate).notAfter.toISOString() }, 'OCSP responder certificate renewed');
    renewed.push(ca.id);
  }
  if (renewed.length > 0) await reloadResponders(ctx);
  return renewed;
}

/** Picks up responder certificates renewed by another process. Cheap: compares bytes. */
export async function reloadResponders(ctx: ServiceContext): Promise<void> {
  for (const row of await repo.listCas(ctx.db)) {
    const current = ctx.cas.find(row.caId);
    if (!current || current.responder.certificate.equals(Buffer.from(row.responderCertificate))) continue;
    const key = decryptPrivateKey(row.responderEncryptedKey, ctx.config.caKeyPassphrase);
    current.responder = ocspResponder(row.responderCertificate, key);
    current.responderNotBefore = parseCertificate(row.responderCertificate).notBefore;
  }
}
