// A viewer's or the camera's network changes in the middle of a session (issue
// 20): camera and viewer in namespaces through a router (shaped.mjs), the camera
// at 1280x720@30 1500 kbit/s with its stamp; after a few seconds of play the
// `side`'s link goes down with its address and a second one, with another
// address, takes over (a phone from Wi-Fi to mobile data; a camera's new uplink).
// What the page and the agent say about it, for tests/integration/
// viewer_changes_network.test.mjs, camera_changes_network.test.mjs and
// bench/network_change.mjs.
import { waitFor } from './harness.mjs';
import { readStampInPage } from './stamp.mjs';
import { MOVED_CAMERA, buildShapedLink, startBrowserIn, startCameraSide } from './shaped.mjs';
import { OUR_PAGE, startSampler } from './link_sampler.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Frames with a stamp read, shown after `after` (wall clock, ms).
const stamped = (frames, after) => frames.filter((f) => f.at > after && f.latency !== null);

export async function watchThroughANetworkChange(stack, { side = 'viewer' } = {}) {
  const link = buildShapedLink(stack);
  // A camera that moves reaches its relay over its new path too (the relay in the router, as in the cloud).
  const camera = await startCameraSide(stack, link, { heartbeat: 5, relayIn: side === 'camera' ? 'rtr' : 'cam' });
  const browser = await startBrowserIn(stack, link, 'view');
  // A camera that moves may gather on its new address too (--ice-address limits it to these).
  const agent = await camera.startCamera(['--width', '1280', '--height', '720', '--fps', '30',
    '--bitrate', '1500', '--stamp', ...(side === 'camera' ? ['--ice-address', MOVED_CAMERA] : [])]);
  const page = await browser.open('about:blank');
  await page.goto(camera.url, { timeout: 30000 });
  await page.evaluate(startSampler, [OUR_PAGE, readStampInPage.toString()]);
  const session = () => page.evaluate(() => {
    const s = window.sightline?.sessions?.get('cam');
    return s ? { id: s.session, state: s.state, restarts: s.restarts, restartMs: s.restartMs, log: s.restartLog,
      connects: window.sightline.relayConnects() } : null;
  });
  const frames = async () => (await page.evaluate(() => window.benchSampler.read())).frames;
  await waitFor('the page playing', async () => (await session())?.state === 'live', { timeout: 20000 });
  await sleep(3000);  // some seconds of play first
  const before = await session();
  const framesBefore = stamped(await frames(), 0).length;
  const pathBefore = await selectedPath(page);

  const changedAt = Date.now();
  if (side === 'camera') link.moveCamera();
  else link.moveViewer();
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
  // Still playing a while later, on the new path: fresh frames in the last second.
  await sleep(3000);
  const now = Date.now();
  const framesLater = stamped(await frames(), now - 1000).filter((f) => f.at - f.latency > now - 1500).length;
  const latencies = stamped(await frames(), now - 2000).map((f) => f.latency).sort((a, b) => a - b);
  const pathAfter = await selectedPath(page);
  return {
    before, after, framesBefore, framesLater, pathBefore, pathAfter,
    pathFrom: pathAfter.from,
    gapMs: gap.ms,
    tookMs: gap.end ? gap.end.at - changedAt : null,
    restarts: after.log.map((r) => ({ afterMs: r.at - changedAt, why: r.why })),
    latencyP50: latencies[Math.floor(latencies.length / 2)] ?? null,
    agentLog: agent.output(),
    viewersAtRelay: (await camera.cameras())[0].viewers,
  };
}

// The page's path: both ends of its selected candidate pair ({ from, to } addresses).
function selectedPath(page) {
  return page.evaluate(async () => {
    const report = await window.sightline.sessions.get('cam').pc.getStats();
    let selected = null;
    report.forEach((r) => { if (r.type === 'transport') selected = r.selectedCandidatePairId; });
    const pair = selected && report.get(selected);
    return { from: pair ? report.get(pair.localCandidateId)?.address : null,
      to: pair ? report.get(pair.remoteCandidateId)?.address : null };
  });
}
