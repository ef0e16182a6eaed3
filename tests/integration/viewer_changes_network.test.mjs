// Issue 20: a viewer whose network changes in the middle of a session (a phone
// from Wi-Fi to mobile data) plays again on the same session, without reloading
// the page, within 3 s. Camera and viewer in network namespaces joined through a
// router; the viewer's link goes down with its address and a second one, with
// another address, takes over (lib/network_change.mjs). The page notices its
// packets stop, opens a new relay socket (the old one died with the old address),
// restarts ICE on its session through it, and the camera's agent answers on the
// same connection. Judged from the page (the session id, presented frames carrying
// the camera's stamp: fresh frames, not held ones, its selected path) and the
// agent's log (no second session). Runs once (suite load), not under the
// sanitizers: it measures time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Stack } from './lib/harness.mjs';
import { MOVED_VIEWER } from './lib/shaped.mjs';
import { watchThroughANetworkChange } from './lib/network_change.mjs';

test('a viewer whose address changes plays again on the same session within 3 s', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const r = await watchThroughANetworkChange(stack);
    console.log(`address changed: no picture for ${r.gapMs} ms, played again ${r.tookMs} ms after the change ` +
      `(the page's restart took ${r.after.restartMs} ms), session ${r.before.id} -> ${r.after.id}, relay sockets ` +
      `${r.before.connects} -> ${r.after.connects}; restarts: ` +
      r.restarts.map((x) => `+${x.afterMs} ms: ${x.why}`).join('; '));
    assert.ok(r.before.id, 'the page had a session');
    assert.ok(r.framesBefore > 30, 'stamped frames before the change');
    assert.ok(r.gapMs >= 500, `the change broke the path (the longest gap: ${r.gapMs} ms)`);
    assert.equal(r.after.id, r.before.id, 'the same session plays again');
    assert.ok(r.after.restarts >= 1, 'by an ICE restart');
    assert.ok(r.after.connects > r.before.connects, 'on a new relay socket (the old one died with the address)');
    assert.ok(r.tookMs <= 3000, `played again ${r.tookMs} ms after the change (at most 3000)`);
    assert.ok(r.framesLater >= 20, `still playing 3 s later (${r.framesLater} fresh frames in the last second)`);
    assert.equal(r.pathFrom, MOVED_VIEWER, 'the path now runs from the new address');
    assert.match(r.agentLog, new RegExp(`session ${r.before.id}: connected again \\d+ ms after the viewer's restart`));
    assert.equal((r.agentLog.match(/: started for camera cam/g) || []).length, 1,
      'one session at the agent, never a second');
    assert.equal(r.viewersAtRelay, 1, 'one viewer at the relay');
  });
});
