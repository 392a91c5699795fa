// Public surface of the CA layer: pure functions over bytes and KeyObjects.
export * from './errors.js';
export * from './profiles.js';
export * from './name.js';
export * from './keys.js';
export * from './serial.js';
export { buildCertificate, toPem, fromPem, type IssuedCertificate, type CertificateSpec } from './certificate.js';
export { parseCertificate, type ParsedCertificate } from './cert-parse.js';
export * from './ca.js';
export * from './basic-facts.js';
export * from './end-entity.js';
export * from './csr.js';
export * from './crl.js';
export * from './ocsp-request.js';
export * from './ocsp-response.js';
export * from './verify.js';
