// Issue 20: a viewer whose network changes in the middle of a session (a phone
// from Wi-Fi to mobile data) plays again on the same session, without reloading
// the page. Camera and viewer in network namespaces joined through a router
// (lib/shaped.mjs); the viewer's link goes down with its address and a second one,
// with another address, takes over. The page notices its packets stop, restarts
// ICE on its session (a new offer through the relay: the old socket died with the
// old address, so a new one takes the session back), and the camera's agent
// answers on the same connection.
// Judged from the page (the session id, presented frames carrying the camera's
// stamp: fresh frames, not held ones) and the agent's log (no second session).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, waitFor } from './lib/harness.mjs';
import { readStampInPage } from './lib/stamp.mjs';
import { MOVED_VIEWER, buildShapedLink, startBrowserIn, startCameraSide } from './lib/shaped.mjs';
import { OUR_PAGE, startSampler } from './lib/link_sampler.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('a viewer whose address changes plays again on the same session within 3 s', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const link = buildShapedLink(stack);
    const camera = await startCameraSide(stack, link, { heartbeat: 5 });
    const browser = await startBrowserIn(stack, link, 'view');
    const agent = await camera.startCamera(['--width', '1280', '--height', '720', '--fps', '30',
      '--bitrate', '1500', '--stamp']);
    const page = await browser.open('about:blank');
    await page.goto(camera.url, { timeout: 30000 });
    await page.evaluate(startSampler, [OUR_PAGE, readStampInPage.toString()]);
    const session = () => page.evaluate(() => {
      const s = window.sightline?.sessions?.get('cam');
      return s ? { id: s.session, state: s.state, restarts: s.restarts, restartMs: s.restartMs, log: s.restartLog,
        connects: window.sightline.relayConnects() } : null;
    });
    await waitFor('the page playing', async () => (await session())?.state === 'live', { timeout: 20000 });
    await sleep(3000);  // some seconds of play first
    const before = await session();
    assert.ok(before.id, 'the page has a session');
    const stamped = (frames, after) => frames.filter((f) => f.at > after && f.latency !== null);
    const frames = async () => (await page.evaluate(() => window.benchSampler.read())).frames;
    assert.ok(stamped(await frames(), 0).length > 30, 'stamped frames before the change');

    const changedAt = Date.now();
    link.moveViewer();
    // Playing again: frames captured after the change (not held ones), for a second.
    await waitFor('fresh frames after the change',
      async () => stamped(await frames(), changedAt).filter((f) => f.at - f.latency > changedAt + 3000).length >= 30,
      { timeout: 20000 });
    // The gap the change made: the longest between two frames shown from the change on;
    // the picture came back with the frame that ended it.
    const shown = (await frames()).filter((f) => f.at >= changedAt - 1000);
    let gap = { ms: 0, end: null };
    for (let i = 1; i < shown.length; i++) {
      if (shown[i].at - shown[i - 1].at > gap.ms) gap = { ms: shown[i].at - shown[i - 1].at, end: shown[i] };
    }
    const after = await session();
    const tookMs = gap.end.at - changedAt;
    console.log(`address changed: no picture for ${gap.ms} ms, played again ${tookMs} ms after the change ` +
      `(the page's restart took ${after.restartMs} ms), session ${before.id} -> ${after.id}, ` +
      `relay sockets ${before.connects} -> ${after.connects}; restarts: ` +
      after.log.map((r) => `+${r.at - changedAt} ms: ${r.why}`).join('; '));
    assert.ok(gap.ms >= 500, `the change broke the path (the longest gap: ${gap.ms} ms)`);
    assert.equal(after.id, before.id, 'the same session plays again');
    assert.ok(after.restarts >= 1, 'by an ICE restart');
    assert.ok(after.connects > before.connects, 'on a new relay socket (the old one died with the address)');
    assert.ok(tookMs <= 3000, `played again ${tookMs} ms after the change (at most 3000)`);
    // Still playing a while later, on the new path.
    await sleep(3000);
    const now = Date.now();
    const later = stamped(await frames(), now - 1000).filter((f) => f.at - f.latency > now - 1500);
    assert.ok(later.length >= 20, `still playing 3 s later (${later.length} fresh frames in the last second)`);
    const log = agent.output();
    assert.match(log, new RegExp(`session ${before.id}: connected again \\d+ ms after the viewer's restart`));
    assert.equal((log.match(/: started for camera cam/g) || []).length, 1, 'one session at the agent, never a second');
    const cams = await camera.cameras();
    assert.equal(cams[0].viewers, 1, 'one viewer at the relay');
    // The page's new address is the one the camera now sends to.
    const pair = await page.evaluate(async () => {
      const s = window.sightline.sessions.get('cam');
      const report = await s.pc.getStats();
      let local = null;
      report.forEach((r) => { if (r.type === 'transport') local = r.selectedCandidatePairId; });
      const p = local && report.get(local);
      return p ? report.get(p.localCandidateId)?.address : null;
    });
    assert.equal(pair, MOVED_VIEWER, 'the path now runs from the new address');
  });
});
