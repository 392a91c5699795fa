/**
 * The status benchmark's baseline: bare Fastify + pg, one route selecting one certificate row by
 * primary key (the same columns the service reads) and returning it as JSON. No auth, no schema,
 * no plugins. Run as its own process: `node --import=tsx bench/lib/bare-status-server.ts <port> <databaseUrl> <poolMax>`.
 */
import Fastify from 'fastify';
import pg from 'pg';

const [port, databaseUrl, poolMax] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: databaseUrl, max: Number(poolMax ?? 10) });
const app = Fastify();
app.get<{ Params: { serial: string } }>('/v1/certificates/:serial', async (req, reply) => {
  const { rows } = await pool.query(
    'SELECT serial, ca_id, kind, carrier, resident_code, card_id, device_id, procedure, not_before, not_after, expires_on, status, revocation_reason, revoked_at, invalidity_date, issued_at FROM certificates WHERE serial = $1',
    [req.params.serial],
  );
  if (!rows[0]) return reply.code(404).send({ status: 404 });
  return rows[0];
});
app.get('/health/ready', async () => ({ ok: true }));
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => pool.end()).then(() => process.exit(0)));
