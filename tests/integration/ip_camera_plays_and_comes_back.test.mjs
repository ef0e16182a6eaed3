// IP cameras (--source rtsp://...) against real RTSP servers (gst-rtsp-server,
// tests/tools/rtsp_test_camera.cpp) on loopback, with basic auth. The servers
// stamp their frames (LTS1) before encoding and the agents do not stamp, so a
// readable, advancing, fresh stamp in the page proves the picture came live
// from the RTSP server. H.264 is passed through (no agent encoder), H.265 is
// decoded and encoded again; a server that is killed shows offline and plays
// again by itself once restarted, and so does one that goes silent; wrong
// credentials are said plainly.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { Stack, camera, freePort, startAgent, startRelay, waitFor } from './lib/harness.mjs';
import { startBrowser, tileState } from './lib/browser.mjs';
import { checkLine, playsLive, rtspCameraBinary, runAgent, startRtspCamera } from './lib/rtsp_camera.mjs';
import { nowT, readStamp } from './lib/stamp.mjs';


// The delay of each retry the agent announced, by attempt.
function retryDelays(output, id) {
  const delays = {};
  for (const m of output.matchAll(new RegExp(`camera ${id}: retrying in ([\\d.]+) s \\(attempt (\\d+)\\)`, 'g')))
    delays[m[2]] = Number(m[1]);
  return delays;
}

test('ip camera plays and comes back', async () => {
  assert.ok(
      fs.existsSync(rtspCameraBinary),
      `${rtspCameraBinary} is missing: install libgstrtspserver-1.0-dev (scripts/setup.sh) and build again`);
  const stack = new Stack();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-rtsp-'));
  stack.onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const good = path.join(dir, 'camera.credentials');
  const wrong = path.join(dir, 'wrong.credentials');
  fs.writeFileSync(good, 'viewer:c4m-s3cret\n', { mode: 0o600 });
  fs.writeFileSync(wrong, 'viewer:not-the-password\n', { mode: 0o600 });

  await stack.run(async () => {
    const relay = await startRelay(stack);
    const h264Port = await freePort();
    const h265Port = await freePort();
    const h264Args = ['--codec', 'h264', '--width', '640', '--height', '360', '--fps', '30'];
    let h264 = await startRtspCamera(stack, 'rtsp h264', h264Port, good, h264Args);
    await startRtspCamera(
        stack, 'rtsp h265', h265Port, good,
        ['--codec', 'h265', '--width', '480', '--height', '272', '--fps', '30', '--pattern', 'ball']);

    // The agents ask for another size: what plays is the camera's.
    const ip = await startAgent(
        stack, relay.port, 'cam-ip', ['--source', `rtsp://127.0.0.1:${h264Port}/cam`, '--rtsp-credentials-file', good]);
    const hevc = await startAgent(
        stack, relay.port, 'cam-hevc',
        ['--source', `rtsp://127.0.0.1:${h265Port}/cam`, '--rtsp-transport', 'udp', '--rtsp-credentials-file', good]);
    // A camera still booting when the agent starts: the agent starts anyway.
    const latePort = await freePort();
    const late = await startAgent(
        stack, relay.port, 'cam-late', ['--source', `rtsp://127.0.0.1:${latePort}/cam`, '--rtsp-credentials-file', good]);
    assert.match(late.output(), /Cannot reach the camera at rtsp:\/\/127\.0\.0\.1:\d+\/cam/);
    const locked = await startAgent(
        stack, relay.port, 'cam-locked',
        ['--source', `rtsp://127.0.0.1:${h264Port}/cam`, '--rtsp-credentials-file', wrong], { wait: false });

    // A URL with a password in it is refused before anything starts, without echoing it.
    const inUrl = await runAgent(['--source', `rtsp://viewer:c4m-s3cret@127.0.0.1:${h264Port}/cam`]);
    assert.equal(inUrl.status, 2);
    assert.match(inUrl.out, /rtsp-credentials-file/);
    assert.doesNotMatch(inUrl.out, /c4m-s3cret/);
    // --check says what the camera sends and what is done with it, or why it cannot be watched.
    const check = (file) => runAgent(['--check', '--id', 'cam-check', '--relay', `ws://127.0.0.1:${relay.port}`,
      '--source', `rtsp://127.0.0.1:${h264Port}/cam`, '--rtsp-credentials-file', file]);
    const [fine, refused] = await Promise.all([check(good), check(wrong)]);
    // Main or High profile with B-frames: not passed through, encoded again by the agent.
    const highPort = await freePort();
    await startRtspCamera(stack, 'rtsp h264 high', highPort, good, ['--codec', 'h264-bframes', '--width', '640', '--height', '360']);
    const high = await runAgent(['--check', '--id', 'cam-check', '--relay', `ws://127.0.0.1:${relay.port}`,
      '--source', `rtsp://127.0.0.1:${highPort}/cam`, '--rtsp-credentials-file', good]);
    assert.match(checkLine(high.out, 'camera'), /^ok .*H264 (main|high), 640x360@30; .*B-frames.*encoded again/, high.out);
    assert.match(checkLine(high.out, 'encoder'), /^ok .*x264enc/, high.out);
    assert.match(checkLine(fine.out, 'camera'), /^ok .*H264 constrained-baseline, 640x360@30; .*passed through/, fine.out);
    assert.equal(fine.status, 0, fine.out);
    assert.match(checkLine(refused.out, 'camera'), /^FAIL .*refused the user name and password/, refused.out);
    assert.equal(refused.status, 1);

    // H.264 constrained baseline: passed through, no encoder in the agent.
    assert.match(ip.output(), /H\.264 constrained-baseline is passed through/);
    const listed = await camera(relay.port, 'cam-ip');
    assert.equal(listed.encoder, 'passthrough');
    assert.deepEqual([listed.width, listed.height], [640, 360]);
    // H.265: decoded, encoded as H.264 by the agent's encoder.
    assert.match(hevc.output(), /H265 is decoded and encoded as H\.264/);
    assert.equal((await camera(relay.port, 'cam-hevc')).encoder, 'x264enc');

    const browser = await startBrowser(stack);
    const viewIp = await browser.open(`${relay.url}/view/cam-ip`);
    const viewHevc = await browser.open(`${relay.url}/view/cam-hevc`);
    await playsLive(viewIp, 'cam-ip', { size: [640, 360] });
    await playsLive(viewHevc, 'cam-hevc', { size: [480, 272] });
    // Passed through: what the agent sends is the camera's own bitstream, no frame encoded here.
    assert.doesNotMatch(ip.output(), /x264enc|openh264enc/);

    // The late camera comes up: the agent finds it by itself and its video flows
    // (decoded and encoded: pass-through is decided when the stream is seen).
    assert.equal((await camera(relay.port, 'cam-late')).online, false);
    const lateServer = await startRtspCamera(stack, 'rtsp late', latePort, good, ['--width', '480', '--height', '272']);
    await waitFor('cam-late online with frames', async () => {
      const c = await camera(relay.port, 'cam-late');
      return c.online && c.fps_measured > 0;
    }, { timeout: 30000 });
    assert.equal((await camera(relay.port, 'cam-late')).encoder, 'x264enc');
    await late.stop();
    await lateServer.stop();

    // Wrong credentials: said plainly, the camera offline, the agent still up.
    await waitFor('the refusal in the log', () => /refused the user name and password/.test(locked.output()));
    assert.equal(locked.exited, null, 'the agent with wrong credentials keeps running');
    await waitFor('cam-locked listed offline', async () => {
      const c = await camera(relay.port, 'cam-locked');
      return c && c.connected && !c.online;
    });
    assert.doesNotMatch(locked.output() + ip.output(), /not-the-password|c4m-s3cret/, 'no password in any log');

    // The server dies: the page shows the camera offline, the other one plays on.
    await stack.kill(h264);
    await tileState(viewIp, 'cam-ip', 'offline');
    assert.match(ip.output(), /camera cam-ip stopped: .*the source ended its stream/);
    assert.equal((await camera(relay.port, 'cam-ip')).online, false);
    await waitFor('a retry with backoff', () => /camera cam-ip: retrying in [\d.]+ s \(attempt 2\)/.test(ip.output()));
    await playsLive(viewHevc, 'cam-hevc', { size: [480, 272] });

    // It comes back on the same address: the page plays again by itself, no reload.
    const back = nowT();
    h264 = await startRtspCamera(stack, 'rtsp h264 again', h264Port, good, h264Args);
    const again = await playsLive(viewIp, 'cam-ip', { size: [640, 360] });
    assert.ok(((again.t - back) >>> 0) < 60000, 'the stamp is from the restarted server');
    assert.match(ip.output(), /camera cam-ip: running again/);

    // A camera that goes silent with its connection open (frozen, not closed):
    // offline after a few seconds without frames, back when it sends again.
    const retries = () => (ip.output().match(/camera cam-ip: retrying in/g) ?? []).length;
    const before = retries();
    h264.child.kill('SIGSTOP');
    try {
      await tileState(viewIp, 'cam-ip', 'offline', 15000);
      assert.match(ip.output(), /camera cam-ip stopped: no video from the source for \d+ s/);
      // The page hears its session end a moment before the relay hears the camera's state.
      await waitFor('the relay to list cam-ip offline', async () => !(await camera(relay.port, 'cam-ip')).online);
      // Retries while it stays frozen connect and wait: listed offline all along, never online.
      let seenOnline = false;
      await waitFor('a retry that also timed out', async () => {
        seenOnline ||= (await camera(relay.port, 'cam-ip')).online;
        return retries() >= before + 2;
      }, { timeout: 20000, interval: 100 });
      assert.equal(seenOnline, false, 'a retry of a frozen camera showed it online');
    } finally {
      h264.child.kill('SIGCONT');
    }
    await playsLive(viewIp, 'cam-ip', { size: [640, 360] });
    // The refused camera is retried all along, ever less often (each delay drawn
    // from the upper half of its doubling step: attempt 3's is 2-4 s, attempt 1's under 1 s).
    const delays = await waitFor('three retries of cam-locked', () => {
      const d = retryDelays(locked.output(), 'cam-locked');
      return d[3] ? d : null;
    });
    assert.ok(delays[1] <= 1 && delays[3] >= 2 && delays[3] > delays[1], JSON.stringify(delays));
    for (const page of [viewIp, viewHevc]) assert.deepEqual(page.errors, []);
  });
});
