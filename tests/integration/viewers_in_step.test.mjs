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
import { waitFor, Stack } from './lib/harness.mjs';
import { buildLongPath } from './lib/long_path.mjs';
import { readStampInPage } from './lib/stamp.mjs';

const DELAY_MS = 150;
// One frame at 30 fps: stamps one frame apart differ by 33 or 34 ms (whole
// milliseconds), and the camera's capture times jitter by a millisecond or two.
const ONE_FRAME_MS = 36;
// Two cameras capture at their own phases (a frame's worth apart at most), and a
// 60 Hz display shows each frame at its next refresh: at one moment, tiles in
// step may show stamps one frame and one refresh apart.
const TWO_CAMERAS_MS = ONE_FRAME_MS + 17;
// Each tile's typical delay from capture to display: in step, within half a frame.
const SAME_DELAY_MS = 16;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const CAMERA_ARGS = ['--width', '640', '--height', '360', '--fps', '30', '--bitrate', '800', '--stamp'];

// Runs in a page: for the tile of each camera in `cams`, every frame presented,
// with its display time (wall clock, ms), its stamp (lib/stamp.mjs) and the
// video's count of presented frames (a busy page may skip a callback: the frames
// it missed are not known, and the moments they were shown are not compared).
function recordStamps([cams, readerSrc]) {
  const read = new Function(`return (${readerSrc})`)();
  // Only the stamp's corner is copied out of each frame: the page has two videos to read.
  const corner = document.createElement('canvas');
  corner.width = 384;
  corner.height = 32;
  const ctx = corner.getContext('2d', { willReadFrequently: true });
  window.stepRec = {};
  for (const cam of cams) {
    const rec = [];
    window.stepRec[cam] = rec;
    let video = null;
    const follow = () => {
      const v = document.querySelector(`figure.tile[data-camera="${cam}"] video`);
      if (!v || v === video) return;
      video = v;
      const onFrame = (now, meta) => {
        if (v !== video) return;
        const at = performance.timeOrigin + (meta.expectedDisplayTime ?? now);
        ctx.drawImage(v, 0, 0, 384, 32, 0, 0, 384, 32);
        const s = read(corner);
        rec.push({ at, t: s ? s.t : null, n: meta.presentedFrames });
        v.requestVideoFrameCallback(onFrame);
      };
      v.requestVideoFrameCallback(onFrame);
    };
    follow();
    setInterval(follow, 250);
  }
}

const recorded = (page, cam) => page.evaluate((c) => window.stepRec[c].slice(), cam);

// The stamp (wall ms, unwrapped) shown at each moment from `from` to `to`, every
// 10 ms; null where not known (before the first frame, a frame without a
// readable stamp, or after a frame whose successor was presented unseen).
function shownStamps(rec, from, to) {
  const out = [];
  let i = 0;
  for (let t = from; t < to; t += 10) {
    while (i + 1 < rec.length && rec[i + 1].at <= t) i++;
    const unseenNext = i + 1 < rec.length && rec[i + 1].n > rec[i].n + 1;
    if (!rec.length || rec[i].at > t || rec[i].t === null || unseenNext) { out.push(null); continue; }
    const { at, t: stamp } = rec[i];
    let age = (Math.round(at) - stamp) % 4294967296;
    if (age < 0) age += 4294967296;
    if (age > 2147483648) age -= 4294967296;
    out.push(Math.round(at) - age);
  }
  return out;
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

// How far apart two recordings show their stamps over [from, to): the |difference|'s
// p50 and p95, the mean signed difference (how far one plays behind the other),
// and the share of moments more than one frame apart.
function apart(a, b, from, to) {
  const sa = shownStamps(a, from, to), sb = shownStamps(b, from, to);
  const d = sa.map((x, k) => (x === null || sb[k] === null ? null : x - sb[k])).filter((x) => x !== null);
  const abs = d.map(Math.abs);
  // Each tile's own delay, capture to display, frame by frame.
  const delays = (rec) => rec.filter((f) => f.at >= from && f.at < to && f.t !== null)
    .map((f) => { let age = (Math.round(f.at) - f.t) % 4294967296; if (age < 0) age += 4294967296; return age; });
  return {
    delays: [pct(delays(a), 50), pct(delays(b), 50)],
    p50: pct(abs, 50), p95: pct(abs, 95), n: d.length,
    mean: Math.round(d.reduce((s, x) => s + x, 0) / d.length),
    overOneFrame: abs.filter((x) => x > ONE_FRAME_MS).length / d.length,
  };
}
const said = (r) => `${r.p50} ms apart (p50), ${r.p95} (p95), ${r.mean} on average (delays ${r.delays.join(' and ')} ms), `
  + `${(100 * r.overOneFrame).toFixed(1)}% of ${r.n} moments more than a frame apart`;

// Records the tiles of `targets` ([page, camera] pairs) for `ms` and says how far
// apart the first two show their stamps.
async function measure(targets, ms) {
  const from = Date.now() + 500;
  await sleep(ms + 1000);
  const [a, b] = await Promise.all(targets.map(([page, cam]) => recorded(page, cam)));
  const stamped = (r) => r.filter((f) => f.at >= from && f.t !== null).length;
  assert.ok(stamped(a) > ms / 50 && stamped(b) > ms / 50, `too few stamped frames: ${stamped(a)}, ${stamped(b)}`);
  return apart(a, b, from, from + ms);
}

// Every tile of `page` says it plays in step (js/app.js's data-sync), then a few seconds to settle.
async function inStep(page, cams) {
  await waitFor('the tiles in step', () => page.evaluate((cs) => cs.every((c) =>
    document.querySelector(`figure.tile[data-camera="${c}"]`)?.dataset.sync === 'in-step'), cams), { timeout: 20000 });
  await sleep(4000);
}

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
    assert.ok(Math.abs(on.delays[0] - on.delays[1]) <= SAME_DELAY_MS, `in step, the tiles' delays: ${on.delays}`);
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
