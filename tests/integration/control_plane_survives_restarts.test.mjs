// The control plane when things go away: a killed agent turns offline through
// its last will; commands sent while it is away run once when it returns if
// still within their ttl, and are answered `expired` otherwise; a restarted
// broker is reconnected to by agent and relay; a relay that just started knows
// the cameras from their retained state.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Stack, camera, postCommand, startAgent, startMosquitto, startRelay, waitFor } from './lib/harness.mjs';
import { connectMqtt } from './lib/mqtt.mjs';

test('last will, queued commands with ttl, broker restart, fresh relay', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    let broker = await startMosquitto(stack);
    const relay = await startRelay(stack, { args: ['--mqtt', broker.url] });
    const agentArgs = ['--mqtt', broker.url, '--width', '640', '--height', '480', '--state-interval', '1'];
    let agent = await startAgent(stack, relay.port, 'cam', agentArgs);
    const mqtt = await connectMqtt(broker.port);
    await mqtt.subscribe('sightline/cam/#');
    await mqtt.waitFor((m) => m.topic === 'sightline/cam/state' && m.json().online, { what: 'online state' });

    // Killed: the broker publishes the will, the relay lists the camera offline.
    await stack.kill(agent);
    const will = await mqtt.waitFor((m) => m.topic === 'sightline/cam/state' && !m.json().online, { what: 'the will' });
    assert.equal(will.json().camera, 'cam');
    await waitFor('the relay to list cam offline', async () => (await camera(relay.port, 'cam'))?.online === false);

    // Commands while it is away: one may wait, one may not.
    const sentAt = Date.now();
    await mqtt.publish('sightline/cam/cmd', { id: 'while-away', type: 'restart_pipeline', issued_at: sentAt, ttl_ms: 60000 });
    await mqtt.publish('sightline/cam/cmd', { id: 'too-late', type: 'force_keyframe', issued_at: sentAt, ttl_ms: 1000 });
    await new Promise((r) => setTimeout(r, 1500));  // let the short ttl pass while the agent is down
    agent = await startAgent(stack, relay.port, 'cam', agentArgs, { name: 'agent again' });
    const ran = await mqtt.waitFor((m) => m.topic === 'sightline/cam/ack' && m.json().id === 'while-away',
      { what: 'the queued command to be answered', timeout: 15000 });
    assert.equal(ran.json().status, 'ok', JSON.stringify(ran.json()));
    assert.equal(ran.json().result.restarts, 1);
    const expired = await mqtt.waitFor((m) => m.topic === 'sightline/cam/ack' && m.json().id === 'too-late',
      { what: 'the expired command to be answered' });
    assert.equal(expired.json().code, 'expired');
    // Never twice: the state still counts one restart, and each id got one ack.
    await mqtt.waitFor((m) => m.topic === 'sightline/cam/state' && m.json().online && m.at > ran.at + 1100,
      { what: 'a later state' });
    const lastState = mqtt.messages.filter((m) => m.topic === 'sightline/cam/state').at(-1).json();
    assert.equal(lastState.restarts, 1);
    const acks = mqtt.messages.filter((m) => m.topic === 'sightline/cam/ack').map((m) => m.json().id);
    assert.deepEqual(acks.sort(), ['too-late', 'while-away']);

    // The broker restarts (on the same port): agent and relay come back to it.
    await mqtt.close();
    await stack.kill(broker.proc, 'SIGTERM');
    broker = await startMosquitto(stack, { port: broker.port, name: 'mosquitto again' });
    await waitFor('a command to work again through the relay', async () => {
      const r = await postCommand(relay.port, 'cam', { type: 'get_state' });
      return r.status === 200 && r.ack.status === 'ok';
    }, { timeout: 20000, interval: 250 });

    // A relay that just started (no agent connected to it) lists the camera
    // from its retained state, online and with its figures; sharing the broker,
    // it reaches the camera through the relay that holds its agent (docs/fleet.md).
    const fresh = await startRelay(stack, { name: 'fresh relay', args: ['--mqtt', broker.url] });
    const listed = await waitFor('the fresh relay to list cam', async () => {
      const c = await camera(fresh.port, 'cam');
      return c?.online && c.state ? c : null;
    });
    await waitFor('a video path through the relay holding the agent', async () => (await camera(fresh.port, 'cam'))?.connected);
    assert.equal(listed.width, 640);
    assert.equal(listed.state.pipeline, 'playing');
  });
});
