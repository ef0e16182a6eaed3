// A peer whose socket stays open but who stops talking (a half-open link, a hung
// process) is dropped after three heartbeat intervals: its camera goes offline
// and a silent viewer's sessions end. The relay runs with a 1 s interval here.
import assert from 'node:assert/strict';
import test from 'node:test';
import WebSocket from 'ws';
import { Stack, camera, getJson, startRelay, waitFor } from './lib/harness.mjs';

function open(url) {
  const ws = new WebSocket(url);
  ws.closedWith = null;
  ws.on('close', (code) => { ws.closedWith = code; });
  return new Promise((resolve, reject) => { ws.on('open', () => resolve(ws)); ws.on('error', reject); });
}

test('silent peer is dropped', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack);
    const ws = `ws://127.0.0.1:${relay.port}`;
    // An "agent" that says hello and then never answers a heartbeat.
    const mute = await open(`${ws}/ws/agent`);
    mute.send(JSON.stringify({ type: 'hello', protocol: 1, agent: 'mute', cameras: [
      { id: 'mute', width: 640, height: 480, fps: 30, codec: 'H264', source: 'test', encoder: 'x264enc' }] }));
    await waitFor('camera online', async () => (await camera(relay.port, 'mute'))?.online);
    const viewer = await open(`${ws}/ws/viewer`);
    const online = Date.now();
    await waitFor('the silent agent to be dropped', async () => (await camera(relay.port, 'mute')).online === false,
      { timeout: 10000 });
    const after = Date.now() - online;
    assert.ok(after >= 2000, `dropped after ${after} ms, not before 3 intervals`);
    await waitFor('its socket closed', () => mute.closedWith !== null);
    assert.equal(mute.closedWith, 1001);
    // The silent viewer goes the same way.
    await waitFor('the silent viewer dropped', () => viewer.closedWith !== null);
    assert.equal((await getJson(relay.port, '/healthz')).viewers, 0);
    // A peer that answers heartbeats stays.
    const polite = await open(`${ws}/ws/viewer`);
    polite.on('message', (d) => { if (JSON.parse(String(d)).type === 'heartbeat') polite.send('{"type":"heartbeat"}'); });
    await new Promise((r) => setTimeout(r, 4500));
    assert.equal(polite.closedWith, null);
    assert.equal((await getJson(relay.port, '/healthz')).viewers, 1);
    polite.close();
  });
});
