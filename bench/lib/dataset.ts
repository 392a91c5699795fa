/**
 * Fast benchmark datasets, written straight into a migrated database (the two CAs must exist):
 * N residents, each with an active card and both card certificates (signature and user
 * authentication), and their status history. 5 % of the certificates are revoked with mixed
 * reasons, and the rows agree with each other: `certificates.status/revocation_reason/revoked_at/
 * invalidity_date` match the last row of `certificate_status_changes` (a `good` row at notBefore for
 * every certificate, a `revoked` row at the invalidity date for the revoked ones).
 *
 * Rows are made by PostgreSQL itself (`INSERT … SELECT … FROM generate_series`, in chunks), not one
 * API call per row. Secondary indexes are dropped during the load and rebuilt after it, and foreign
 * keys are not checked row by row (session_replication_role = replica): the generator makes them
 * hold by construction. The `der` column holds a placeholder, not a certificate: status benchmarks
 * never read it.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';

export interface Dataset {
  residents: number;
  certificates: number;
  revoked: number;
  ms: number;
}

/** Reasons cycled over the revoked certificates (RFC 5280 names, as the service stores them). */
export const REVOCATION_REASONS = ['affiliationChanged', 'keyCompromise', 'cessationOfOperation', 'superseded'] as const;

/** The serial of resident i's certificate of one kind: 32 hex digits, first one 0–7 (a positive 16-byte INTEGER). */
export function datasetSerial(i: number, kind: 'signature' | 'userAuthentication'): string {
  // Mirrors serialSql below; the benchmarks pick random serials without reading them back.
  const h = createHash('md5').update(`${kind === 'signature' ? 'sig' : 'ua'}:${i}`).digest('hex');
  return (parseInt(h[0]!, 16) & 7).toString(16) + h.slice(1);
}

const serialSql = (kind: string, i: string) => `(to_hex((('x' || substr(md5('${kind}:' || ${i}), 1, 1))::bit(4)::int & 7)) || substr(md5('${kind}:' || ${i}), 2))`;

/**
 * Residents firstResident..residents (1-based; call again with a higher firstResident to grow a
 * dataset). Resident i has serials serialSql('sig', i) and serialSql('ua', i). Revoked: the
 * signature certificate when i % 20 = 0, the user-authentication one when i % 20 = 10 (5 % of all
 * certificates), reason REVOCATION_REASONS[(i / 10) % 4].
 */
export async function generateDataset(databaseUrl: string, residents: number, log: (s: string) => void = () => {}, firstResident = 1): Promise<Dataset> {
  const t0 = performance.now();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("SET session_replication_role = replica; SET maintenance_work_mem = '256MB'; SET synchronous_commit = off");
    const tables = ['residents', 'cards', 'certificates', 'certificate_status_changes'];
    const indexes = (
      await client.query<{ indexname: string; indexdef: string }>(
        `SELECT i.indexname, i.indexdef FROM pg_indexes i
         WHERE i.schemaname = 'public' AND i.tablename = ANY($1)
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
        [tables],
      )
    ).rows;
    for (const ix of indexes) await client.query(`DROP INDEX "${ix.indexname}"`);

    const reasons = `(ARRAY[${REVOCATION_REASONS.map((r) => `'${r}'`).join(',')}])[((i / 10) % 4) + 1]`;
    const CHUNK = 100_000;
    for (let from = firstResident; from <= residents; from += CHUNK) {
      const to = Math.min(residents, from + CHUNK - 1);
      const series = `generate_series(${from}, ${to}) AS i`;
      await client.query('BEGIN');
      await client.query(`
        INSERT INTO residents (resident_code, name, alias, address, date_of_birth, sex, adult_ward, stay_until, status, residence, registered_at, updated_at)
        SELECT 'B' || lpad(i::text, 9, '0'), 'ベンチ 太郎' || i, NULL, '東京都新宿区西新宿' || (i % 9999) || '-' || (i % 97),
               DATE '1950-01-01' + (i % 20000), CASE WHEN i % 2 = 0 THEN 'male' ELSE 'female' END, false, NULL, 'active', 'domestic',
               now() - interval '400 days', now() - interval '400 days'
        FROM ${series}`);
      await client.query(`
        INSERT INTO cards (card_id, resident_code, issued_on, expires_on, status, stolen, office_id, received_at, status_changed_at)
        SELECT 'card_' || lpad(to_hex(i), 16, '0'), 'B' || lpad(i::text, 9, '0'), (now() - interval '1 day' * (i % 365) - interval '2 days')::date,
               (now() + interval '9 years')::date, 'active', false, 'main', now() - interval '1 day' * (i % 365) - interval '2 days', now() - interval '1 day' * (i % 365) - interval '2 days'
        FROM ${series}`);
      for (const [tag, kind, revokedWhen] of [['sig', 'signature', 0], ['ua', 'userAuthentication', 10]] as const) {
        const revoked = `(i % 20 = ${revokedWhen})`;
        const notBefore = `(date_trunc('second', now()) - interval '1 day' * (i % 365) - interval '1 day')`;
        const revokedAt = `(date_trunc('second', now()) - interval '1 hour' * (i % 24) - interval '1 hour')`;
        await client.query(`
          INSERT INTO certificates (serial, ca_id, kind, carrier, resident_code, card_id, device_id, procedure, not_before, not_after, expires_on, der,
                                    status, revocation_reason, revoked_at, invalidity_date, issued_at)
          SELECT ${serialSql(tag, 'i')}, '${kind}', '${kind}', 'card', 'B' || lpad(i::text, 9, '0'), 'card_' || lpad(to_hex(i), 16, '0'), NULL, 'initial',
                 ${notBefore}, ${notBefore} + interval '5 years', (${notBefore} + interval '5 years')::date, '\\x00'::bytea,
                 CASE WHEN ${revoked} THEN 'revoked' ELSE 'good' END, CASE WHEN ${revoked} THEN ${reasons} END,
                 CASE WHEN ${revoked} THEN ${revokedAt} END, CASE WHEN ${revoked} THEN ${revokedAt} - interval '30 minutes' END, ${notBefore}
          FROM ${series}`);
        await client.query(`
          INSERT INTO certificate_status_changes (serial, status, reason, effective_at, recorded_at, cause)
          SELECT ${serialSql(tag, 'i')}, 'good', NULL, ${notBefore}, ${notBefore}, 'issuance' FROM ${series}`);
        await client.query(`
          INSERT INTO certificate_status_changes (serial, status, reason, effective_at, recorded_at, cause)
          SELECT ${serialSql(tag, 'i')}, 'revoked', ${reasons}, ${revokedAt} - interval '30 minutes', ${revokedAt}, 'bench-dataset'
          FROM ${series} WHERE ${revoked}`);
      }
      await client.query('COMMIT');
      log(`dataset: ${to}/${residents} residents (${Math.round(performance.now() - t0)} ms)`);
    }
    for (const ix of indexes) await client.query(ix.indexdef);
    // CRLs and pre-signed OCSP answers are not made for these rows: the status benchmarks do not read them.
    await client.query('SET session_replication_role = origin');
    await client.query(`ANALYZE ${tables.join(', ')}`);
    const revoked = Number((await client.query<{ n: string }>("SELECT count(*) AS n FROM certificates WHERE status = 'revoked'")).rows[0]!.n);
    return { residents, certificates: 2 * residents, revoked, ms: Math.round(performance.now() - t0) };
  } finally {
    await client.end();
  }
}
