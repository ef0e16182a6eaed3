// An agent whose camera is another's stream, pulled over WHEP (--source
// whep:URL): agent A stamps a test pattern; agent B takes A's stream from the
// relay's WHEP endpoint and serves it to its own viewers, H.264 passed through
// (no encoder in B). The page on B's camera shows A's stamp; a second page on
// B gets its first frame at once although A makes a keyframe only every 10 s
// (the join's keyframe request went upstream to A as RTCP); A killed and
// started again, B's page plays again by itself. Everything on loopback.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Stack, camera, startAgent, startRelay, waitFor } from './lib/harness.mjs';
import { startBrowser, tileState } from './lib/browser.mjs';
import { nowT, readStamp } from './lib/stamp.mjs';

const video = (id) => `figure.tile[data-camera="${id}"] video`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Stamp ages (ms) of `n` distinct frames the page shows.
async function stampAges(page, id, n) {
  const ages = [];
  let last = null;
  while (ages.length < n) {
    const s = await readStamp(page, video(id));
    if (s && s.t !== last) {
      ages.push((nowT() - s.t) >>> 0);
      last = s.t;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return ages;
}

// Every ICE candidate of the agent's side is 127.0.0.1 (ice-address), and so
// is the pair in use (the namespace has nothing but lo anyway).
async function candidatesOnLoopback(page, id) {
  const { pair, remote } = await page.evaluate(async (cam) => {
    const stats = new Map();
    (await window.sightline.sessions.get(cam).pc.getStats()).forEach((s) => stats.set(s.id, s));
    const out = { pair: [], remote: [] };
    for (const s of stats.values()) {
      if (s.type === 'remote-candidate') out.remote.push(s.address ?? s.ip);
      if (s.type === 'transport' && stats.get(s.selectedCandidatePairId)) {
        const p = stats.get(s.selectedCandidatePairId);
        out.pair = [stats.get(p.localCandidateId), stats.get(p.remoteCandidateId)].map((c) => c?.address ?? c?.ip);
      }
    }
    return out;
  }, id);
  assert.ok(remote.length > 0, `${id}: no candidates of the agent`);
  for (const a of remote) assert.equal(a, '127.0.0.1', `${id}: the agent's candidate ${a}`);
  assert.deepEqual(pair, ['127.0.0.1', '127.0.0.1'], `${id}: the candidate pair in use`);
}

async function playsAStamp(page, id, timeout = 20000) {
  await tileState(page, id, 'live', timeout);
  const first = await waitFor(`a stamp on ${id}`, () => readStamp(page, video(id)), { timeout });
  await waitFor(`${id}'s stamp to advance`, async () => {
    const later = await readStamp(page, video(id));
    const step = later ? (later.t - first.t) >>> 0 : 0;
    return step > 0 && step < 60000;
  }, { timeout });
  return first;
}

test('camera from a WHEP server', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack);
    // A keyframe every 10 s: a page that waited for one would wait seconds.
    const aArgs = ['--source', 'test', '--stamp', '--width', '640', '--height', '480', '--keyframe-interval', '10'];
    let a = await startAgent(stack, relay.port, 'cam-a', aArgs);
    const b = await startAgent(stack, relay.port, 'cam-b',
      ['--source', `whep:http://127.0.0.1:${relay.port}/whep/cam-a`]);
    await waitFor('B playing A\'s stream', async () => (await camera(relay.port, 'cam-b'))?.online, { timeout: 20000 });

    // B passes A's H.264 through: no encoder of its own.
    const info = await camera(relay.port, 'cam-b');
    assert.equal(info.encoder, 'passthrough');
    assert.match(b.output(), /H264 via passthrough/);
    assert.match(b.output(), /the WHEP server answered/);

    const browser = await startBrowser(stack);
    const direct = await browser.open(`${relay.url}/view/cam-a`);
    const page = await browser.open(`${relay.url}/view/cam-b`);
    const first = await playsAStamp(page, 'cam-b');
    assert.deepEqual([first.width, first.height], [640, 480], 'A\'s frame size');
    assert.ok(((nowT() - first.t) >>> 0) < 5000, 'A\'s stamp, fresh');
    await playsAStamp(direct, 'cam-a');
    await candidatesOnLoopback(page, 'cam-b');
    await candidatesOnLoopback(direct, 'cam-a');

    // What forwarding through B adds to the stamp's age, at the median.
    const viaA = median(await stampAges(direct, 'cam-a', 60));
    const viaB = median(await stampAges(page, 'cam-b', 60));
    console.log(`stamp age p50: ${viaA} ms straight from A, ${viaB} ms through B (${viaB - viaA} ms added)`);
    assert.ok(viaB - viaA < 60, `forwarding through B adds ${viaB - viaA} ms`);
    await direct.closeAll();

    // A second page on B: its first frame needs a keyframe from A, asked for upstream.
    const asked = Date.now();
    const second = await browser.open(`${relay.url}/view/cam-b`);
    await waitFor('a stamp on the second page', () => readStamp(second, video('cam-b')), { timeout: 9000 });
    const firstFrameMs = Date.now() - asked;
    console.log(`second page on B: first frame ${firstFrameMs} ms after opening it (A's keyframe interval 10 s)`);
    assert.ok(firstFrameMs < 4000, `the second page's first frame took ${firstFrameMs} ms`);
    await second.closeAll();

    // A gone: B's camera fails (the stream stalls) and comes back with A.
    await stack.kill(a);
    await waitFor('B to notice A is gone', async () => /camera cam-b stopped/.test(b.output()), { timeout: 20000 });
    a = await startAgent(stack, relay.port, 'cam-a', aArgs);
    const again = Date.now();
    await waitFor('B\'s page to play A\'s stamp again', async () => {
      const s = await readStamp(page, video('cam-b'));
      return s && ((nowT() - s.t) >>> 0) < 2000;
    }, { timeout: 25000 });
    console.log(`B's page played again ${Date.now() - again} ms after A was started again`);
    assert.deepEqual(page.errors, []);
  });
});
