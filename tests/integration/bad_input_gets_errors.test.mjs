// Bad input on either socket gets a clear error (or a close for oversized
// frames) and never disturbs anyone else: a page keeps playing throughout.
import assert from 'node:assert/strict';
import test from 'node:test';
import WebSocket from 'ws';
import { Stack, camera, getJson, startAgent, startRelay, waitFor } from './lib/harness.mjs';
import { startBrowser, tileState } from './lib/browser.mjs';
import { readStamp } from './lib/stamp.mjs';

// Opens a socket, sends each message, and collects what comes back.
async function exchange(url, messages, { settle = 300 } = {}) {
  const ws = new WebSocket(url);
  const got = [];
  let closed = null;
  ws.on('message', (d) => {
    const m = JSON.parse(String(d));
    if (m.type !== 'heartbeat') got.push(m);
  });
  ws.on('close', (code) => { closed = code; });
  await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  for (const m of messages) ws.send(m);
  await waitFor('replies', () => got.filter((m) => m.type === 'error').length >= messages.length || closed !== null,
    { timeout: 5000 }).catch(() => {});
  await new Promise((r) => setTimeout(r, settle));
  ws.close();
  return { got, closed };
}

test('bad input gets errors and nothing breaks', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack);
    await startAgent(stack, relay.port, 'cam', ['--width', '640', '--height', '480', '--stamp']);
    const browser = await startBrowser(stack);
    const page = await browser.open(`${relay.url}/view/cam`);
    await tileState(page, 'cam', 'live');
    const ws = `ws://127.0.0.1:${relay.port}`;

    const viewer = await exchange(`${ws}/ws/viewer`, [
      '{not json',
      '{"type":"launch"}',
      '{"type":"watch","ref":"r1","sdp":"x"}',
      JSON.stringify({ type: 'watch', ref: 'r2', camera: 'ghost', sdp: 'x' }),
      JSON.stringify({ type: 'stop', session: 'deadbeef' }),
      JSON.stringify({ type: 'ice', session: 's', candidate: 'c', sdp_mline_index: -4 }),
      JSON.stringify({ type: 'watch', ref: 'r3', camera: 'a/b/c', sdp: 'x' }),
    ]);
    const errors = viewer.got.filter((m) => m.type === 'error');
    assert.deepEqual(errors.map((e) => e.code),
      ['bad_message', 'unknown_type', 'bad_message', 'unknown_camera', 'unknown_session', 'bad_message', 'bad_message']);
    assert.match(errors[2].message, /field camera: missing/);
    // A refused request is named by its own ref (or session), so its sender can tie the error to it.
    assert.equal(errors[2].ref, 'r1');
    assert.equal(errors[3].ref, 'r2');
    assert.match(errors[5].message, /sdp_mline_index/);
    assert.equal(errors[5].session, 's');
    assert.match(errors[6].message, /field camera/);
    assert.equal(errors[6].ref, 'r3');
    assert.equal(viewer.closed, null, 'bad messages do not close the socket');

    // An oversized frame closes that socket, and only that one.
    const big = await exchange(`${ws}/ws/viewer`, ['x'.repeat(70 * 1024)]);
    assert.notEqual(big.closed, null, 'the oversized frame closed its socket');

    // An agent must say hello first; a forged answer for a foreign session is refused.
    const rude = await exchange(`${ws}/ws/agent`, [JSON.stringify({ type: 'answer', session: 'x', sdp: 'y' })]);
    assert.equal(rude.got[0]?.code, 'bad_message');
    assert.equal(rude.closed, 1008);
    const forger = await exchange(`${ws}/ws/agent`, [
      JSON.stringify({ type: 'hello', protocol: 1, agent: 'forger', cameras: [] }),
      JSON.stringify({ type: 'answer', session: 'not-mine', sdp: 'y' }),
    ]);
    assert.equal(forger.got.find((m) => m.type === 'error')?.code, 'unknown_session');

    // A page for a camera that does not exist says so and does not keep asking.
    const ghost = await browser.open(`${relay.url}/view/ghost`);
    await tileState(ghost, 'ghost', 'offline');
    const before = (await getJson(relay.port, '/healthz')).sessions;
    await new Promise((r) => setTimeout(r, 2500));  // longer than the page's retry delay
    assert.equal(await ghost.getAttribute('figure.tile', 'data-state'), 'offline');
    assert.equal((await getJson(relay.port, '/healthz')).sessions, before);
    assert.match(await ghost.textContent('figure.tile'), /not seen this camera/);

    // A page for an address that is no camera id says so on its tile, and does not keep asking.
    const invalid = await browser.open(`${relay.url}/view/a/b/c`);
    await tileState(invalid, 'a/b/c', 'refused');
    assert.match(await invalid.textContent('figure.tile'), /No such camera: 'a\/b\/c' is not a camera id/);
    assert.deepEqual(invalid.errors, []);

    // Through all of it the relay served, the camera stayed online and the page kept playing.
    assert.equal((await camera(relay.port, 'cam')).online, true);
    const video = 'figure.tile[data-camera="cam"] video';
    const a = await waitFor('a stamp', () => readStamp(page, video));
    await waitFor('the stamp to advance', async () => {
      const b = await readStamp(page, video);
      return b && b.t !== a.t;
    });
    assert.equal(await page.getAttribute('figure.tile', 'data-state'), 'live');
    assert.equal(await page.evaluate(() => window.sightline.relayConnects()), 1, 'the page never lost the relay');
  });
});
