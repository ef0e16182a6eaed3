// `sightline-agent --list-devices` and `--check` as a user runs them on a device:
// plain words, exit 0 when all is well and 1 with the reasons when not. This
// machine has no camera: both must say so clearly.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { Stack, freePort, paths, startAgent, startMosquitto, startRelay, waitFor } from './lib/harness.mjs';

// Runs the agent to completion (bounded), resolving to { status, stdout, stderr }.
function agent(args, timeout = 30000) {
  return new Promise((resolve) => {
    const child = spawn(paths.agent, args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('exit', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}
const line = (out, label) => out.split('\n').find((l) => new RegExp(`^\\S+\\s+${label}\\s`).test(l)) || '';

test('--list-devices lists the cameras, or says there are none', async () => {
  const r = await agent(['--list-devices']);
  assert.equal(r.status, 0);
  const here = fs.readdirSync('/dev').filter((d) => /^video\d+$/.test(d));
  if (here.length === 0) assert.match(r.stdout, /^No cameras found .*--source test/);
  else assert.match(r.stdout, /source=v4l2:\/dev\/video\d+/);
});

test('--check: what the agent would use, and whether relay and broker accept it', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-check-'));
    stack.onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const secret = crypto.randomBytes(16).toString('hex');
    fs.writeFileSync(path.join(dir, 'devices'), `porch ${secret}\n`);
    fs.writeFileSync(path.join(dir, 'token'), crypto.randomBytes(32).toString('hex'));
    const relay = await startRelay(stack, { secure: true, args: ['--device-secrets', path.join(dir, 'devices'),
      '--token-secret-file', path.join(dir, 'token')] });
    const broker = await startMosquitto(stack);
    const relayUrl = `ws://127.0.0.1:${relay.port}`;
    const token = execFileSync(paths.relay, ['token', '--role', 'viewer', '--ttl', '600', '--token-secret-file',
      path.join(dir, 'token')]).toString().trim();
    const porch = async () => (await (await fetch(`${relay.url}/api/cameras`,
      { headers: { Authorization: `Bearer ${token}` } })).json()).cameras.find((c) => c.id === 'porch');
    const base = ['--id', 'porch', '--relay', relayUrl, '--device-secret', secret, '--width', '640', '--height', '480'];

    // The agent itself runs meanwhile: the check must not disturb it.
    const running = await startAgent(stack, relay.port, 'porch', ['--device-secret', secret, '--mqtt', broker.url,
      '--width', '640', '--height', '480'], { wait: false });
    await waitFor('the running agent listed', async () => (await porch())?.connected);
    const good = await agent([...base, '--mqtt', broker.url, '--check']);
    assert.equal(good.status, 0, good.stdout);
    assert.match(line(good.stdout, 'camera'), /^ok .*source=test: moving test pattern, 640x480@30/);
    assert.match(line(good.stdout, 'encoder'), /^ok .*(x264enc|openh264enc|v4l2h264enc|vp8enc)/);
    assert.match(line(good.stdout, 'webrtc'), /^ok /);
    assert.match(line(good.stdout, 'relay'), /^ok .*connected, camera 'porch' accepted/);
    assert.match(line(good.stdout, 'broker'), /^ok .*connected/);
    assert.match(good.stdout, /All good/);
    if (!fs.readdirSync('/dev').some((d) => /^video\d+$/.test(d)))
      assert.match(line(good.stdout, 'cameras'), /none found on this machine/);
    const listed = await porch();
    assert.equal(listed.connected, true);
    assert.equal(listed.width, 640, 'still the running agent\'s camera');
    assert.doesNotMatch(running.output(), /link to relay closed/, 'the running agent kept its link');

    // Each thing wrong is named: the camera, the secret, the broker.
    const bad = await agent(['--id', 'porch', '--relay', relayUrl, '--device-secret', 'not-the-secret-at-all',
      '--source', 'v4l2:/dev/video99', '--mqtt', `tcp://127.0.0.1:${await freePort()}`, '--check']);
    assert.equal(bad.status, 1);
    assert.match(line(bad.stdout, 'camera'), /^FAIL .*Cannot open camera \/dev\/video99/);
    assert.match(line(bad.stdout, 'encoder'), /^ok /, 'the encoder is still checked');
    assert.match(line(bad.stdout, 'relay'), /^FAIL .*refused this agent \(HTTP 401\).*device-secret/);
    assert.match(line(bad.stdout, 'broker'), /^FAIL .*TCP connect failed/);
    assert.match(bad.stdout, /3 problems/);

    // A CSI camera through libcamera: there is none on this machine.
    const csi = await agent([...base, '--source', 'libcamera', '--check']);
    assert.equal(csi.status, 1);
    assert.match(line(csi.stdout, 'camera'), /^FAIL .*source=libcamera: (libcamera finds no such camera|libcamerasrc is missing)/);

    // A relay that is not there.
    const away = await agent(['--id', 'porch', '--relay', `ws://127.0.0.1:${await freePort()}`, '--check']);
    assert.equal(away.status, 1);
    assert.match(line(away.stdout, 'relay'), /^FAIL .*cannot reach relay/);
  });
});
