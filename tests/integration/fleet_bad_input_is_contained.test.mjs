// Bad peers at fleet scale are cut off or limited, each with a log line, and
// nobody else notices: an agent that floods status, a page that asks for more
// cameras than a subscription may hold (and one whose request is too big to be
// a message at all), and a page that never reads its socket while figures for
// the 200 cameras it shows change every second. Meanwhile a well-behaved page
// keeps getting its updates, once a second, and every other agent stays; and
// SIGTERM still stops the relay within a second.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import test from 'node:test';
import WebSocket from 'ws';
import { Stack, getJson, startRelay, waitFor } from './lib/harness.mjs';

const AGENTS = 10;
const PER_AGENT = 20;  // 200 cameras; 20 statuses a second per agent stays under the 50/s limit
const cam = (a, i) => `cam-${a}-${String(i).padStart(2, '0')}`;

function open(url) {
  const ws = new WebSocket(url);
  ws.closedWith = null;
  ws.received = [];
  ws.on('close', (code) => { ws.closedWith = code; });
  ws.on('message', (d) => {
    const m = JSON.parse(String(d));
    if (m.type === 'heartbeat') ws.send('{"type":"heartbeat"}');
    ws.received.push(m);
  });
  ws.on('error', () => {});
  return new Promise((resolve, reject) => { ws.once('open', () => resolve(ws)); ws.once('error', reject); });
}

function rssKb(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

test('bad input at fleet scale is contained', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack, { args: ['--peer-queue-kb', '64'] });
    const ws = `ws://127.0.0.1:${relay.port}`;
    const agents = [];
    for (let a = 0; a < AGENTS; a++) {
      const agent = await open(`${ws}/ws/agent`);
      agent.send(JSON.stringify({ type: 'hello', protocol: 1, agent: `agent-${a}`, cameras: Array.from(
        { length: PER_AGENT }, (_, i) => ({ id: cam(a, i), width: 640, height: 480, fps: 15, codec: 'H264',
          source: 'test', encoder: 'x264enc' })) }));
      agents.push(agent);
    }
    await waitFor('200 cameras listed', async () => (await getJson(relay.port, '/api/cameras?limit=1')).total === 200);
    const ids = [];
    for (let a = 0; a < AGENTS; a++) for (let i = 0; i < PER_AGENT; i++) ids.push(cam(a, i));

    const good = await open(`${ws}/ws/viewer`);
    good.send(JSON.stringify({ type: 'subscribe', ref: 'g', ids }));
    const deaf = await open(`${ws}/ws/viewer`);
    deaf.send(JSON.stringify({ type: 'subscribe', ref: 'd', ids }));
    await waitFor('both subscribed', () => [good, deaf].every((p) => p.received.some((m) => m.type === 'cameras')));
    // From now on the deaf page reads nothing (it still says it is alive).
    deaf._socket.pause();
    const alive = setInterval(() => deaf.readyState === WebSocket.OPEN && deaf.send('{"type":"heartbeat"}'), 500);
    stack.onCleanup(async () => clearInterval(alive));

    // Figures for all 200 cameras change every second (bounded: 25 rounds).
    let round = 0;
    const figures = setInterval(() => {
      if (++round > 25) return clearInterval(figures);
      agents.forEach((agent, a) => {
        if (agent.readyState !== WebSocket.OPEN) return;
        for (let i = 0; i < PER_AGENT; i++) {
          agent.send(JSON.stringify({ type: 'status', camera: cam(a, i), branches: 0, fps: 10 + (round % 5),
            bitrate_kbps: 1000 + round * 10 + i, width: 640, height: 480 }));
        }
      });
    }, 1000);
    stack.onCleanup(async () => clearInterval(figures));
    const rssBefore = rssKb(relay.proc.pid);

    // An agent that floods status: cut off after its 50th message in a second.
    const flood = await open(`${ws}/ws/agent`);
    flood.send(JSON.stringify({ type: 'hello', protocol: 1, agent: 'flood', cameras: [{ id: 'flood', width: 1,
      height: 1, fps: 1, codec: 'H264', source: 'test', encoder: 'x' }] }));
    for (let i = 0; i < 500; i++) {
      flood.send(JSON.stringify({ type: 'status', camera: 'flood', branches: 0, fps: i % 30, bitrate_kbps: i,
        width: 1, height: 1 }));
    }
    await waitFor('the flooding agent closed', () => flood.closedWith !== null);
    assert.equal(flood.closedWith, 1008);

    // A page asking for 201 cameras: refused, with the reason; its first subscription stays.
    const greedy = await open(`${ws}/ws/viewer`);
    greedy.send(JSON.stringify({ type: 'subscribe', ref: 'few', ids: ids.slice(0, 3) }));
    greedy.send(JSON.stringify({ type: 'subscribe', ref: 'many', ids: [...ids, 'one-more'] }));
    await waitFor('the refusal', () => greedy.received.some((m) => m.type === 'error' && m.ref === 'many'));
    assert.equal(greedy.received.find((m) => m.ref === 'many').code, 'too_large');
    // 100,000 ids do not even make a message: the socket is cut off (1009, too big; or
    // 1006 when the close frame cannot reach a client still busy sending), with a log line.
    const huge = await open(`${ws}/ws/viewer`);
    huge.send(JSON.stringify({ type: 'subscribe', ids: Array.from({ length: 100000 }, (_, i) => `c${i}`) }));
    await waitFor('the oversized subscription cut off', () => huge.closedWith !== null);
    assert.ok([1006, 1009].includes(huge.closedWith), `closed with ${huge.closedWith}`);
    await waitFor('the log line', () => /viewer \d+ \(127\.0\.0\.1\): .*; closing it/.test(relay.proc.output()));

    // The deaf page's queue fills; its figure updates are dropped, and the relay says so.
    await waitFor('the deaf page noticed', () => /falls behind/.test(relay.proc.output()), { timeout: 25000 });
    await waitFor('the figures rounds over', () => round > 25, { timeout: 30000 });
    await new Promise((r) => setTimeout(r, 1500));

    // Nobody else noticed: the good page got its 200 cameras' updates about once a second.
    const updates = good.received.filter((m) => m.type === 'camera_update');
    const seen = new Set(updates.flatMap((m) => m.cameras.map((c) => c.id)));
    assert.equal(seen.size, 200, 'every camera of the good page was updated');
    assert.ok(updates.length >= 15 && updates.length <= 40, `${updates.length} updates in ~26 s: one a second`);
    const last = updates.at(-1).cameras.find((c) => c.id === cam(3, 7));
    assert.equal(last.bitrate_kbps, 1000 + 25 * 10 + 7, 'the latest figures arrived');
    // Every agent but the flooder is still here; the relay's memory did not grow with the deaf page's backlog.
    const health = await getJson(relay.port, '/healthz');
    assert.equal(health.agents, AGENTS);
    const grown = rssKb(relay.proc.pid) - rssBefore;
    assert.ok(grown < 10 * 1024, `relay RSS grew by ${grown} KB`);
    const metrics = await (await fetch(`${relay.url}/metrics`)).text();
    const dropped = Number(/^sightline_updates_dropped_total (\d+)/m.exec(metrics)[1]);
    assert.ok(dropped > 0, 'figure updates for the deaf page were dropped');
    const output = relay.proc.output();
    assert.match(output, /sent more than 50 messages in a second; closing/);
    assert.match(output, /subscribe refused: subscribe: 201 ids; at most 200/);
    assert.match(output, /falls behind \(\d+ bytes waiting\)/);
    assert.equal(greedy.closedWith, null, 'a refused subscription does not cost the page its socket');
    // SIGTERM stops it within a second, with every socket still open (the deaf page's backlog included).
    const asked = Date.now();
    const exit = await relay.proc.stop('SIGTERM');
    const took = Date.now() - asked;
    assert.equal(exit.code, 0);
    assert.ok(took <= 1000, `stopped ${took} ms after SIGTERM`);
    for (const p of [...agents, good, deaf, greedy]) p.terminate();
  });
});
