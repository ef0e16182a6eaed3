// Issue 21: viewers in step. Two places a long path apart (lib/long_path.mjs:
// 150 ms each way through a delay line): with "in step" on, every page plays each
// camera at the relay's sync-delay from capture, so
//  - two pages of one camera, one next to it and one across the long path, show
//    the same frame at the same moment (the stamp each shows, read from the
//    picture, sampled every 10 ms, at most one frame at 30 fps apart);
//  - two cameras in one grid, one next to the page and one across the path, too.
// Each case first plays with "in step" off and finds the pages (tiles) apart by
// about the path's delay: what the feature removes.
// Runs once (suite load), not under the sanitizers: it measures time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, waitFor } from './lib/harness.mjs';
import { buildLongPath } from './lib/long_path.mjs';
import { readStampInPage } from './lib/stamp.mjs';
import { ONE_FRAME_MS, inStep, measure, recordStamps, said } from './lib/in_step.mjs';

const DELAY_MS = 150;
// Two cameras capture at their own phases (a frame's worth apart at most), and a
// 60 Hz display shows each frame at its next refresh: at one moment, tiles in
// step may show stamps one frame and one refresh apart.
const TWO_CAMERAS_MS = ONE_FRAME_MS + 17;
// Each tile's typical delay from capture to display: in step, within half a frame.
const SAME_DELAY_MS = 16;
// Two cameras: each tile's frames land on the display's 60 Hz refreshes at their
// own camera's phase, so their typical delays differ by up to one refresh (16.7
// ms) on top of that (measured: 10, 11 and 18 ms in three runs).
const TWO_CAMERAS_SAME_DELAY_MS = 16 + 17;
const CAMERA_ARGS = ['--width', '640', '--height', '360', '--fps', '30', '--bitrate', '800', '--stamp'];

test('two pages of one camera, one across a long path, show the same moment when in step', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const path = await buildLongPath(stack, { delayMs: DELAY_MS, cameras: ['cam'] });
    await path.startCamera('near', 'cam', CAMERA_ARGS);
    const near = await path.startBrowser('near');
    const far = await path.startBrowser('far');
    const record = (page) => page.evaluate(recordStamps, [['cam'], readStampInPage.toString()]);

    // Not in step (the default): the far page shows what the near one showed ~150 ms before.
    const pages = [await near.open(path.url('/view/cam?sync=0')), await far.open(path.url('/view/cam?sync=0'))];
    for (const p of pages) await waitFor('live', () => p.evaluate(() => document.querySelector('figure.tile')?.dataset.state === 'live'));
    await Promise.all(pages.map(record));
    const off = await measure(pages.map((p) => [p, 'cam']), 6000);
    console.log(`not in step: the pages ${said(off)}`);
    assert.ok(off.p50 >= DELAY_MS - 50, `without sync the pages were only ${off.p50} ms apart: the path is not long`);
    await Promise.all(pages.map((p) => p.closeAll()));

    // In step: both at the relay's delay from capture.
    const synced = [await near.open(path.url('/view/cam?sync=1')), await far.open(path.url('/view/cam?sync=1'))];
    for (const p of synced) await inStep(p, ['cam']);
    await Promise.all(synced.map(record));
    const on = await measure(synced.map((p) => [p, 'cam']), 10000);
    const says = await synced[1].evaluate(() => document.querySelector('figure.tile .figures').textContent);
    console.log(`in step: the pages ${said(on)}; the far page says "${says}"`);
    assert.ok(on.p95 <= ONE_FRAME_MS, `in step, the pages were ${on.p95} ms apart (p95)`);
    assert.ok(Math.abs(on.delays[0] - on.delays[1]) <= SAME_DELAY_MS, `in step, the pages' delays: ${on.delays}`);
    assert.match(says, /in step \(400 ms\)/);
  });
});

test('two cameras in one grid, one across a long path, show the same moment when in step', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const path = await buildLongPath(stack, { delayMs: DELAY_MS, cameras: ['here', 'away'] });
    // The grid's page is far from 'away' and next to 'here'.
    await path.startCamera('far', 'here', CAMERA_ARGS);
    await path.startCamera('near', 'away', CAMERA_ARGS);
    const browser = await path.startBrowser('far');
    const record = (page) => page.evaluate(recordStamps, [['here', 'away'], readStampInPage.toString()]);
    const bothLive = (page) => waitFor('both tiles live', () => page.evaluate(() =>
      ['here', 'away'].every((c) => document.querySelector(`figure.tile[data-camera="${c}"]`)?.dataset.state === 'live')));

    const grid = await browser.open(path.url('/?sync=0'));
    await bothLive(grid);
    await record(grid);
    const off = await measure([[grid, 'here'], [grid, 'away']], 6000);
    console.log(`not in step: the tiles ${said(off)}`);
    assert.ok(off.p50 >= DELAY_MS - 50, `without sync the tiles were only ${off.p50} ms apart: the path is not long`);
    await grid.closeAll();

    const synced = await browser.open(path.url('/?sync=1'));
    await bothLive(synced);
    await inStep(synced, ['here', 'away']);
    await record(synced);
    const on = await measure([[synced, 'here'], [synced, 'away']], 10000);
    console.log(`in step: the tiles ${said(on)}`);
    assert.ok(on.p95 <= TWO_CAMERAS_MS, `in step, the tiles were ${on.p95} ms apart (p95)`);
    assert.ok(Math.abs(on.delays[0] - on.delays[1]) <= TWO_CAMERAS_SAME_DELAY_MS, `in step, the tiles' delays: ${on.delays}`);
    // The header's switch says so; turned off, the tiles play at once again, without a reload.
    assert.equal(await synced.evaluate(() => document.getElementById('sync').checked), true);
    await synced.click('#sync');
    await waitFor('the tiles to play without holding back', () => synced.evaluate(() =>
      [...document.querySelectorAll('figure.tile')].every((t) => t.dataset.state === 'live' && !t.dataset.sync)),
    { timeout: 15000 });
    const offAgain = await measure([[synced, 'here'], [synced, 'away']], 4000);
    console.log(`switched off: the tiles ${said(offAgain)}`);
    assert.ok(offAgain.delays[0] < 150, `switched off, the near camera still plays ${offAgain.delays[0]} ms late`);
    assert.equal(await synced.evaluate(() => localStorage.getItem('sightline.sync')), '0');
  });
});
