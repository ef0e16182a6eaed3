// Fan-out through the relay (docs/fanout.md), as on a real network: the camera
// in its own namespace sends over its link to the relay's host; five pages watch
// on the relay's host and one across a link of its own, which is then throttled.
//
//   cam (agent) —veth— hub (relay, its worker, a browser: 5 pages) —veth, shaped— view (a browser: 1 page)
//
// Checked: the camera's agent has exactly one branch and sends one stream's worth
// over its link (its namespace's own byte count), every page decodes the camera's
// stamp, throttling one page's link leaves the others' frame rate alone, closing
// pages frees their forwarding (the relay's figures), and the relay restarted
// (killed) comes back with the agent and every page by themselves.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Stack, waitFor } from './lib/harness.mjs';
import { tileState } from './lib/browser.mjs';
import { buildFanoutNet } from './lib/fanout_net.mjs';
import { readStamp } from './lib/stamp.mjs';

const KBPS = 1000;  // the camera's bitrate
const video = 'figure.tile[data-camera="cam"] video';

const decoded = (page) => page.evaluate(async () => {
  const pc = window.sightline.sessions.get('cam')?.pc;
  let frames = 0, keyframes = 0;
  if (pc) {
    (await pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') { frames = r.framesDecoded; keyframes = r.keyFramesDecoded; }
    });
  }
  return { frames, keyframes };
});

// Frames decoded per second by each page over `ms`, and keyframes decoded.
async function fpsOf(pages, ms) {
  const a = await Promise.all(pages.map(decoded));
  await new Promise((r) => setTimeout(r, ms));
  const b = await Promise.all(pages.map(decoded));
  return b.map((n, i) => ({ fps: (n.frames - a[i].frames) * 1000 / ms, keyframes: n.keyframes - a[i].keyframes }));
}

async function plays(page, what) {
  await tileState(page, 'cam', 'live', 30000);
  const a = await waitFor(`${what}: the camera's stamp`, () => readStamp(page, video), { timeout: 15000 });
  assert.deepEqual([a.width, a.height], [640, 480], `${what}: the camera's picture`);
  await waitFor(`${what}: the stamp to advance`, async () => {
    const b = await readStamp(page, video);
    return b && b.t !== a.t;
  }, { timeout: 10000 });
}

test('six pages of one camera through the relay: one stream from the camera', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const net = await buildFanoutNet(stack, { relayArgs: ['--fanout', 'relay', '--fanout-idle', '3'] });
    let relay = await net.startRelay();
    const agent = await net.startCamera('cam', ['--width', '640', '--height', '480', '--stamp', '--bitrate', String(KBPS)]);
    const hub = await net.startBrowser('hub');
    const far = await net.startBrowser('view');
    const near = [];
    for (let i = 0; i < 5; i++) near.push(await hub.open(net.viewUrl('hub', 'cam')));
    const thin = await far.open(net.viewUrl('view', 'cam'));
    const pages = [...near, thin];
    for (const [i, page] of pages.entries()) await plays(page, `page ${i}`);

    // One branch in the camera's agent (the worker's feed), six in the worker.
    const served = await waitFor('six viewers served through the relay', async () => {
      const c = await net.camera('cam');
      return c?.fanout === 'relay' && c.branches === 1 && c.relay_branches === 6 && c.viewers === 6 ? c : null;
    }, { timeout: 30000 });
    assert.equal(served.online, true);
    assert.equal(await net.metric('sightline_fanout_workers'), 1);
    assert.equal(await net.metric('sightline_sessions_relayed'), 6);
    // What the camera sends over its link: one stream's worth, not six.
    const tx0 = net.camSentBytes();
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 6000));
    const sentKbps = (net.camSentBytes() - tx0) * 8 / (Date.now() - t0);
    console.log(`the camera sent ${sentKbps.toFixed(0)} kbit/s for six viewers (its encoder: ${served.bitrate_kbps})`);
    assert.ok(sentKbps > KBPS * 0.4 && sentKbps < KBPS * 1.8,
      `the camera sent ${sentKbps.toFixed(0)} kbit/s for six viewers (one stream: ~${KBPS})`);

    // One page's link throttled to a third of the stream: the others' frame rate does not move.
    const before = await fpsOf(near, 5000);
    net.inHub('tc', 'qdisc', 'replace', 'dev', 'toview', 'root', 'tbf', 'rate', `${Math.round(KBPS / 3)}kbit`,
      'burst', '15000', 'latency', '200ms');
    await new Promise((r) => setTimeout(r, 3000));
    const during = await fpsOf(near, 8000);
    const show = (xs) => xs.map((x) => `${x.fps.toFixed(1)} fps/${x.keyframes} kf`).join(', ');
    console.log(`near pages before: ${show(before)}; with page 5 throttled: ${show(during)}`);
    for (const [i, { fps, keyframes }] of during.entries()) {
      assert.ok(fps >= Math.min(20, before[i].fps * 0.8), `page ${i}: ${fps.toFixed(1)} fps while page 5 is ` +
        `throttled (${before[i].fps.toFixed(1)} before)`);
      // Nor do they get more keyframes (heavier, and a cost to their picture's quality)
      // for the throttled page's sake: the camera's every 2 s, and a join's.
      assert.ok(keyframes <= 6, `page ${i}: ${keyframes} keyframes in 8 s while page 5 is throttled`);
    }
    net.inHub('tc', 'qdisc', 'del', 'dev', 'toview', 'root');

    // Closing three pages frees their forwarding; the camera still sends one stream.
    for (const page of near.splice(0, 3)) await page.closeAll();
    await waitFor('three forwarding branches left', async () => {
      const c = await net.camera('cam');
      return c.relay_branches === 3 && c.viewers === 3 && c.branches === 1;
    }, { timeout: 20000 });

    // The relay killed and started again: the agent, the worker and the pages come back by themselves.
    await stack.kill(relay);
    relay = await net.startRelay();
    await waitFor('the camera back', async () => (await net.camera('cam'))?.connected, { timeout: 20000 });
    for (const [i, page] of [...near, thin].entries()) await plays(page, `page ${i} after the restart`);
    await waitFor('three viewers served through the new relay', async () => {
      const c = await net.camera('cam');
      return c?.fanout === 'relay' && c.branches === 1 && c.relay_branches === 3 ? c : null;
    }, { timeout: 30000 });
    for (const page of [...near, thin]) assert.deepEqual(page.errors, []);
    assert.equal(agent.exited, null, 'the camera agent ran throughout');
  });
});
