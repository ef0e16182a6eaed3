// NAT benchmark: time from opening /view/<id> to the first decoded frame with
// camera and browser each behind a NAT (namespaces, tests/integration/lib/nat.mjs),
// side by side: direct (endpoint-independent NATs, server-reflexive pair via the
// relay's STUN responder) and relayed (symmetric NATs, TURN through coturn).
// Prints one line per case. Bounded: RUNS page opens per case.
import { Stack } from '../tests/integration/lib/harness.mjs';
import { tileState } from '../tests/integration/lib/browser.mjs';
import { PUBLIC, TURN_PORT, buildInternet, deploy, startCoturn } from '../tests/integration/lib/nat.mjs';

const RUNS = Number(process.env.RUNS || 5);
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function measure(nat) {
  const stack = new Stack();
  await stack.run(async () => {
    const net = buildInternet(stack, { nat });
    const args = nat === 'eim'
      ? ['--stun-listen', `${PUBLIC}:3478`, '--stun', `stun:${PUBLIC}:3478`]
      : ['--turn', `turn:${PUBLIC}:${TURN_PORT}`, '--turn-secret', startCoturn(stack, net)];
    const { browser, token, url } = await deploy(stack, net, args);
    const times = [];
    const steps = { offerSent: [], answer: [], iceConnected: [] };
    const pairs = new Set();
    for (let i = 0; i < RUNS; i++) {
      const page = await browser.open(`${url}/view/cam?token=${token}`);
      await tileState(page, 'cam', 'live', 60000);
      const timing = await page.evaluate(() => window.sightline.timing);
      times.push(timing.firstFrame);
      for (const k of Object.keys(steps)) if (timing[k] !== undefined) steps[k].push(timing[k]);
      await page.waitForFunction(() => window.sightline.stats.get('cam')?.localType, null, { timeout: 10000 })
        .then(async () => pairs.add(await page.evaluate(() => {
          const f = window.sightline.stats.get('cam');
          return `${f.localType}/${f.remoteType}`;
        }))).catch(() => {});
      await page.closeAll();
    }
    console.log(`first frame behind NATs, ${nat === 'eim' ? 'direct (endpoint-independent NATs, STUN)' : 'relayed (symmetric NATs, TURN)'}`
      + ` (${RUNS} runs): median ${Math.round(pct(times, 50))} ms, min ${Math.round(Math.min(...times))} ms, `
      + `max ${Math.round(Math.max(...times))} ms; pairs ${[...pairs].join(', ')}; medians since navigation: `
      + Object.entries(steps).map(([k, v]) => `${k} ${v.length ? Math.round(pct(v, 50)) : '-'} ms`).join(', '));
  });
}

await measure('eim');
await measure('symmetric');
