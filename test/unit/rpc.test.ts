// The one request/reply helper that the trainer client, the port engine, the compute bridge, the socket
// transport and the image worker share: ids, settling, failing everything at once, and timeouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallTimeoutError, PendingCalls } from '@shared/rpc';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('each request gets a fresh id, and settling that id answers that request only', async () => {
  const calls = new PendingCalls<string>();
  const sent: number[] = [];
  const first = calls.request((id) => sent.push(id));
  const second = calls.request((id) => sent.push(id));
  assert.equal(sent.length, 2);
  assert.notEqual(sent[0], sent[1]);
  assert.equal(calls.size, 2);
  assert.equal(calls.settle(sent[1]!, 'two'), true);
  assert.equal(calls.fail(sent[0]!, new Error('one failed')), true);
  assert.equal(await second, 'two');
  await assert.rejects(first, /one failed/);
  assert.equal(calls.size, 0);
});

test('an unknown or already settled id is refused and leaves the waiting calls alone', async () => {
  const calls = new PendingCalls<number>();
  let id = 0;
  const waiting = calls.request((given) => (id = given));
  assert.equal(calls.has(id), true);
  assert.equal(calls.settle(id + 100, 1), false);
  assert.equal(calls.fail(-1, new Error('nobody')), false);
  assert.equal(calls.size, 1);
  assert.equal(calls.settle(id, 7), true);
  assert.equal(calls.settle(id, 8), false, 'a second reply to the same id is not believed');
  assert.equal(calls.has(id), false);
  assert.equal(await waiting, 7);
});

test('a call keeps the context it was made with until it is settled', async () => {
  const calls = new PendingCalls<string, { type: string }>();
  let id = 0;
  const waiting = calls.request((given) => (id = given), { context: { type: 'logits' } });
  assert.deepEqual(calls.contextOf(id), { type: 'logits' });
  calls.settle(id, 'ok');
  await waiting;
  assert.equal(calls.contextOf(id), undefined);
});

test('failAll rejects every waiting call with the one error, and later calls still work', async () => {
  const calls = new PendingCalls<string>();
  const ids: number[] = [];
  const waiting = [calls.request((id) => ids.push(id)), calls.request((id) => ids.push(id))];
  const gone = new Error('the worker exited');
  calls.failAll(gone);
  assert.equal(calls.size, 0);
  for (const call of waiting) await assert.rejects(call, (e) => e === gone);
  assert.equal(calls.settle(ids[0]!, 'late'), false);
  let next = 0;
  const later = calls.request((id) => (next = id));
  calls.settle(next, 'fine');
  assert.equal(await later, 'fine');
});

test('a send that throws fails its own call and leaves nothing waiting', async () => {
  const calls = new PendingCalls<string>();
  await assert.rejects(
    calls.request(() => {
      throw new Error('the port is closed');
    }),
    /the port is closed/,
  );
  assert.equal(calls.size, 0);
});

test('a call not answered in time fails with CallTimeoutError; one answered in time does not', async () => {
  const calls = new PendingCalls<string>();
  const slow = calls.request(() => undefined, { timeoutMs: 20 });
  await assert.rejects(slow, (e) => e instanceof CallTimeoutError && /20 ms/.test(e.message));
  assert.equal(calls.size, 0);
  let id = 0;
  const quick = calls.request((given) => (id = given), { timeoutMs: 30 });
  calls.settle(id, 'in time');
  assert.equal(await quick, 'in time');
  await sleep(50); // the timer was cleared: nothing rejects late (an unhandled rejection would fail the test)
});

test('onTimeout decides what a timeout means: it may fail this call its own way, or everything', async () => {
  const calls = new PendingCalls<string>();
  const own = calls.request(() => undefined, { timeoutMs: 10, onTimeout: (id) => calls.fail(id, new Error(`request ${id} gave up`)) });
  await assert.rejects(own, /request \d+ gave up/);
  const broken = new Error('the page stopped answering');
  const other = calls.request(() => undefined);
  const timed = calls.request(() => undefined, { timeoutMs: 10, onTimeout: () => calls.failAll(broken) });
  await assert.rejects(timed, (e) => e === broken);
  await assert.rejects(other, (e) => e === broken);
  // An onTimeout that settles nothing still ends the call, with the default error.
  const ignored = calls.request(() => undefined, { timeoutMs: 10, onTimeout: () => undefined });
  await assert.rejects(ignored, CallTimeoutError);
});
