// Viewers joining and leaving fast, several at once, must not stall or crash
// the camera's shared pipeline: a viewer that stays keeps getting new frames.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Stack, camera, startAgent, startRelay, waitFor } from './lib/harness.mjs';
import { startBrowser, tileState } from './lib/browser.mjs';
import { readStamp } from './lib/stamp.mjs';

const ROUNDS = 3;
const PAGES_PER_ROUND = 4;

test('viewer churn keeps the camera running', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    // The camera's own pipeline under churn: every viewer direct (no fan-out,
    // docs/fanout.md; the relay's workers churn the same way behind it).
    const relay = await startRelay(stack, { args: ['--fanout', 'direct'] });
    const agent = await startAgent(stack, relay.port, 'cam', ['--width', '640', '--height', '480', '--stamp']);
    const browser = await startBrowser(stack);
    const stays = await browser.open(`${relay.url}/view/cam`);
    await tileState(stays, 'cam', 'live');
    const video = 'figure.tile[data-camera="cam"] video';

    for (let round = 0; round < ROUNDS; round++) {
      const pages = await Promise.all(Array.from({ length: PAGES_PER_ROUND }, () => browser.open(`${relay.url}/view/cam`)));
      await Promise.all(pages.map((p) => tileState(p, 'cam', 'live')));
      await waitFor(`${PAGES_PER_ROUND + 1} branches`, async () => (await camera(relay.port, 'cam')).branches === PAGES_PER_ROUND + 1);
      // Leave all at once.
      await Promise.all(pages.map((p) => p.closeAll()));
      await waitFor('back to 1 branch', async () => (await camera(relay.port, 'cam')).branches === 1);
      const a = await waitFor('a stamp', () => readStamp(stays, video));
      await waitFor('the stamp to advance', async () => {
        const b = await readStamp(stays, video);
        return b && b.t !== a.t;
      });
    }
    assert.equal(agent.exited, null, 'the agent is still running');
    assert.equal(await stays.getAttribute('figure.tile', 'data-state'), 'live');
    assert.equal(await stays.evaluate(() => window.sightline.relayConnects()), 1, 'the staying page never lost the relay');
  });
});
