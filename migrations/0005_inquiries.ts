import { sql, type Kysely } from 'kysely';

/**
 * Proxy procedures (issue 8): inquiry-letter cases (照会書兼回答書) with their append-only history,
 * and the PIN resets and changes done at the counter. No PIN value is stored anywhere.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('inquiries')
    .addColumn('inquiry_id', 'text', (c) => c.primaryKey())
    // Listing order and cursor.
    .addColumn('seq', 'bigserial', (c) => c.notNull().unique())
    .addColumn('resident_code', 'text', (c) => c.notNull().references('residents.resident_code'))
    .addColumn('purpose', 'text', (c) => c.notNull().check(sql`purpose IN ('certificateIssuance', 'certificateRenewal', 'pinReset', 'pinChange')`))
    .addColumn('path', 'text', (c) => c.notNull().check(sql`path IN ('withLetter', 'withoutLetter')`))
    .addColumn('agent_kind', 'text', (c) => c.notNull().check(sql`agent_kind IN ('legalRepresentative', 'voluntary')`))
    .addColumn('agent_name', 'text', (c) => c.notNull())
    .addColumn('agent_identity_document', 'text', (c) => c.notNull())
    .addColumn('agent_authority_document', 'text')
    .addColumn('office_id', 'text', (c) => c.notNull().references('offices.office_id'))
    .addColumn('opened_at', 'timestamptz', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state IN ('awaitingMailing', 'mailed', 'awaitingVisit', 'completed', 'consumed', 'expired', 'cancelled')`))
    .addColumn('mailed_on', 'date')
    .addColumn('period_ends_on', 'date')
    .addColumn('due_on', 'date')
    // The registered address the letter went to (never forwarded).
    .addColumn('registered_address', 'text')
    .addColumn('visit_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_visit_outcome', 'text')
    // Incremented by every change; the ETag.
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('consumed_by', 'text')
    .addColumn('consumed_at', 'timestamptz')
    .addColumn('closed_reason', 'text')
    .addColumn('closed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addCheckConstraint('inquiries_agent_authority', sql`agent_kind <> 'legalRepresentative' OR agent_authority_document IS NOT NULL`)
    .addCheckConstraint('inquiries_mailed_due', sql`(mailed_on IS NULL) = (due_on IS NULL)`)
    .execute();
  await db.schema.createIndex('inquiries_resident').on('inquiries').columns(['resident_code', 'seq']).execute();
  await db.schema.createIndex('inquiries_state_due').on('inquiries').columns(['state', 'due_on']).execute();

  // Every transition with its actor; append-only like audit_log.
  await db.schema
    .createTable('inquiry_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('inquiry_id', 'text', (c) => c.notNull().references('inquiries.inquiry_id'))
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('from_state', 'text')
    .addColumn('to_state', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text')
    .addColumn('key_id', 'text')
    .addColumn('request_id', 'text')
    .addColumn('details', 'jsonb', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('inquiry_events_inquiry').on('inquiry_events').columns(['inquiry_id', 'id']).execute();
  await sql`
    CREATE FUNCTION inquiry_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'inquiry_events is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER inquiry_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON inquiry_events
    FOR EACH STATEMENT EXECUTE FUNCTION inquiry_events_append_only()`.execute(db);

  // PIN resets (ロック解除・再設定) and changes at the counter: the procedure, never the PIN.
  await db.schema
    .createTable('pin_procedures')
    .addColumn('procedure_id', 'text', (c) => c.primaryKey())
    .addColumn('card_id', 'text', (c) => c.notNull().references('cards.card_id'))
    .addColumn('resident_code', 'text', (c) => c.notNull().references('residents.resident_code'))
    .addColumn('procedure', 'text', (c) => c.notNull().check(sql`procedure IN ('pinReset', 'pinChange')`))
    .addColumn('pin_kind', 'text', (c) => c.notNull())
    .addColumn('office_id', 'text', (c) => c.notNull().references('offices.office_id'))
    .addColumn('received_at', 'timestamptz', (c) => c.notNull())
    .addColumn('applicant_type', 'text', (c) => c.notNull())
    .addColumn('inquiry_id', 'text', (c) => c.references('inquiries.inquiry_id'))
    .addColumn('identity_document', 'text')
    .addColumn('fee_total', 'integer', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
    .addColumn('key_id', 'text')
    .addColumn('request_id', 'text')
    .execute();
  await db.schema.createIndex('pin_procedures_card').on('pin_procedures').columns(['card_id', 'recorded_at']).execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
