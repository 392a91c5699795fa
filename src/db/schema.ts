import type { ColumnType, Generated } from 'kysely';

/** One typed interface for every table (Kysely docs). `date` columns are 'YYYY-MM-DD' strings, int8 are strings. */
export interface Database {
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  idempotency_keys: IdempotencyKeysTable;
  residents: ResidentsTable;
  resident_events: ResidentEventsTable;
  cards: CardsTable;
  certificate_authorities: CertificateAuthoritiesTable;
  certificates: CertificatesTable;
  certificate_status_changes: CertificateStatusChangesTable;
  crls: CrlsTable;
  ocsp_responses: OcspResponsesTable;
  fee_schedules: FeeSchedulesTable;
  offices: OfficesTable;
  calendar_closures: CalendarClosuresTable;
  inquiries: InquiriesTable;
  inquiry_events: InquiryEventsTable;
  pin_procedures: PinProceduresTable;
}

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface ApiKeysTable {
  key_id: string;
  name: string;
  scopes: string[];
  secret_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface AuditLogTable {
  id: Generated<string>;
  at: Timestamp;
  key_id: string | null;
  action: string;
  resource: string;
  request_id: string | null;
  detail: ColumnType<Record<string, unknown> | null, string | null, never>;
  /** Chain links (migration 0006), written by appendAudit only. */
  prev_hash: ColumnType<string, never, never>;
  hash: ColumnType<string, never, never>;
}

export interface IdempotencyKeysTable {
  key_id: string;
  idempotency_key: string;
  method: string;
  path: string;
  request_hash: string;
  status_code: number | null;
  response_body: ColumnType<unknown, string | null, string | null>;
  created_at: Timestamp;
}

type Bytes = ColumnType<Uint8Array, Uint8Array, Uint8Array>;
type Json<T = unknown> = ColumnType<T, string, string>;

export interface ResidentsTable {
  resident_code: string;
  name: string;
  alias: string | null;
  address: string;
  date_of_birth: string;
  sex: string;
  adult_ward: ColumnType<boolean, boolean | undefined, boolean>;
  stay_until: string | null;
  /** active | movedOutAbroad | deceased */
  status: ColumnType<string, string | undefined, string>;
  /** domestic | abroadWithContinuedUse */
  residence: ColumnType<string, string | undefined, string>;
  registered_at: Timestamp;
  updated_at: Timestamp;
}

export interface ResidentEventsTable {
  event_id: string;
  resident_code: string;
  type: string;
  effective_at: Timestamp;
  received_at: Timestamp;
  data: Json<Record<string, unknown>>;
  request_hash: string;
  response: Json;
}

export interface CardsTable {
  card_id: string;
  resident_code: string;
  issued_on: string;
  expires_on: string;
  /** active | lost | abolished */
  status: string;
  stolen: ColumnType<boolean, boolean | undefined, boolean>;
  office_id: string;
  received_at: Timestamp;
  status_changed_at: Timestamp;
}

export interface CertificateAuthoritiesTable {
  ca_id: string;
  certificate: Bytes;
  encrypted_key: string;
  responder_certificate: Bytes;
  responder_encrypted_key: string;
  next_crl_number: ColumnType<string, string | number | undefined, string | number>;
  crl_stale_since: Timestamp | null;
  created_at: Timestamp;
  /** Status changes affecting the CRL so far (migration 0004); a regeneration clears staleness only if unchanged. */
  crl_changes: ColumnType<string, string | number | undefined, string | number>;
}

export interface CertificatesTable {
  serial: string;
  ca_id: string;
  kind: string;
  carrier: string;
  resident_code: string;
  card_id: string | null;
  device_id: string | null;
  procedure: string;
  not_before: Timestamp;
  not_after: Timestamp;
  expires_on: string;
  der: Bytes;
  /** good | onHold | revoked */
  status: string;
  revocation_reason: string | null;
  revoked_at: Timestamp | null;
  invalidity_date: Timestamp | null;
  issued_at: Timestamp;
}

export interface CertificateStatusChangesTable {
  id: Generated<string>;
  serial: string;
  status: string;
  reason: string | null;
  effective_at: Timestamp;
  recorded_at: Timestamp;
  /** what caused it: an event id, a request id, 'issuance' */
  cause: string;
}

export interface CrlsTable {
  ca_id: string;
  crl_number: ColumnType<string, string | number, string | number>;
  this_update: Timestamp;
  next_update: Timestamp;
  entry_count: number;
  der: Bytes;
}

export interface OcspResponsesTable {
  serial: string;
  ca_id: string;
  status: string;
  sha1_der: Bytes;
  /**
   * Signed with the SHA-1 one at every change and refresh. NULL only in rows written while it was
   * signed on request (migrations 0010 to 0013): the refresh signs those; nothing may write NULL.
   */
  sha256_der: ColumnType<Uint8Array | null, Uint8Array, Uint8Array>;
  this_update: Timestamp;
  next_update: Timestamp;
}

/** Fee schedules (migration 0003): `fees` is { [procedure]: [{ item, amount }] } in yen. */
export interface FeeSchedulesTable {
  effective_from: string;
  fees: Json<Record<string, { item: string; amount: number }[]>>;
  created_at: Timestamp;
}

/** Offices and counter hours as 'HH:MM' Japan wall-clock times (migration 0003). */
export interface OfficesTable {
  office_id: string;
  position: number;
  name: string;
  name_en: string;
  /** main | branch */
  kind: string;
  weekday_opens_at: string;
  weekday_closes_at: string;
  tuesday_opens_at: string;
  tuesday_closes_at: string;
  fourth_sunday_opens_at: string | null;
  fourth_sunday_closes_at: string | null;
}

/** Maintenance closures entered by staff; office_id null closes every office (migration 0003). */
export interface CalendarClosuresTable {
  id: Generated<string>;
  date: string;
  office_id: string | null;
  reason: ColumnType<string, string | undefined, string>;
  note: string | null;
  created_at: Timestamp;
}

/** Inquiry-letter cases (migration 0005); `version` is the ETag. */
export interface InquiriesTable {
  inquiry_id: string;
  seq: Generated<string>;
  resident_code: string;
  purpose: string;
  path: string;
  agent_kind: string;
  agent_name: string;
  agent_identity_document: string;
  agent_authority_document: string | null;
  office_id: string;
  opened_at: Timestamp;
  state: string;
  mailed_on: string | null;
  period_ends_on: string | null;
  due_on: string | null;
  registered_address: string | null;
  visit_count: ColumnType<number, number | undefined, number>;
  last_visit_outcome: string | null;
  version: ColumnType<number, number | undefined, number>;
  consumed_by: string | null;
  consumed_at: Timestamp | null;
  closed_reason: string | null;
  closed_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Every transition of a case with its actor; append-only (migration 0005). */
export interface InquiryEventsTable {
  id: Generated<string>;
  inquiry_id: string;
  at: Timestamp;
  action: string;
  from_state: string | null;
  to_state: string;
  outcome: string | null;
  key_id: string | null;
  request_id: string | null;
  details: Json<Record<string, unknown>>;
}

/** PIN resets and changes done at a counter (migration 0005); never a PIN value. */
export interface PinProceduresTable {
  procedure_id: string;
  card_id: string;
  resident_code: string;
  procedure: string;
  pin_kind: string;
  office_id: string;
  received_at: Timestamp;
  applicant_type: string;
  inquiry_id: string | null;
  identity_document: string | null;
  fee_total: number;
  recorded_at: Timestamp;
  key_id: string | null;
  request_id: string | null;
}
