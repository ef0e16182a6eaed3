// The last-resort encoder (VP8, for machines without any H.264 encoder) plays
// in the browser as well: the agent answers with the offer's VP8 payload type.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Stack, camera, startAgent, startRelay, waitFor } from './lib/harness.mjs';
import { startBrowser, tileState } from './lib/browser.mjs';
import { readStamp } from './lib/stamp.mjs';

test('vp8 encoder plays', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack);
    await startAgent(stack, relay.port, 'cam-vp8', ['--width', '640', '--height', '480', '--encoder', 'vp8enc', '--stamp']);
    const listed = await camera(relay.port, 'cam-vp8');
    assert.equal(listed.codec, 'VP8');
    assert.equal(listed.encoder, 'vp8enc');
    const browser = await startBrowser(stack);
    const page = await browser.open(`${relay.url}/view/cam-vp8`);
    await tileState(page, 'cam-vp8', 'live');
    const video = 'figure.tile[data-camera="cam-vp8"] video';
    const a = await waitFor('a stamp', () => readStamp(page, video));
    assert.deepEqual([a.width, a.height], [640, 480]);
    const figures = await waitFor('figures', () => page.evaluate(() => {
      const f = window.sightline.stats.get('cam-vp8');
      return f && f.codec ? f : null;
    }));
    assert.equal(figures.codec, 'VP8');
  });
});
