// Viewers in step (issue 21, docs/playback-sync.md): the delay "in step" adds, and
// how far apart pages play with and without it. Prints one line per case.
//   bash bench/run.sh sync
// 1. loopback: one camera (640x480@30, stamped), one page: its delay from capture
//    to display (the stamp read from every frame shown) with "in step" off, then on
//    at the relay's sync-delay of 400 (the default) and 200 ms: what it adds.
// 2. a long path (tests/integration/lib/long_path.mjs: a delay line, 150 ms each
//    way): two pages of one camera, one next to it and one across the path, and
//    the stamps they show at the same moments, "in step" off then on.
import { Stack, startAgent, startRelay, waitFor } from '../tests/integration/lib/harness.mjs';
import { startBrowser } from '../tests/integration/lib/browser.mjs';
import { buildLongPath } from '../tests/integration/lib/long_path.mjs';
import { readStampInPage } from '../tests/integration/lib/stamp.mjs';
import { inStep, measure, pct, recordStamps, recorded, said, tileDelays } from '../tests/integration/lib/in_step.mjs';

const WINDOW_MS = Number(process.env.WINDOW_MS || 10000);
const CAMERA = ['--width', '640', '--height', '480', '--fps', '30', '--stamp'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const record = (page, cams) => page.evaluate(recordStamps, [cams, readStampInPage.toString()]);
const live = (page) => waitFor('live', () => page.evaluate(() =>
  document.querySelector('figure.tile')?.dataset.state === 'live'), { timeout: 20000 });

async function delayOnLoopback(syncDelay, sync) {
  const stack = new Stack();
  let line = '';
  await stack.run(async () => {
    const relay = await startRelay(stack, { args: ['--sync-delay', String(syncDelay)] });
    await startAgent(stack, relay.port, 'cam', CAMERA);
    const browser = await startBrowser(stack);
    const page = await browser.open(`${relay.url}/view/cam?sync=${sync ? 1 : 0}`);
    await live(page);
    if (sync) await inStep(page, ['cam']);
    else await sleep(3000);
    await record(page, ['cam']);
    const from = Date.now() + 500;
    await sleep(WINDOW_MS + 1000);
    const d = tileDelays(await recorded(page, 'cam'), from, from + WINDOW_MS);
    line = `${pct(d, 50)} ms p50, ${pct(d, 95)} ms p95 over ${d.length} frames`;
  });
  return line;
}

async function longPath() {
  const stack = new Stack();
  const out = {};
  await stack.run(async () => {
    const path = await buildLongPath(stack, { delayMs: 150, cameras: ['cam'] });
    await path.startCamera('near', 'cam', CAMERA);
    const near = await path.startBrowser('near');
    const far = await path.startBrowser('far');
    for (const sync of [0, 1]) {
      const pages = [await near.open(path.url(`/view/cam?sync=${sync}`)), await far.open(path.url(`/view/cam?sync=${sync}`))];
      for (const p of pages) await live(p);
      if (sync) for (const p of pages) await inStep(p, ['cam']);
      else await sleep(3000);
      await Promise.all(pages.map((p) => record(p, ['cam'])));
      out[sync ? 'on' : 'off'] = await measure(pages.map((p) => [p, 'cam']), WINDOW_MS);
      await Promise.all(pages.map((p) => p.closeAll()));
    }
  });
  return out;
}

const off = await delayOnLoopback(400, false);
console.log(`loopback, in step off: the page shows each frame ${off} after capture`);
for (const syncDelay of [400, 200]) {
  console.log(`loopback, in step on, sync-delay ${syncDelay}: ${await delayOnLoopback(syncDelay, true)}`);
}
const far = await longPath();
console.log(`long path (150 ms each way), two pages of one camera, in step off: ${said(far.off)}`);
console.log(`long path (150 ms each way), two pages of one camera, in step on: ${said(far.on)}`);
