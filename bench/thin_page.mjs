// The camera page on a thin link (1 Mbit/s toward the viewer, tbf with a 200 ms
// queue: tests/integration/lib/shaped.mjs), the camera sending 1280x720 at
// 2000 kbit/s: how long until the first frame, and until the rest of the page
// (figures, controls) is there after it. Each load in a fresh browser context
// (nothing cached), RUNS loads per side.
//   bash bench/run.sh thin-page
//   REFERENCE_RELAY=/path/to/old/sightline-relay REFERENCE_WEB=/path/to/old/web bash bench/run.sh thin-page
//     (that relay serving that web app, measured in the same run, on the same link)
// Prints one line per side; no pass/fail. Every wait has a deadline.
import { Stack, waitFor } from '../tests/integration/lib/harness.mjs';
import { buildShapedLink, startBrowserIn, startCameraSide } from '../tests/integration/lib/shaped.mjs';

const RUNS = Number(process.env.RUNS || 5);
const KBIT = Number(process.env.KBIT || 1000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sides = [['ours', {}]];
if (process.env.REFERENCE_RELAY || process.env.REFERENCE_WEB) {
  sides.push(['reference', {
    ...(process.env.REFERENCE_RELAY ? { relay: process.env.REFERENCE_RELAY } : {}),
    ...(process.env.REFERENCE_WEB ? { webRoot: process.env.REFERENCE_WEB } : {}),
  }]);
}

async function side(name, options) {
  const stack = new Stack();
  const first = [], rest = [];
  let missed = 0;
  await stack.run(async () => {
    const link = buildShapedLink(stack);
    const camera = await startCameraSide(stack, link, options);
    const viewers = await startBrowserIn(stack, link, 'view');
    await camera.startCamera(['--width', '1280', '--height', '720', '--fps', '30', '--bitrate', '2000']);
    link.shape({ kbit: KBIT });
    for (let i = 0; i < RUNS; i++) {
      const page = await viewers.open('about:blank');
      const t0 = Date.now();
      await page.goto(camera.url, { timeout: 30000 });
      await waitFor('the first frame', () => page.evaluate(() =>
        [...document.querySelectorAll('video')].some((v) => v.currentTime > 0)), { timeout: 30000, interval: 20 });
      const shown = Date.now();
      first.push(shown - t0);
      // The page's own figures (its first second of getStats) and its control panel.
      const whole = await waitFor('the rest of the page', () => page.evaluate(() =>
        (document.querySelector('.figures')?.textContent ?? '') !== '' && !!document.querySelector('#control button')),
      { timeout: 60000, interval: 50 }).then(() => Date.now()).catch(() => null);
      if (whole === null) missed++;
      else rest.push(whole - shown);
      await page.closeAll();
      await sleep(3000);  // the camera's encoder back at its ceiling before the next load
    }
  });
  console.log(`${name}: ${KBIT} kbit/s toward the viewer, ${RUNS} loads: first frame ${med(first)} ms (median; `
    + `${first.join(', ')}); the page's figures and controls ${rest.length ? med(rest) : '-'} ms after it `
    + `(${rest.join(', ')}${missed ? `; ${missed} not within 60 s` : ''})`);
}

for (const [name, options] of sides) await side(name, options);
