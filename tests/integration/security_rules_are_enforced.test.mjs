// Authentication and limits with security on (the default): tokens with roles,
// expiry and camera lists; device secrets; origins; message floods. Each
// refusal has the right status or code, and everyone else is still served.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import WebSocket from 'ws';
import { Stack, freePort, paths, startAgent, startRelay, waitFor } from './lib/harness.mjs';
import { startBrowser, tileState } from './lib/browser.mjs';

const b64url = (x) => Buffer.from(x).toString('base64url');
// A JWT made here, to forge what `sightline-relay token` would never print.
const jwt = (claims, secret) => {
  const input = `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${crypto.createHmac('sha256', secret).update(input).digest('base64url')}`;
};

// The outcome of a WebSocket upgrade: { open } or { status }.
function upgrade(url, options = {}) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, options);
    ws.on('open', () => resolve({ open: true, ws }));
    ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
    ws.on('error', (e) => resolve({ error: e.message }));
  });
}

test('tokens, roles, camera lists, device secrets, origins, floods', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-secrets-'));
    stack.onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const secret = crypto.randomBytes(32).toString('hex');
    const secretFile = path.join(dir, 'token-secret');
    fs.writeFileSync(secretFile, `${secret}\n`);
    const devices = { 'cam-a': crypto.randomBytes(16).toString('hex'), 'cam-b': crypto.randomBytes(16).toString('hex') };
    const devicesFile = path.join(dir, 'devices');
    fs.writeFileSync(devicesFile, Object.entries(devices).map(([id, s]) => `${id} ${s}`).join('\n'));
    const secure = ['--token-secret-file', secretFile, '--device-secrets', devicesFile];
    const relay = await startRelay(stack, { secure: true, args: secure });
    const token = (...args) => execFileSync(paths.relay, ['token', ...args, '--token-secret-file', secretFile])
      .toString().trim();
    const admin = token('--role', 'admin', '--ttl', '600');
    const api = (p, t, init = {}) => fetch(`${relay.url}${p}`,
      { ...init, headers: { ...(t ? { Authorization: `Bearer ${t}` } : {}), ...(init.headers || {}) } });
    const listed = async () => (await (await api('/api/cameras', admin)).json()).map((c) => c.id);

    // Agents: the right secret gets in; a wrong one, or another device's, does not.
    await startAgent(stack, relay.port, 'cam-a', ['--device-secret', devices['cam-a'], '--width', '640', '--height', '480'],
      { wait: false });
    await startAgent(stack, relay.port, 'cam-b', ['--device-secret', devices['cam-b'], '--width', '640', '--height', '480'],
      { wait: false });
    const intruder = await startAgent(stack, relay.port, 'cam-c', ['--device-secret', devices['cam-a']], { wait: false });
    const impostor = await startAgent(stack, relay.port, 'cam-b', ['--device-secret', 'wrong-secret-wrong-secret'],
      { wait: false, name: 'impostor of cam-b' });
    await waitFor('cam-a and cam-b listed', async () => {
      const ids = await listed();
      return ids.includes('cam-a') && ids.includes('cam-b');
    });
    await waitFor('the refused agents to say why', () =>
      /refused this agent \(HTTP 401\)/.test(intruder.output()) && /refused this agent \(HTTP 401\)/.test(impostor.output()));
    assert.deepEqual((await listed()).sort(), ['cam-a', 'cam-b']);
    // A device that authenticated but announces another id is closed.
    const basic = `Basic ${Buffer.from(`cam-a:${devices['cam-a']}`).toString('base64')}`;
    const forged = await upgrade(`ws://127.0.0.1:${relay.port}/ws/agent`, { headers: { Authorization: basic } });
    assert.ok(forged.open);
    const closed = new Promise((r) => forged.ws.on('close', (code) => r(code)));
    const said = [];
    forged.ws.on('message', (d) => said.push(JSON.parse(String(d))));
    forged.ws.send(JSON.stringify({ type: 'hello', protocol: 1, agent: 'cam-b', cameras: [{ id: 'cam-b', width: 640,
      height: 480, fps: 30, codec: 'H264', source: 'test', encoder: 'x264enc' }] }));
    assert.equal(await closed, 1008);
    assert.ok(said.some((m) => m.type === 'error' && m.code === 'forbidden'));

    // Tokens on the API.
    const none = await api('/api/cameras');
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate'), /Bearer/);
    const now = Math.floor(Date.now() / 1000);
    const expired = await api('/api/cameras', jwt({ role: 'admin', exp: now - 5 }, secret));
    assert.equal(expired.status, 401);
    assert.match((await expired.json()).message, /expired/);
    const forgedToken = await api('/api/cameras', jwt({ role: 'admin', exp: now + 600 }, 'not the secret'));
    assert.equal(forgedToken.status, 401);
    assert.match((await forgedToken.json()).message, /signature/);
    assert.equal((await api('/api/cameras?token=' + admin)).status, 200, 'a token in the query works too');

    // A viewer may list and watch, not command.
    const viewer = token('--role', 'viewer', '--ttl', '600');
    assert.equal((await api('/api/cameras', viewer)).status, 200);
    const denied = await api('/api/cameras/cam-a/commands', viewer, { method: 'POST', body: '{"type":"get_state"}' });
    assert.equal(denied.status, 403);
    assert.equal((await denied.json()).code, 'forbidden');
    const session = await (await api('/api/session', viewer)).json();
    assert.equal(session.role, 'viewer');

    // A token limited to cam-a sees nothing else, as if the rest did not exist.
    const onlyA = token('--role', 'operator', '--ttl', '600', '--cameras', 'cam-a');
    assert.deepEqual((await (await api('/api/cameras', onlyA)).json()).map((c) => c.id), ['cam-a']);
    const hidden = await api('/api/cameras/cam-b/commands', onlyA, { method: 'POST', body: '{"type":"get_state"}' });
    assert.equal(hidden.status, 404);
    assert.equal((await api('/api/cameras/cam-b/snapshot.jpg', onlyA)).status, 404);

    // WebSocket upgrades: no token, a bad one, a foreign origin.
    const ws = `ws://127.0.0.1:${relay.port}/ws/viewer`;
    assert.equal((await upgrade(ws)).status, 401);
    assert.equal((await upgrade(`${ws}?token=${jwt({ role: 'admin', exp: now - 5 }, secret)}`)).status, 401);
    assert.equal((await upgrade(`${ws}?token=${viewer}`, { origin: 'http://evil.example' })).status, 403);
    const allowed = await upgrade(`${ws}?token=${viewer}`, { origin: relay.url });
    assert.ok(allowed.open);
    // The viewer's socket: commands refused for its role; a flood closes it.
    const got = [];
    allowed.ws.on('message', (d) => got.push(JSON.parse(String(d))));
    allowed.ws.send(JSON.stringify({ type: 'command', ref: 'c1', camera: 'cam-a', command: 'get_state' }));
    await waitFor('the refusal', () => got.find((m) => m.type === 'command_result'));
    assert.equal(got.find((m) => m.type === 'command_result').ack.code, 'forbidden');
    const floodClosed = new Promise((r) => allowed.ws.on('close', (code) => r(code)));
    for (let i = 0; i < 200; i++) allowed.ws.send('{"type":"heartbeat"}');
    assert.equal(await floodClosed, 1008);
    assert.ok(got.some((m) => m.type === 'error' && m.code === 'too_many_messages'));

    // Everyone else is still served: a page with a viewer token plays cam-a.
    const browser = await startBrowser(stack);
    const page = await browser.open(`${relay.url}/view/cam-a?token=${viewer}`);
    await tileState(page, 'cam-a', 'live');
    assert.equal(new URL(page.url()).search, '', 'the token left the address bar');
    // A page without a token is asked for one.
    const stranger = await browser.open(`${relay.url}/view/cam-a`);
    await stranger.waitForSelector('#signin');
  });
});

test('security is on unless explicitly off, and off only on loopback', async () => {
  const run = (args) => spawnSync(paths.relay, ['--web-root', paths.webRoot, ...args], { timeout: 10000 });
  const noSecret = run(['--listen', `127.0.0.1:${await freePort()}`]);
  assert.equal(noSecret.status, 2);
  assert.match(String(noSecret.stderr), /'token-secret'/);
  const wide = run(['--listen', `0.0.0.0:${await freePort()}`, '--insecure-dev']);
  assert.equal(wide.status, 2);
  assert.match(String(wide.stderr), /'insecure-dev'/);
});
