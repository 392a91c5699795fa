// X.501 Names as plain data. Each attribute gets its own RDN SET (a single
// multi-valued RDN would print as "C=JP + O=..." and break name matching), and
// countryName is a PrintableString as RFC 5280 requires.
import { oid, printable, seq, set, utf8 } from './der.js';
import { OID } from './oids.js';

export type NameAttributeType = 'C' | 'O' | 'OU' | 'CN';
export type DistinguishedName = ReadonlyArray<readonly [NameAttributeType, string]>;

const TYPE_OID: Record<NameAttributeType, string> = {
  C: OID.countryName,
  O: OID.organizationName,
  OU: OID.organizationalUnitName,
  CN: OID.commonName,
};

export function encodeName(name: DistinguishedName): Buffer {
  return seq(
    ...name.map(([type, value]) => set(seq(oid(TYPE_OID[type]), type === 'C' ? printable(value) : utf8(value)))),
  );
}

/** "C=JP, O=JPKI-TEST, ..." for logs and messages. */
export const formatName = (name: DistinguishedName): string => name.map(([t, v]) => `${t}=${v}`).join(', ');
