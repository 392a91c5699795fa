// One error type with a stable `code` so the HTTP layer can map each refusal
// to a problem+json type (or an OCSP status) without parsing messages.

export type PkiErrorCode =
  | 'csrMalformed'
  | 'csrBadSignature'
  | 'csrKeyTooWeak'
  | 'csrKeyTypeUnsupported'
  | 'csrSignatureAlgorithmUnsupported'
  | 'ocspMalformedRequest'
  | 'keyDecryptFailed'
  | 'certificateMalformed'
  | 'invalidArgument';

export class PkiError extends Error {
  override name = 'PkiError';
  constructor(
    readonly code: PkiErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isPkiError = (e: unknown, code?: PkiErrorCode): e is PkiError =>
  e instanceof PkiError && (code === undefined || e.code === code);
