// A request is judged from its headers before its body is read: twenty concurrent
// unauthenticated POSTs announcing 100 MB each are answered 401 at once, an
// authorised one over the command route's 16 KiB 413, a body of unknown length on
// the API 411; the relay reads none of those bodies, so its peak memory does not
// grow by what they announced. The clients say `Expect: 100-continue` and send the
// body only if the relay asks for it, as HTTP lets a client do: a relay that read
// bodies before judging them would ask, get 2 GB, and hold them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { Stack, paths, startRelay } from './lib/harness.mjs';

const HUNDRED_MB = 100 * 1024 * 1024;

function peakKb(pid) {
  return Number(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/)[1]);
}

// Sends the headers, then the body (64 KiB at a time) once the relay says 100
// Continue; resolves with the final status and how many body bytes went.
function post(port, target, headers, length) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    let reply = '';
    let sent = 0;
    let done = false;
    const finish = (result, error) => {
      if (done) return;
      done = true;
      socket.destroy();
      if (error) reject(error); else resolve(result);
    };
    const pump = () => {
      while (!done && sent < length) {
        const n = Math.min(chunk.length, length - sent);
        sent += n;
        if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    socket.on('connect', () => {
      const lines = [`POST ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Expect: 100-continue',
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    socket.on('data', (d) => {
      reply += d;
      for (;;) {
        const end = reply.indexOf('\r\n\r\n');
        if (end < 0) return;
        const status = Number(reply.split(' ')[1]);
        reply = reply.slice(end + 4);
        if (status === 100) pump();
        else return finish({ status, sent });
      }
    });
    socket.on('error', (e) => finish(null, e));
    socket.on('close', () => finish(null, new Error(`closed without an answer after ${sent} body bytes`)));
  });
}

test('bodies are judged before they are read', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-bodies-'));
    stack.onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const secretFile = path.join(dir, 'token-secret');
    fs.writeFileSync(secretFile, `${crypto.randomBytes(32).toString('hex')}\n`);
    const devicesFile = path.join(dir, 'devices');
    fs.writeFileSync(devicesFile, `cam ${crypto.randomBytes(16).toString('hex')}\n`);
    const relay = await startRelay(stack, { secure: true,
      args: ['--token-secret-file', secretFile, '--device-secrets', devicesFile] });
    const admin = execFileSync(paths.relay, ['token', '--role', 'admin', '--ttl', '600', '--token-secret-file',
      secretFile]).toString().trim();
    const before = peakKb(relay.proc.pid);

    // Twenty at once, no credentials, 100 MB announced each.
    const strangers = await Promise.all(Array.from({ length: 20 }, () =>
      post(relay.port, '/api/cameras/cam/commands', { 'Content-Type': 'application/json',
        'Content-Length': HUNDRED_MB }, HUNDRED_MB)));
    for (const r of strangers) assert.deepEqual(r, { status: 401, sent: 0 });

    // With credentials: over the route's limit, and of unknown length.
    const auth = { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' };
    assert.deepEqual(await post(relay.port, '/api/cameras/cam/commands', { ...auth, 'Content-Length': HUNDRED_MB },
      HUNDRED_MB), { status: 413, sent: 0 });
    assert.deepEqual(await post(relay.port, '/api/cameras/cam/commands', { ...auth, 'Transfer-Encoding': 'chunked' },
      0), { status: 411, sent: 0 });
    // A route that takes no body at all.
    assert.deepEqual(await post(relay.port, '/index.html', { 'Content-Length': 1024 }, 1024), { status: 413, sent: 0 });
    // A command of a proper size is still read and answered (404: no such camera here).
    const body = JSON.stringify({ type: 'force_keyframe' });
    const small = await post(relay.port, '/api/cameras/cam/commands', { ...auth, 'Content-Length': body.length },
      body.length);
    assert.equal(small.sent, body.length);
    assert.notEqual(small.status, 413);

    const grown = peakKb(relay.proc.pid) - before;
    assert.ok(grown < 10 * 1024, `the relay's peak memory grew by ${grown} kB`);
    assert.match(relay.proc.output(), /refused before its body was read \(unauthorized; 104857600 bytes announced\)/);
    assert.match(relay.proc.output(), /refused: a body of 104857600 bytes, more than its 16384/);
  });
});
