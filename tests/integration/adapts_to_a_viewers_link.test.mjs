// Issue 20: the camera adapts to a viewer's link. Camera and viewer in network
// namespaces joined through a router, the viewer's side shaped (lib/shaped.mjs):
// a tbf rate with a 200 ms queue, random loss from nftables. The camera sends
// 1280x720@30 at most 2000 kbit/s; the agent estimates the viewer's path from its
// transport-cc feedback (GCC) and sets the encoder for it.
//  - capped at 1 Mbit/s: the encoder goes under the cap within 10 s of the first
//    frame; over the next minute freezes are at most 2% of the time and the stamp
//    latency's p95 at most 300 ms; the second minute's median latency is within
//    50 ms of the first's (no queue creeping up);
//  - the cap lifted: full quality again (the encoder back at its 2000 kbit/s, the
//    page receiving at least 80% of it) within 15 s;
//  - 5% of the packets lost both ways: at least 25 fps decoded, no frame held
//    longer than 500 ms.
// Everything is judged from the page's own figures (getStats and the stamp read
// from each presented frame: lib/link_sampler.mjs) and the agent's log. Runs once
// (suite load), not under the sanitizers: it measures time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, waitFor } from './lib/harness.mjs';
import { readStampInPage } from './lib/stamp.mjs';
import { buildShapedLink, startBrowserIn, startCameraSide, startNearAndFar } from './lib/shaped.mjs';
import { OUR_PAGE, figures, secondsUntil, startSampler } from './lib/link_sampler.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const CONFIGURED = 2000;

// "camera cam: encoder at N kbit/s ..." lines of the agent's log, each with its
// wall-clock time (the log's HH:MM:SS.mmm, on this machine's clock, today).
function encoderChanges(output) {
  const out = [];
  for (const m of output.matchAll(/(\d\d):(\d\d):(\d\d)\.(\d\d\d): camera cam: encoder at (\d+) kbit\/s/g)) {
    const d = new Date();
    d.setHours(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]));
    out.push({ at: d.getTime(), kbps: Number(m[5]) });
  }
  return out;
}

test('the camera adapts to a viewer on a thin link, and comes back when it widens', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const link = buildShapedLink(stack);
    const camera = await startCameraSide(stack, link);
    const viewers = await startBrowserIn(stack, link, 'view');
    const agent = await camera.startCamera(['--width', '1280', '--height', '720', '--fps', '30',
      '--bitrate', String(CONFIGURED), '--stamp']);
    const read = async () => page.evaluate(() => window.benchSampler.read());

    link.shape({ kbit: 1000 });
    const page = await viewers.open('about:blank');
    await page.goto(camera.url, { timeout: 30000 });
    await page.evaluate(startSampler, [OUR_PAGE, readStampInPage.toString()]);
    await waitFor('the first frame', async () => (await read()).frames.length > 0, { timeout: 20000 });
    const t0 = (await read()).frames[0].at;
    // The rest of the page (figures, controls) arrives although the video fills the
    // link: it is fetched with the page, compressed, not after the first frame
    // (view.html). Fetched after it, it took 4-7 s here, once over two minutes.
    await waitFor('the page\'s figures and controls', async () => page.evaluate(() =>
      (document.querySelector('.figures')?.textContent ?? '') !== '' && !!document.querySelector('#control button')),
    { timeout: 6000 });

    // Two minutes and ten seconds at 1 Mbit/s.
    await sleep(t0 + 130000 - Date.now());
    let rec = await read();
    const under = encoderChanges(agent.output()).find((c) => c.kbps < 1000);
    assert.ok(under, `the encoder never went under the 1 Mbit/s cap: ${JSON.stringify(encoderChanges(agent.output()))}`);
    assert.ok(under.at - t0 <= 10000, `the encoder went under the cap ${(under.at - t0) / 1000} s after the first frame`);
    const first = figures(rec, t0 + 10000, t0 + 70000);
    const second = figures(rec, t0 + 70000, t0 + 130000);
    const said = (f) => `${Math.round(f.kbps)} kbit/s, ${f.fps.toFixed(1)} fps, freezes ${(100 * f.freezeShare).toFixed(1)}%, `
      + `latency p50 ${Math.round(f.p50)} p95 ${Math.round(f.p95)} ms over ${f.stamped} stamped frames, loss ${(100 * f.lostShare).toFixed(1)}%`;
    console.log(`at 1 Mbit/s, first minute: ${said(first)}; second minute: ${said(second)}`);
    for (const [name, f] of [['first', first], ['second', second]]) {
      assert.ok(f.stamped > 60 * 20, `${name} minute: only ${f.stamped} stamped frames shown (${said(f)})`);
      assert.ok(f.kbps < 1000, `${name} minute: ${said(f)}`);
      assert.ok(f.freezeShare <= 0.02, `${name} minute: frozen ${(100 * f.freezeShare).toFixed(1)}% of the time`);
      assert.ok(f.p95 <= 300, `${name} minute: latency p95 ${f.p95} ms`);
    }
    assert.ok(Math.abs(second.p50 - first.p50) <= 50, `latency drifted: ${first.p50} ms then ${second.p50} ms`);
    // The page says why: the camera sends under its configured bitrate for the network.
    // (The encoder saws around the cap, and at a peak the page receives under 80% of
    // what it sends for a few seconds, when it says "your connection": once measured
    // for over 10 s in CI, so the wait is longer, and says what it read.)
    const said_limit = [];
    await waitFor('the page to say the network limits it', async () => {
      const limit = await page.evaluate(() => document.querySelector('[data-quality-limit]')?.dataset.qualityLimit);
      if (said_limit[said_limit.length - 1] !== limit) said_limit.push(limit);
      return limit === 'network';
    }, { timeout: 30000 }).catch((e) => { throw new Error(`${e.message}; the page said: ${said_limit.join(' -> ')}`); });

    // The cap lifted: the encoder back at its configured bitrate, the page receiving it.
    const lifted = Date.now();
    link.shape({});
    await sleep(20000);
    rec = await read();
    const back = secondsUntil(rec, lifted, lifted + 20000, (f) => f.kbps >= 0.8 * CONFIGURED);
    const atConfigured = encoderChanges(agent.output()).find((c) => c.at >= lifted && c.kbps === CONFIGURED);
    console.log(`cap lifted: the page received >= 80% of ${CONFIGURED} kbit/s after ${back} s; `
      + `the encoder at ${CONFIGURED} after ${atConfigured ? (atConfigured.at - lifted) / 1000 : '-'} s`);
    assert.ok(back !== null && back <= 15, `not back to full quality within 15 s (${back})`);
    assert.ok(atConfigured && atConfigured.at - lifted <= 15000, 'the encoder did not return to its configured bitrate');

    // 5% of the packets lost, both ways: retransmissions keep the picture whole.
    link.shape({ loss: 5, bothWays: true });
    const lossy = Date.now();
    await sleep(30000);
    rec = await read();
    const withLoss = figures(rec, lossy + 5000, lossy + 30000);
    console.log(`5% loss both ways: ${said(withLoss)}, longest gap ${withLoss.gap} ms`);
    assert.ok(withLoss.lostShare > 0.02, `the loss was not applied (${said(withLoss)})`);
    assert.ok(withLoss.fps >= 25, `${withLoss.fps.toFixed(1)} fps decoded with 5% loss`);
    assert.ok(withLoss.gap <= 500, `a frame held ${withLoss.gap} ms with 5% loss`);
    await page.closeAll();
  });
});

// Encode once for the best path, and a lower encoding for a thin one: a viewer on
// a thin link never lowers what a viewer on a good one sees, and is not sent more
// than its link carries. One viewer next to the camera (unshaped), one behind a
// 600 kbit/s link: the camera stays at its configured bitrate and full size for the
// first; the second moves, on the same session, to the camera's lower encoding
// (half the size, at what its path carries) and plays it without freezing; the cap
// lifted, it moves back to the full encoding within 25 s, still on its session.
test('a viewer on a thin link gets a lower encoding and does not lower the picture of a viewer on a good one', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const { link, camera, near, far, agent } = await startNearAndFar(stack, { bitrate: CONFIGURED });
    link.shape({ kbit: 600 });
    const good = await near.open(camera.url);
    await good.evaluate(startSampler, [OUR_PAGE, readStampInPage.toString()]);
    const thin = await far.open(camera.url);
    await thin.evaluate(startSampler, [OUR_PAGE, readStampInPage.toString()]).catch(() => {});
    await waitFor('both viewers connected', async () =>
      (agent.output().match(/viewer connected/g) || []).length >= 2, { timeout: 30000 });
    // The thin viewer's feedback says its path carries well under the camera's
    // 2000 kbit/s: it moves to the lower encoding, on the same session.
    await waitFor('the thin viewer on the lower encoding', async () =>
      /now on the camera's lower encoding/.test(agent.output()), { timeout: 30000 });
    const sessions = [...agent.output().matchAll(/session (\S+): started/g)].map((m) => m[1]);
    const moved = agent.output().match(/session (\S+): now on the camera's lower encoding/)[1];
    assert.equal(sessions.length, 2, `sessions started: ${sessions.join(', ')}`);
    assert.ok(sessions.includes(moved));
    // Its own script may have loaded after the video filled its link: started again (idempotent).
    await thin.evaluate(startSampler, [OUR_PAGE, readStampInPage.toString()]);
    // Judged from two seconds after the move: the lower encoding's keyframe gets
    // through at once (without dropping the viewer's requests to resend what the
    // full encoding lost on its link, the resending kept the link full, and the
    // picture stood still for 4-6 s).
    const from = Date.now() + 2000;
    await sleep(22000);
    const rec = await good.evaluate(() => window.benchSampler.read());
    const f = figures(rec, from, from + 20000);
    const thinRec = await thin.evaluate(() => window.benchSampler.read());
    const t = figures(thinRec, from, from + 20000);
    const lowered = encoderChanges(agent.output()).filter((c) => c.at >= from - 10000 && c.kbps < 0.9 * CONFIGURED);
    console.log(`the good viewer next to a 600 kbit/s one: ${Math.round(f.kbps)} kbit/s at ${f.height}p, `
      + `${f.fps.toFixed(1)} fps; encoder changes meanwhile: ${JSON.stringify(lowered)}`);
    console.log(`the thin viewer: ${Math.round(t.kbps)} kbit/s at ${t.height}p, ${t.fps.toFixed(1)} fps, `
      + `freezes ${(100 * t.freezeShare).toFixed(1)}%, latency p50 ${Math.round(t.p50)} p95 ${Math.round(t.p95)} ms, `
      + `loss ${(100 * t.lostShare).toFixed(1)}%`);
    assert.deepEqual(lowered, [], 'the thin viewer lowered the encoder');
    assert.ok(f.kbps >= 0.9 * CONFIGURED, `the good viewer received ${Math.round(f.kbps)} kbit/s`);
    assert.equal(f.height, 720);
    assert.ok(f.fps >= 28, `the good viewer decoded ${f.fps.toFixed(1)} fps`);
    assert.equal(t.height, 360, 'the thin viewer does not play the lower encoding');
    assert.equal(thinRec.sessions, 1, 'the thin viewer\'s page started another session');
    assert.ok(t.kbps < 600, `the thin viewer received ${Math.round(t.kbps)} kbit/s through a 600 kbit/s link`);
    assert.ok(t.freezeShare <= 0.02, `the thin viewer froze ${(100 * t.freezeShare).toFixed(1)}% of the time`);
    assert.ok(t.fps >= 20, `the thin viewer decoded ${t.fps.toFixed(1)} fps`);
    // The camera's state lists its lower encoding and the viewer on it.
    const [listed] = await camera.cameras();
    console.log(`the relay lists: ${JSON.stringify(listed).slice(0, 400)}`);
    assert.equal(listed.lower_width, 640);
    assert.equal(listed.lower_height, 360);
    assert.equal(listed.lower_viewers, 1);
    assert.ok(listed.lower_kbps >= 100 && listed.lower_kbps < 600, `lower encoding at ${listed.lower_kbps} kbit/s`);
    // The good page says the camera's settings limit it; the thin one that it gets
    // the lower encoding, for its connection.
    const indicator = (p) => p.evaluate(() => {
      const el = document.querySelector('[data-quality-limit]');
      return el && { limit: el.dataset.qualityLimit, encoding: el.dataset.encoding, text: el.textContent };
    });
    await waitFor('the good page to name the camera\'s settings', async () => (await indicator(good))?.limit === 'camera',
      { timeout: 10000 });
    assert.equal((await indicator(good)).encoding, 'full');
    await waitFor('the thin page to say it gets the lower encoding', async () =>
      (await indicator(thin))?.encoding === 'lower', { timeout: 10000 });
    const said = await indicator(thin);
    console.log(`the thin page says: ${said.text}`);
    assert.equal(said.limit, 'viewer');
    assert.match(said.text, /360p \(lower encoding\)/);
    // The cap lifted: the thin viewer's estimate climbs with the lower encoding (up to
    // 60% of the configured bitrate), and past 70% of the camera's it moves back to
    // the full encoding, on the same session, and its page plays 720p again.
    link.shape({});
    const lifted = Date.now();
    await waitFor('the thin viewer back on the full encoding', async () =>
      /now on the camera's full encoding/.test(agent.output()), { timeout: 25000 });
    const backAfter = (Date.now() - lifted) / 1000;
    await waitFor('the thin page at 720p', async () => {
      const r = await thin.evaluate(() => window.benchSampler.read());
      return r.stats.length > 0 && r.stats[r.stats.length - 1].height === 720;
    }, { timeout: 5000 });
    console.log(`cap lifted: the thin viewer back on the full encoding after ${backAfter} s`);
    assert.equal((await thin.evaluate(() => window.benchSampler.read())).sessions, 1);
    await thin.closeAll();
    await good.closeAll();
  });
});
