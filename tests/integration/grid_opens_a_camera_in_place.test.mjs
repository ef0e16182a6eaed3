// Clicking a camera in the grid shows it large at once: the tile keeps playing
// on the same session (nothing renegotiated, the agent keeps its branch), the
// other tiles' sessions end (their agents drop those branches), the address is
// /view/<id> and the control panel is there. Back shows the whole grid again.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Stack, camera, startAgent, startRelay, waitFor } from './lib/harness.mjs';
import { startBrowser, tileState } from './lib/browser.mjs';
import { nowT, readStamp } from './lib/stamp.mjs';

test('the grid opens a camera in place', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack);
    await startAgent(stack, relay.port, 'cam-a', ['--width', '640', '--height', '480', '--stamp']);
    await startAgent(stack, relay.port, 'cam-b', ['--width', '480', '--height', '360', '--stamp']);
    const browser = await startBrowser(stack);
    const grid = await browser.open(`${relay.url}/`);
    await tileState(grid, 'cam-a', 'live');
    await tileState(grid, 'cam-b', 'live');
    await waitFor('one viewer on each camera', async () =>
      (await camera(relay.port, 'cam-a')).viewers === 1 && (await camera(relay.port, 'cam-b')).viewers === 1);

    // Mark cam-a's peer connection, so that "the same one" is checked, not assumed.
    const before = await grid.evaluate(() => {
      const s = window.sightline.sessions.get('cam-a');
      s.pc.marked = true;
      return s.session;
    });
    await grid.click('figure.tile[data-camera="cam-a"] a.name');
    await grid.waitForURL(/\/view\/cam-a$/);
    const after = await grid.evaluate(() => {
      const s = window.sightline.sessions.get('cam-a');
      return { session: s.session, marked: s.pc?.marked === true, state: s.state,
        tiles: [...document.querySelectorAll('figure.tile')].map((f) => f.dataset.camera) };
    });
    assert.equal(after.session, before, 'cam-a keeps its session');
    assert.ok(after.marked, 'cam-a keeps its peer connection');
    assert.equal(after.state, 'live');
    assert.deepEqual(after.tiles, ['cam-a'], 'only cam-a is shown');

    // cam-b's session ends on both ends; cam-a keeps exactly its one viewer.
    await waitFor('cam-b to have no viewer', async () => (await camera(relay.port, 'cam-b')).viewers === 0);
    assert.equal((await camera(relay.port, 'cam-a')).viewers, 1, 'no second session for cam-a');

    // The picture goes on: cam-a's stamps, fresh and advancing, at its size.
    const video = 'figure.tile[data-camera="cam-a"] video';
    const first = await waitFor('a stamp from cam-a', () => readStamp(grid, video));
    assert.deepEqual([first.width, first.height], [640, 480]);
    assert.ok(((nowT() - first.t) >>> 0) < 5000, 'the stamp is fresh');
    await waitFor('cam-a\'s stamp to advance', async () => {
      const later = await readStamp(grid, video);
      return later && ((later.t - first.t) >>> 0) > 0 && ((later.t - first.t) >>> 0) < 60000;
    });

    // The view's control panel works on this page: a command gets its answer.
    await grid.waitForSelector('form[data-command="force_keyframe"]');
    await grid.click('form[data-command="force_keyframe"] button');
    // No broker in this test: the relay answers 'unavailable', through this page's socket.
    await grid.waitForSelector('#command-log li[data-command="force_keyframe"][data-status="error"][data-code="unavailable"]',
      { timeout: 15000 });
    assert.equal(await grid.title(), 'cam-a · Sightline');

    // Back: the grid again, both cameras live.
    await grid.goBack();
    await grid.waitForURL(/\/$/);
    await tileState(grid, 'cam-a', 'live');
    await tileState(grid, 'cam-b', 'live');
    assert.equal(await grid.locator('#control').count(), 0, 'no control panel on the grid');
    assert.deepEqual(grid.errors, []);
  });
});
