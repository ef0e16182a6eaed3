// An agent that dies shows as offline in the grid and the camera list, and
// comes back live by itself when it is started again.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Stack, camera, startAgent, startRelay, waitFor } from './lib/harness.mjs';
import { startBrowser, tileState } from './lib/browser.mjs';

test('killed agent shows offline', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack);
    const agent = await startAgent(stack, relay.port, 'cam-k', ['--width', '640', '--height', '480']);
    await startAgent(stack, relay.port, 'cam-other', ['--width', '640', '--height', '480']);
    const browser = await startBrowser(stack);
    const grid = await browser.open(`${relay.url}/`);
    await tileState(grid, 'cam-k', 'live');
    await tileState(grid, 'cam-other', 'live');

    await stack.kill(agent);
    await tileState(grid, 'cam-k', 'offline');
    const listed = await camera(relay.port, 'cam-k');
    assert.equal(listed.online, false, 'the camera list says offline');
    assert.equal(listed.viewers, 0);
    // The other camera is not disturbed.
    assert.equal(await grid.getAttribute('figure.tile[data-camera="cam-other"]', 'data-state'), 'live');

    await startAgent(stack, relay.port, 'cam-k', ['--width', '640', '--height', '480']);
    await tileState(grid, 'cam-k', 'live');
    assert.deepEqual(grid.errors, []);
  });
});
