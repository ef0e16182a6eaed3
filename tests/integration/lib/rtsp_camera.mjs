// IP cameras for the tests: real RTSP servers (gst-rtsp-server,
// tests/tools/rtsp_test_camera.cpp) on loopback, and the agent run to completion
// for its --check against them.
import { spawn } from 'node:child_process';
import path from 'node:path';
import assert from 'node:assert/strict';
import { Proc, paths, waitFor } from './harness.mjs';
import { tileState } from './browser.mjs';
import { nowT, readStamp } from './stamp.mjs';

export const rtspCameraBinary = process.env.SIGHTLINE_RTSP_CAMERA || path.join(paths.source, 'build/tests/tools/rtsp-test-camera');

export async function startRtspCamera(stack, name, port, credentials, args) {
  const proc =
      stack.add(new Proc(name, rtspCameraBinary, ['--port', String(port), '--credentials-file', credentials, ...args]));
  await waitFor(`${name} to listen`, () => {
    if (proc.exited) throw new Error(`${name} exited: ${proc.output()}`);
    return proc.output().includes('ready rtsp://');
  });
  return proc;
}

// Runs the agent to completion (bounded): { status, out }.
export function runAgent(args, timeout = 20000) {
  return new Promise((resolve) => {
    const child = spawn(paths.agent, args);
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('exit', (status) => { clearTimeout(timer); resolve({ status, out }); });
  });
}

// The line of --check's report with this label.
export const checkLine = (out, label) => out.split('\n').find((l) => new RegExp(`^\\S+\\s+${label}\\s`).test(l)) || '';

// A fresh stamp that advances: the picture is live from the RTSP server (which
// stamps its frames; the agents do not). `size`: the frame size it must have.
export async function playsLive(page, id, { size, timeout } = {}) {
  const video = `figure.tile[data-camera="${id}"] video`;
  await tileState(page, id, 'live', timeout);
  const first = await waitFor(`a stamp from ${id}`, () => readStamp(page, video));
  if (size) assert.deepEqual([first.width, first.height], size, `${id}: the camera's own frame size`);
  const age = (nowT() - first.t) >>> 0;
  assert.ok(age < 5000, `${id}: stamp is ${age} ms old`);
  await waitFor(`${id}'s stamp to advance`, async () => {
    const later = await readStamp(page, video);
    const step = later ? (later.t - first.t) >>> 0 : 0;
    return step > 0 && step < 60000;
  });
  return first;
}
