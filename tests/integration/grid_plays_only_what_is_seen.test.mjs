// A grid plays only what someone sees: tiles scrolled off screen pause (their
// sessions end, so the agents drop those branches) and play again when scrolled
// back; every tile pauses when the tab stays hidden, and plays when it is shown.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Stack, camera, startAgent, startRelay, waitFor } from './lib/harness.mjs';
import { startBrowser } from './lib/browser.mjs';

const CAMERAS = ['cam-1', 'cam-2', 'cam-3'];

test('the grid plays only what is seen', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack);
    const agents = {};
    for (const id of CAMERAS) {
      agents[id] = await startAgent(stack, relay.port, id, ['--width', '320', '--height', '240', '--fps', '15']);
    }
    const browser = await startBrowser(stack);
    const grid = await browser.open('about:blank');
    await grid.setViewportSize({ width: 500, height: 300 });  // one column, one tile on screen
    await grid.goto(`${relay.url}/`);

    // Every tile's state and its camera's viewer count match what is on screen.
    const matches = async () => {
      const seen = await grid.evaluate(() => Object.fromEntries([...document.querySelectorAll('figure.tile')].map((f) => {
        const r = f.getBoundingClientRect();
        return [f.dataset.camera, { onScreen: r.bottom > 0 && r.top < innerHeight, state: f.dataset.state }];
      })));
      if (Object.keys(seen).length !== CAMERAS.length) return null;
      for (const id of CAMERAS) {
        const viewers = (await camera(relay.port, id)).viewers;
        if (seen[id].state !== (seen[id].onScreen ? 'live' : 'paused') || viewers !== (seen[id].onScreen ? 1 : 0)) return null;
      }
      return Object.keys(seen).filter((id) => seen[id].onScreen);
    };
    const top = await waitFor('tiles off screen to pause', matches, { timeout: 20000 });
    assert.equal(top.length, 1, `one tile on screen at the top: ${top}`);
    // A fleet's grid does not start what is not on screen, not even for a moment.
    for (const id of CAMERAS) {
      const started = (agents[id].output().match(/started for camera/g) || []).length;
      assert.equal(started, top.includes(id) ? 1 : 0, `sessions ${id}'s agent started`);
    }

    await grid.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    const bottom = await waitFor('the tiles scrolled to to play, the others to pause', async () => {
      const seen = await matches();
      return seen && seen.join() !== top.join() ? seen : null;
    }, { timeout: 20000 });
    assert.equal(bottom.length, 1, `one tile on screen at the bottom: ${bottom}`);

    // The tab hidden (another tab in front, the window minimised). Headless Chromium
    // always reports 'visible', so the page is told as a browser tells it: the
    // property and the event.
    const setVisibility = (state) => grid.evaluate((s) => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => s });
      document.dispatchEvent(new Event('visibilitychange'));
    }, state);
    await setVisibility('hidden');
    await waitFor('every tile of the hidden tab to pause', async () => {
      for (const id of CAMERAS) if ((await camera(relay.port, id)).viewers !== 0) return false;
      return grid.evaluate(() => [...document.querySelectorAll('figure.tile')].every((f) => f.dataset.state === 'paused'));
    }, { timeout: 20000 });
    await setVisibility('visible');
    await waitFor('the tile on screen to play again', async () => (await matches())?.join() === bottom.join(), { timeout: 20000 });
    assert.deepEqual(grid.errors, []);
  });
});
