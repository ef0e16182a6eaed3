// A viewer that goes away makes the agent remove that viewer's branch from its
// pipeline; the other viewer keeps playing.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Stack, camera, startAgent, startRelay, waitFor } from './lib/harness.mjs';
import { startBrowser, tileState } from './lib/browser.mjs';
import { readStamp } from './lib/stamp.mjs';

test('closing a page drops the agent branch', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack);
    // A slower heartbeat than the relay's (1 s): the agent answers the relay's own.
    await startAgent(stack, relay.port, 'cam', ['--width', '640', '--height', '480', '--stamp', '--heartbeat-interval', '5']);
    const browser = await startBrowser(stack);
    const stays = await browser.open(`${relay.url}/view/cam`);
    const leaves = await browser.open(`${relay.url}/view/cam`);
    await tileState(stays, 'cam', 'live');
    await tileState(leaves, 'cam', 'live');
    // The agent's own figure: live branches in its pipeline.
    await waitFor('2 branches', async () => (await camera(relay.port, 'cam')).branches === 2);

    await leaves.closeAll();
    const after = await waitFor('the agent to drop the branch', async () => {
      const c = await camera(relay.port, 'cam');
      return c.branches === 1 && c.viewers === 1 ? c : null;
    });
    assert.equal(after.online, true);

    // The remaining viewer still gets new frames.
    const video = 'figure.tile[data-camera="cam"] video';
    const a = await waitFor('a stamp', () => readStamp(stays, video));
    await waitFor('the stamp to advance', async () => {
      const b = await readStamp(stays, video);
      return b && b.t !== a.t;
    });
    await stays.closeAll();
    await waitFor('no branch left', async () => (await camera(relay.port, 'cam')).branches === 0);
    // Nobody was dropped as silent along the way.
    assert.equal(relay.proc.output().match(/camera cam online/g).length, 1, 'the agent stayed connected');
    assert.doesNotMatch(relay.proc.output(), /silent/);
  });
});
