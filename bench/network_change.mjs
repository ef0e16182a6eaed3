// What a viewer sees when its network, or with SIDE=camera the camera's, changes
// in the middle of a session (issue 20): RUNS times (default 5) the scenario of
// tests/integration/lib/network_change.mjs (that side's link down, a second one
// with a new address up), one line each:
// how long the picture stopped, when it played again after the change, when the
// page began its ICE restart and how long that took, whether it stayed on the
// same session. Run by bench/run.sh network-change, in its own namespace.
import { Stack } from '../tests/integration/lib/harness.mjs';
import { watchThroughANetworkChange } from '../tests/integration/lib/network_change.mjs';

const runs = Number(process.env.RUNS || 5);
const side = process.env.SIDE === 'camera' ? 'camera' : 'viewer';
const took = [];
for (let i = 0; i < runs; i++) {
  const stack = new Stack();
  await stack.run(async () => {
    const r = await watchThroughANetworkChange(stack, { side });
    took.push(r.tookMs);
    console.log(`network-change (${side}) run ${i + 1}: no picture ${r.gapMs} ms, playing again ${r.tookMs} ms after the ` +
      `change; restart began +${r.restarts[0]?.afterMs} ms (${r.restarts.length} restart(s), ` +
      `${r.after.restartMs.join('/')} ms each to packets), same session ${r.after.id === r.before.id}, ` +
      `path ${r.pathAfter.from} -> ${r.pathAfter.to}, latency p50 ${r.latencyP50} ms after`);
  });
}
took.sort((a, b) => a - b);
console.log(`network-change (${side}): playing again after the change: median ${took[Math.floor(took.length / 2)]} ms, ` +
  `max ${took[took.length - 1]} ms over ${runs} runs`);
