import t from 'tap';
import { generalizedTime, integer, namedBits, oid, truncateToSeconds, x509Time } from '../../src/pki/der.js';
import { children, decodeOid, decodeTime, readOne } from '../../src/pki/der-read.js';

t.test('OIDs round-trip, including large arcs', async (t) => {
  for (const o of ['1.2.392.200149.8.5.5.4', '2.5.29.32', '1.3.6.1.5.5.7.48.1.5', '2.16.840.1.101.3.4.2.1']) {
    t.equal(decodeOid(readOne(oid(o))), o);
  }
  t.equal(oid('2.5.29.15').toString('hex'), '0603551d0f');
});

t.test('INTEGER is minimal two’s complement', async (t) => {
  t.equal(integer(0).toString('hex'), '020100');
  t.equal(integer(127).toString('hex'), '02017f');
  t.equal(integer(128).toString('hex'), '02020080');
  t.equal(integer(2n ** 64n).toString('hex'), '0209010000000000000000');
});

t.test('named bit strings drop trailing zero bits', async (t) => {
  t.equal(namedBits([0]).toString('hex'), '03020780', 'digitalSignature');
  t.equal(namedBits([0, 1]).toString('hex'), '030206c0', 'digitalSignature+nonRepudiation');
  t.equal(namedBits([5, 6]).toString('hex'), '03020106', 'keyCertSign+cRLSign');
});

t.test('times: whole seconds, UTCTime before 2050, GeneralizedTime after', async (t) => {
  const d = new Date('2049-12-31T23:59:59.987Z');
  t.equal(x509Time(d).toString('latin1', 2), '491231235959Z');
  t.equal(x509Time(d)[0], 0x17);
  const late = new Date('2050-01-01T00:00:00.500Z');
  t.equal(x509Time(late)[0], 0x18);
  t.equal(x509Time(late).toString('latin1', 2), '20500101000000Z');
  t.equal(generalizedTime(d).toString('latin1', 2), '20491231235959Z', 'no fractional seconds');
  t.same(truncateToSeconds(d), new Date('2049-12-31T23:59:59Z'));
  t.same(decodeTime(readOne(x509Time(d))), new Date('2049-12-31T23:59:59Z'));
});

t.test('the reader refuses non-DER input', async (t) => {
  t.throws(() => readOne(Buffer.from('3080020100' + '0000', 'hex')), /indefinite/);
  t.throws(() => readOne(Buffer.from('30810102', 'hex')), /non-minimal/);
  t.throws(() => readOne(Buffer.from('3003020100ff', 'hex')), /trailing|exceeds/);
  t.throws(() => readOne(Buffer.from('300502', 'hex')), /exceeds/);
  t.equal(children(readOne(Buffer.from('3006020101020102', 'hex'))).length, 2);
});
