// under-pressure sheds load when the event loop lags: with MAX_EVENT_LOOP_DELAY_MS=50, after the loop
// has been blocked for ~1.5 s a few times (under-pressure samples the delay histogram once a second),
// a request is answered 503 problem+json `overloaded` with Retry-After, and the service recovers.
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { testApp } from '../support/app.js';

function blockEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: nothing else may run
  }
}

t.test('event-loop lag over MAX_EVENT_LOOP_DELAY_MS: 503 overloaded with Retry-After, then recovery', async (t) => {
  const h = await testApp(t, { MAX_EVENT_LOOP_DELAY_MS: '50' });
  const url = '/v1/certificates/0123456789abcdef';
  let shed: Awaited<ReturnType<typeof h.request>> | undefined;
  for (let round = 0; round < 5 && !shed; round++) {
    blockEventLoop(1500);
    // Let the overdue sampling timer run, then ask.
    await sleep(20);
    const res = await h.request({ method: 'GET', url });
    if (res.statusCode === 503) shed = res;
  }
  t.ok(shed, 'a request was shed while the loop lagged');
  if (!shed) return;
  t.match(shed.headers['content-type'], /application\/problem\+json/);
  t.equal(shed.headers['retry-after'], '5');
  t.match(shed.json(), { status: 503, type: 'urn:jpki-ward:problem:overloaded' });

  // Once the loop is idle again for a few samples, requests go through (404: no such certificate).
  let status = 503;
  for (let i = 0; i < 30 && status === 503; i++) {
    await sleep(500);
    status = (await h.request({ method: 'GET', url })).statusCode;
  }
  t.equal(status, 404, 'answered normally again after the lag ended');
});
