// The relay host's mosquitto config as shipped (deploy/mosquitto/: passwords, the
// ACL): the relay and the cameras work through it, and a camera's credentials
// reach only that camera's own topics: another camera's commands can be neither
// read nor sent, its state not forged.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Stack, postCommand, startAgent, startMosquitto, startRelay, waitFor } from './lib/harness.mjs';
import { connectMqtt } from './lib/mqtt.mjs';

const users = { 'sightline-relay': 'relay-password-0001', 'cam-a': 'camera-a-password-02', 'cam-b': 'camera-b-password-03' };

test('the shipped mosquitto ACL confines each camera to its own topics', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const broker = await startMosquitto(stack, { users, shipped: true });
    const login = (user) => ['--mqtt', broker.url, '--mqtt-user', user, '--mqtt-password', users[user]];
    const relay = await startRelay(stack, { args: login('sightline-relay') });
    for (const id of ['cam-a', 'cam-b'])
      await startAgent(stack, relay.port, id, ['--width', '320', '--height', '240', '--homeassistant-discovery', 'true', ...login(id)]);

    // What the relay may see, watched with its credentials.
    const observer = await connectMqtt(broker.port, { username: 'sightline-relay', password: users['sightline-relay'] });
    stack.onCleanup(() => observer.close());
    await observer.subscribe('sightline/+/state');
    await observer.subscribe('sightline/+/ack');
    // Each camera's own state and discovery configs got through.
    await observer.waitFor((m) => m.topic === 'sightline/cam-a/state' && JSON.parse(m.payload).online === true);
    await observer.waitFor((m) => m.topic === 'sightline/cam-b/state' && JSON.parse(m.payload).online === true);

    // cam-b's credentials, used by someone else.
    const rogue = await connectMqtt(broker.port, { username: 'cam-b', password: users['cam-b'] });
    stack.onCleanup(() => rogue.close());
    await rogue.subscribe('sightline/cam-a/cmd');
    await rogue.subscribe('sightline/cam-b/cmd');
    // A command to cam-a through the relay works, and cam-b's credentials never see it...
    const toA = await postCommand(relay.port, 'cam-a', { type: 'get_state' });
    assert.equal(toA.status, 200);
    assert.equal(toA.ack.status, 'ok');
    // ...while a command to cam-b itself does reach them (the subscription is live).
    const toB = await postCommand(relay.port, 'cam-b', { type: 'get_state' });
    assert.equal(toB.status, 200);
    await rogue.waitFor((m) => m.topic === 'sightline/cam-b/cmd');
    assert.equal(rogue.messages.filter((m) => m.topic === 'sightline/cam-a/cmd').length, 0);

    // Forged state and a command for cam-a are dropped by the broker; cam-b's own
    // topic, published after them, arrives: the broker has handled them by then.
    await rogue.publish('sightline/cam-a/state', JSON.stringify({ type: 'state', camera: 'cam-a', online: false }));
    await rogue.publish('sightline/cam-a/cmd', JSON.stringify({ id: 'forged-1', type: 'restart' }));
    await rogue.publish('sightline/cam-b/state', JSON.stringify({ type: 'state', camera: 'cam-b', online: true, marker: 1 }));
    await observer.waitFor((m) => m.topic === 'sightline/cam-b/state' && JSON.parse(m.payload).marker === 1);
    // cam-a's own ack of a later command comes after anything it would have answered.
    const later = await postCommand(relay.port, 'cam-a', { type: 'get_state' });
    assert.equal(later.status, 200);
    assert.equal(later.ack.result.restarts ?? 0, 0, 'the forged restart was never run');
    assert.ok(!observer.messages.some((m) => m.topic === 'sightline/cam-a/state' && JSON.parse(m.payload).online === false),
      'the forged state never got through');
    assert.ok(!observer.messages.some((m) => m.topic === 'sightline/cam-a/ack' && JSON.parse(m.payload).id === 'forged-1'));
    const camA = (await (await fetch(`${relay.url}/api/cameras`)).json()).cameras.find((c) => c.id === 'cam-a');
    assert.equal(camA.connected, true);
  });
});
