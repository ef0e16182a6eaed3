// The relay restarts: agents reconnect by themselves, and open pages play again
// without a reload.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Stack, camera, startAgent, startRelay, waitFor } from './lib/harness.mjs';
import { startBrowser, tileState } from './lib/browser.mjs';
import { readStamp } from './lib/stamp.mjs';

test('relay restart reconnects agents and pages', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack);
    await startAgent(stack, relay.port, 'cam-1', ['--width', '640', '--height', '480', '--stamp']);
    await startAgent(stack, relay.port, 'cam-2', ['--width', '640', '--height', '480', '--stamp']);
    const browser = await startBrowser(stack);
    const grid = await browser.open(`${relay.url}/`);
    const view = await browser.open(`${relay.url}/view/cam-1`);
    await tileState(grid, 'cam-1', 'live');
    await tileState(grid, 'cam-2', 'live');
    await tileState(view, 'cam-1', 'live');
    const video = 'figure.tile[data-camera="cam-1"] video';
    const before = await waitFor('a stamp before the restart', () => readStamp(view, video));

    await stack.kill(relay.proc);
    await waitFor('the page to notice', async () => (await view.evaluate(() => document.body.dataset.relay)) === 'reconnecting');
    assert.equal(await view.isVisible('#banner'), true, 'the page says the relay is unreachable');

    await startRelay(stack, { port: relay.port, name: 'relay (restarted)' });
    await waitFor('both agents back', async () => (await camera(relay.port, 'cam-1'))?.online
      && (await camera(relay.port, 'cam-2'))?.online, { timeout: 20000 });
    for (const [page, cam] of [[grid, 'cam-1'], [grid, 'cam-2'], [view, 'cam-1']]) {
      await waitFor(`${cam} live again`, async () => (await page.evaluate(() => document.body.dataset.relay)) === 'connected');
      await tileState(page, cam, 'live', 20000);
    }
    // New frames, taken after the restart.
    await waitFor('frames newer than before the restart', async () => {
      const now = await readStamp(view, video);
      return now && ((now.t - before.t) >>> 0) > 0 && ((now.t - before.t) >>> 0) < 120000;
    });
    assert.equal(await view.isVisible('#banner'), false);
    assert.deepEqual(view.errors, []);
  });
});
