// Issue 20: a camera whose network changes in the middle of a session (a new
// DHCP lease, another uplink) keeps its viewer on the same session, without the
// page reloading, within 3 s. Camera and viewer in network namespaces joined
// through a router; the camera's link goes down with its address and a second
// one, with another address, takes over (lib/network_change.mjs, side 'camera').
// The agent notices its address is gone (address_watch.hpp) and asks the page to
// renew the session (`renew`): webrtcbin cannot gather on a new address for a
// session under way, so the page offers on a new peer connection and the agent
// answers from a new branch, under the same session id. The relay sits in the
// router (as in the cloud): the agent's link to it died with the old address too,
// and is made again at once from the new one, taking the sessions along. Judged
// from the page (session id, fresh stamped frames, the path's far end now the
// camera's new address) and the agent's log. Runs once (suite load), not under
// the sanitizers: it measures time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Stack } from './lib/harness.mjs';
import { CAMERA, MOVED_CAMERA } from './lib/shaped.mjs';
import { watchThroughANetworkChange } from './lib/network_change.mjs';

test('a camera whose address changes plays again on the same session within 3 s', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const r = await watchThroughANetworkChange(stack, { side: 'camera' });
    console.log(`camera's address changed: no picture for ${r.gapMs} ms, played again ${r.tookMs} ms after the ` +
      `change, session ${r.before.id} -> ${r.after.id}, path ${r.pathBefore.to} -> ${r.pathAfter.to}; ` +
      r.restarts.map((x) => `+${x.afterMs} ms: ${x.why}`).join('; '));
    assert.ok(r.before.id, 'the page had a session');
    assert.ok(r.framesBefore > 30, 'stamped frames before the change');
    assert.equal(r.pathBefore.to, CAMERA, 'the path ran to the camera\'s first address');
    assert.equal(r.after.id, r.before.id, 'the same session plays again');
    assert.ok(r.restarts.some((x) => /camera's network changed/.test(x.why)), 'renewed at the agent\'s word');
    assert.ok(r.tookMs <= 3000, `played again ${r.tookMs} ms after the change (at most 3000)`);
    assert.ok(r.framesLater >= 20, `still playing 3 s later (${r.framesLater} fresh frames in the last second)`);
    assert.equal(r.pathAfter.to, MOVED_CAMERA, 'the path now runs to the camera\'s new address');
    assert.match(r.agentLog, new RegExp(`session ${r.before.id}: its local address ${CAMERA.replace(/\./g, '\\.')} is gone`));
    assert.match(r.agentLog, /the relay link's local address 10\.0\.1\.2 is gone: connecting again at once/);
    assert.match(r.agentLog, new RegExp(`session ${r.before.id}: renewed on a new connection, connected \\d+ ms after`));
    assert.equal((r.agentLog.match(/: started for camera cam/g) || []).length, 1,
      'one session at the agent, never a second');
    assert.equal(r.viewersAtRelay, 1, 'one viewer at the relay');
  });
});
