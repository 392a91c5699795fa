import { sql, type Kysely } from 'kysely';

/**
 * A certificate's status only moves forward, whoever writes (DOMAIN.md: a hold is never released, a
 * revocation is final): good → onHold | revoked, onHold → revoked. The service refuses the rest with
 * 409 problems (services/certificate-status.ts); this is the database's guard behind it. The
 * trigger's WHEN clause is evaluated without calling the function, which only runs to refuse, so a
 * bulk revocation's set-wise UPDATE pays almost nothing for it. The CHECK on the values is NOT
 * VALID: existing rows are not scanned (they only ever held these three), new writes are checked.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE certificates ADD CONSTRAINT certificates_status_known CHECK (status IN ('good', 'onHold', 'revoked')) NOT VALID`.execute(db);
  await sql`
    CREATE FUNCTION refuse_certificate_status_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'certificate %: status % cannot become %', OLD.serial, OLD.status, NEW.status
        USING ERRCODE = 'check_violation', HINT = 'A hold is never released and a revocation is final.';
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER certificates_status_forward_only BEFORE UPDATE OF status ON certificates
    FOR EACH ROW
    WHEN (OLD.status <> NEW.status AND OLD.status <> 'good' AND NOT (OLD.status = 'onHold' AND NEW.status = 'revoked'))
    EXECUTE FUNCTION refuse_certificate_status_change()`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
