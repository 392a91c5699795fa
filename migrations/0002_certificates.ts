import { sql, type Kysely } from 'kysely';

/** Residents, cards, the two CAs and every certificate with its status history, CRLs and pre-signed OCSP. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('residents')
    .addColumn('resident_code', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('alias', 'text')
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('date_of_birth', 'date', (c) => c.notNull())
    .addColumn('sex', 'text', (c) => c.notNull())
    .addColumn('adult_ward', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('stay_until', 'date')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('residence', 'text', (c) => c.notNull().defaultTo('domestic'))
    .addColumn('registered_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();

  // Append-only, keyed by the caller's event id: a replay finds its first answer here.
  await db.schema
    .createTable('resident_events')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('resident_code', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('effective_at', 'timestamptz', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull())
    .addColumn('data', 'jsonb', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('response', 'jsonb', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('resident_events_resident').on('resident_events').columns(['resident_code', 'received_at', 'event_id']).execute();

  await db.schema
    .createTable('cards')
    .addColumn('card_id', 'text', (c) => c.primaryKey())
    .addColumn('resident_code', 'text', (c) => c.notNull().references('residents.resident_code'))
    .addColumn('issued_on', 'date', (c) => c.notNull())
    .addColumn('expires_on', 'date', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('stolen', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('office_id', 'text', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull())
    .addColumn('status_changed_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('cards_resident').on('cards').column('resident_code').execute();

  await db.schema
    .createTable('certificate_authorities')
    .addColumn('ca_id', 'text', (c) => c.primaryKey())
    .addColumn('certificate', 'bytea', (c) => c.notNull())
    .addColumn('encrypted_key', 'text', (c) => c.notNull())
    .addColumn('responder_certificate', 'bytea', (c) => c.notNull())
    .addColumn('responder_encrypted_key', 'text', (c) => c.notNull())
    .addColumn('next_crl_number', 'int8', (c) => c.notNull().defaultTo(1))
    // Set when a status change makes the current CRL stale; cleared by the regeneration that covers it.
    .addColumn('crl_stale_since', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('certificates')
    .addColumn('serial', 'text', (c) => c.primaryKey())
    .addColumn('ca_id', 'text', (c) => c.notNull().references('certificate_authorities.ca_id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('carrier', 'text', (c) => c.notNull())
    .addColumn('resident_code', 'text', (c) => c.notNull().references('residents.resident_code'))
    .addColumn('card_id', 'text', (c) => c.references('cards.card_id'))
    .addColumn('device_id', 'text')
    .addColumn('procedure', 'text', (c) => c.notNull())
    .addColumn('not_before', 'timestamptz', (c) => c.notNull())
    .addColumn('not_after', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_on', 'date', (c) => c.notNull())
    .addColumn('der', 'bytea', (c) => c.notNull())
    // Current status; the history, with effective times, is certificate_status_changes.
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('revocation_reason', 'text')
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('invalidity_date', 'timestamptz')
    .addColumn('issued_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('certificates_resident').on('certificates').columns(['resident_code', 'kind']).execute();
  await db.schema.createIndex('certificates_card').on('certificates').column('card_id').execute();
  await db.schema.createIndex('certificates_expires').on('certificates').column('expires_on').execute();
  await sql`CREATE INDEX certificates_crl ON certificates (ca_id, serial) WHERE status <> 'good'`.execute(db);

  await db.schema
    .createTable('certificate_status_changes')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('serial', 'text', (c) => c.notNull().references('certificates.serial'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('effective_at', 'timestamptz', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
    .addColumn('cause', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('certificate_status_changes_serial').on('certificate_status_changes').columns(['serial', 'effective_at']).execute();

  await db.schema
    .createTable('crls')
    .addColumn('ca_id', 'text', (c) => c.notNull().references('certificate_authorities.ca_id'))
    .addColumn('crl_number', 'int8', (c) => c.notNull())
    .addColumn('this_update', 'timestamptz', (c) => c.notNull())
    .addColumn('next_update', 'timestamptz', (c) => c.notNull())
    .addColumn('entry_count', 'integer', (c) => c.notNull())
    .addColumn('der', 'bytea', (c) => c.notNull())
    .addPrimaryKeyConstraint('crls_pk', ['ca_id', 'crl_number'])
    .execute();

  // Signed when the status changes, in the same transaction, and refreshed at half-life: never on the hot path.
  await db.schema
    .createTable('ocsp_responses')
    .addColumn('serial', 'text', (c) => c.primaryKey().references('certificates.serial'))
    .addColumn('ca_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('sha1_der', 'bytea', (c) => c.notNull())
    .addColumn('sha256_der', 'bytea', (c) => c.notNull())
    .addColumn('this_update', 'timestamptz', (c) => c.notNull())
    .addColumn('next_update', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ocsp_responses_next_update').on('ocsp_responses').column('next_update').execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
