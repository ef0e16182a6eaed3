// Home Assistant MQTT discovery: the configs are retained under homeassistant/,
// point at our topics, and a button press (its payload_press on its
// command_topic, as Home Assistant sends it) runs the command and updates the
// camera entity's image topic.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Stack, startAgent, startMosquitto, startRelay } from './lib/harness.mjs';
import { connectMqtt } from './lib/mqtt.mjs';

test('Home Assistant discovery configs and a button press', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const broker = await startMosquitto(stack);
    const relay = await startRelay(stack, { args: ['--mqtt', broker.url] });
    await startAgent(stack, relay.port, 'porch', ['--mqtt', broker.url, '--width', '640', '--height', '480',
      '--homeassistant-discovery']);
    const ha = await connectMqtt(broker.port);
    stack.onCleanup(() => ha.close());
    await ha.subscribe('homeassistant/#');
    await ha.subscribe('sightline/porch/#');
    const config = async (topic) => (await ha.waitFor((m) => m.topic === topic, { what: topic })).json();

    const fps = await config('homeassistant/sensor/sightline_porch/fps/config');
    assert.equal(fps.state_topic, 'sightline/porch/state');
    assert.equal(fps.availability_topic, 'sightline/porch/state');
    assert.equal(fps.device.identifiers[0], 'sightline_porch');
    const bitrate = await config('homeassistant/sensor/sightline_porch/bitrate/config');
    assert.equal(bitrate.unit_of_measurement, 'kbit/s');
    assert.equal(bitrate.device_class, 'data_rate');
    const image = await config('homeassistant/camera/sightline_porch/snapshot/config');
    assert.equal(image.topic, 'sightline/porch/snapshot');
    for (const button of ['restart', 'keyframe']) {
      assert.equal((await config(`homeassistant/button/sightline_porch/${button}/config`)).command_topic,
        'sightline/porch/cmd');
    }
    // Retained: a Home Assistant that starts later still gets every config.
    const later = await connectMqtt(broker.port);
    stack.onCleanup(() => later.close());
    await later.subscribe('homeassistant/#');
    const retained = await later.waitFor((m) => m.topic === 'homeassistant/camera/sightline_porch/snapshot/config');
    assert.ok(retained.retain, 'discovery configs are retained');
    assert.equal(retained.json().topic, image.topic);

    // The state the templates read has the fields they name.
    const state = (await ha.waitFor((m) => m.topic === 'sightline/porch/state' && m.json().online)).json();
    assert.equal(typeof state.fps, 'number');
    assert.equal(typeof state.bitrate_kbps, 'number');

    // Pressing "Take snapshot" twice: the same payload each time, both run.
    const snapshot = await config('homeassistant/button/sightline_porch/snapshot/config');
    for (let press = 1; press <= 2; press++) {
      const seen = ha.messages.length;
      await ha.publish(snapshot.command_topic, snapshot.payload_press, { qos: snapshot.qos });
      const ack = await ha.waitFor((m) => m.topic === 'sightline/porch/ack' && ha.messages.indexOf(m) >= seen,
        { what: `the ack of press ${press}` });
      assert.equal(ack.json().status, 'ok', JSON.stringify(ack.json()));
      const picture = await ha.waitFor((m) => m.topic === image.topic && ha.messages.indexOf(m) >= seen,
        { what: `the picture of press ${press}` });
      assert.equal(picture.payload.readUInt16BE(0), 0xffd8);
    }
  });
});
