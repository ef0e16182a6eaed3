// Whether tiles play in step (issue 21, docs/playback-sync.md): what each tile
// shows, frame by frame (its display time and the stamp read from the picture,
// lib/stamp.mjs), and how far apart two tiles show their stamps at the same
// moments. For tests/integration/viewers_in_step.test.mjs and bench/sync.mjs.
import { waitFor } from './harness.mjs';

// One frame at 30 fps: stamps one frame apart differ by 33 or 34 ms (whole
// milliseconds), and the camera's capture times jitter by a millisecond or two.
export const ONE_FRAME_MS = 36;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Runs in a page: for the tile of each camera in `cams`, every frame presented,
// with its display time (wall clock, ms), its stamp (lib/stamp.mjs) and the
// video's count of presented frames (a busy page may skip a callback: the frames
// it missed are not known, and the moments they were shown are not compared).
export function recordStamps([cams, readerSrc]) {
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

export const recorded = (page, cam) => page.evaluate((c) => window.stepRec[c].slice(), cam);

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

export const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

// A tile's delays from capture to display over [from, to), frame by frame.
export function tileDelays(rec, from, to) {
  return rec.filter((f) => f.at >= from && f.at < to && f.t !== null).map((f) => {
    let age = (Math.round(f.at) - f.t) % 4294967296;
    if (age < 0) age += 4294967296;
    return age > 2147483648 ? age - 4294967296 : age;
  });
}

// How far apart two recordings show their stamps over [from, to): the |difference|'s
// p50 and p95, the mean signed difference (how far one plays behind the other),
// each tile's typical delay, and the share of moments more than one frame apart.
export function apart(a, b, from, to) {
  const sa = shownStamps(a, from, to), sb = shownStamps(b, from, to);
  const d = sa.map((x, k) => (x === null || sb[k] === null ? null : x - sb[k])).filter((x) => x !== null);
  const abs = d.map(Math.abs);
  return {
    delays: [pct(tileDelays(a, from, to), 50), pct(tileDelays(b, from, to), 50)],
    p50: pct(abs, 50), p95: pct(abs, 95), n: d.length,
    mean: Math.round(d.reduce((s, x) => s + x, 0) / d.length),
    overOneFrame: abs.filter((x) => x > ONE_FRAME_MS).length / d.length,
  };
}
export const said = (r) => `${r.p50} ms apart (p50), ${r.p95} (p95), ${r.mean} on average (delays ${r.delays.join(' and ')} ms), `
  + `${(100 * r.overOneFrame).toFixed(1)}% of ${r.n} moments more than a frame apart`;


// Records the tiles of `targets` ([page, camera] pairs) for `ms` and says how far
// apart the first two show their stamps.
export async function measure(targets, ms) {
  const from = Date.now() + 500;
  await sleep(ms + 1000);
  const [a, b] = await Promise.all(targets.map(([page, cam]) => recorded(page, cam)));
  const stamped = (r) => r.filter((f) => f.at >= from && f.t !== null).length;
  if (stamped(a) <= ms / 50 || stamped(b) <= ms / 50) throw new Error(`too few stamped frames: ${stamped(a)}, ${stamped(b)}`);
  return apart(a, b, from, from + ms);
}

// Every tile of `page` says it plays in step (js/app.js's data-sync), then a few seconds to settle.
export async function inStep(page, cams) {
  await waitFor('the tiles in step', () => page.evaluate((cs) => cs.every((c) =>
    document.querySelector(`figure.tile[data-camera="${c}"]`)?.dataset.sync === 'in-step'), cams), { timeout: 20000 });
  await sleep(4000);
}

