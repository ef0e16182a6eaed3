// The camera's lower encoding (issue 20): what it costs the camera, and what the
// viewer on the thin link gets. Two pages of one camera (1280x720@30, 2000 kbit/s):
// one next to the camera, one behind the router (tests/integration/lib/shaped.mjs);
// case `none` leaves that link unshaped (both get the full encoding, no lower one
// is made), case `lower` caps it at CAP kbit/s (default 600: the camera makes its
// lower encoding, 640x360, for that page). Per case: the agent's CPU over WINDOW s
// once the pages have settled, and both pages' figures over the same window.
//   bash bench/run.sh lower-encoding
// PATTERN=ball: the test source's moving ball instead of its colour bars.
// Prints one line per case and the ratio; no pass/fail. Every wait has a deadline.
import { Stack, waitFor } from '../tests/integration/lib/harness.mjs';
import { readStampInPage } from '../tests/integration/lib/stamp.mjs';
import { startNearAndFar } from '../tests/integration/lib/shaped.mjs';
import { OUR_PAGE, figures, startSampler } from '../tests/integration/lib/link_sampler.mjs';
import { cpuPercent } from './cpu.mjs';

const CAP = Number(process.env.CAP || 600);
const WINDOW = Number(process.env.WINDOW || 30);
const SETTLE = 15;
const PATTERN = process.env.PATTERN || 'smpte';  // the test source's picture (ball: more motion, a costlier encode)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function measure(name, kbit) {
  const stack = new Stack();
  let out = null;
  await stack.run(async () => {
    const { link, camera, near, far, agent } = await startNearAndFar(stack, { extra: ['--pattern', PATTERN] });
    link.shape({ kbit });
    const pages = [await near.open(camera.url), await far.open(camera.url)];
    for (const page of pages) await page.evaluate(startSampler, [OUR_PAGE, readStampInPage.toString()]);
    await waitFor('both viewers connected', async () =>
      (agent.output().match(/viewer connected/g) || []).length >= 2, { timeout: 30000 });
    await sleep(SETTLE * 1000);
    const from = Date.now();
    const cpu = await cpuPercent(agent.pid, WINDOW * 1000);
    const [good, thin] = await Promise.all(pages.map(async (p) =>
      figures(await p.evaluate(() => window.benchSampler.read()), from, from + WINDOW * 1000)));
    const [listed] = await camera.cameras();
    out = { cpu, good, thin, lower: listed.lower_kbps ? `${listed.lower_width}x${listed.lower_height} at `
      + `${listed.lower_kbps} kbit/s, ${listed.lower_viewers} viewer` : 'none' };
    const said = (f) => `${Math.round(f.kbps)} kbit/s ${f.height}p ${f.fps.toFixed(1)} fps, freezes `
      + `${(100 * f.freezeShare).toFixed(1)}%, p95 ${Math.round(f.p95)} ms`;
    console.log(`${name.padEnd(6)} (far link ${kbit ? `${kbit} kbit/s` : 'unshaped'}): agent CPU `
      + `${cpu.total.toFixed(1)}% of a core (capture + full encode ${cpu.encode.toFixed(1)}%); lower encoding: `
      + `${out.lower}; near page ${said(good)}; far page ${said(thin)}`);
    for (const p of pages) await p.closeAll();
  });
  return out;
}

const none = await measure('none', 0);
const lower = await measure('lower', CAP);
console.log(`CPU with one lower encoding live / with none: ${(lower.cpu.total / none.cpu.total).toFixed(2)}x`);
