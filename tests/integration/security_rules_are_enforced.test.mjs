// Authentication and limits with security on (the default): tokens with roles,
// expiry and camera lists; device secrets; origins; message floods. Each
// refusal has the right status or code, and everyone else is still served.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
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
    const listed = async () => (await (await api('/api/cameras', admin)).json()).cameras.map((c) => c.id);

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
    assert.deepEqual((await (await api('/api/cameras', onlyA)).json()).cameras.map((c) => c.id), ['cam-a']);
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

    // The device list re-read on SIGHUP: cam-b taken out (its agent is closed and then
    // refused), cam-d added (it gets in); cam-a and its viewer go on undisturbed.
    const camB = stack.procs.find((p) => p.name === 'agent cam-b');
    devices['cam-d'] = crypto.randomBytes(16).toString('hex');
    fs.writeFileSync(devicesFile, `cam-a ${devices['cam-a']}\ncam-d ${devices['cam-d']}\n`);
    relay.proc.child.kill('SIGHUP');
    await waitFor('the relay to reload', () => /reload: 2 device\(s\) allowed in/.test(relay.proc.output()));
    await waitFor('cam-b refused after the reload', () =>
      (camB.output().match(/refused this agent \(HTTP 401\)/g) || []).length >= 1);
    await startAgent(stack, relay.port, 'cam-d', ['--device-secret', devices['cam-d'], '--width', '320', '--height', '240'],
      { wait: false });
    await waitFor('cam-d listed, cam-b gone', async () => {
      const list = (await (await api('/api/cameras', admin)).json()).cameras;
      return list.find((c) => c.id === 'cam-d')?.connected && !list.find((c) => c.id === 'cam-b')?.connected;
    });
    assert.match(relay.proc.output(), /device cam-b: no longer in the device list as it was; closing/);
    await tileState(page, 'cam-a', 'live');
    // A broken list is refused and the previous one kept.
    fs.writeFileSync(devicesFile, 'cam-a short\n');
    relay.proc.child.kill('SIGHUP');
    await waitFor('the bad list refused', () => /reload: .*Keeping the previous list/.test(relay.proc.output()));
    assert.ok((await (await api('/api/cameras', admin)).json()).cameras.find((c) => c.id === 'cam-d')?.connected);
  });
});

// A raw peer on a relay socket that answers heartbeats and keeps what it is sent.
async function peer(url, { localAddress } = {}) {
  const ws = new WebSocket(url, { localAddress });
  const got = [];
  ws.on('message', (d) => {
    const m = JSON.parse(String(d));
    if (m.type === 'heartbeat') ws.send('{"type":"heartbeat"}');
    else got.push(m);
  });
  const closed = new Promise((r) => ws.on('close', (code) => r(code)));
  await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  const send = (m) => ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  // The relay's reply to watch `ref`: its session, or its error.
  const reply = (ref) => waitFor(`reply to ${ref}`, () => got.find((m) => m.ref === ref), { timeout: 5000 });
  return { ws, got, closed, send, reply };
}

test('limits: sessions per socket, client and camera, pending sessions, slow handshakes, big messages, CORS', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack, { args: ['--max-sessions-per-socket', '3', '--max-sessions-per-client', '5',
      '--max-sessions-per-camera', '4', '--max-pending-sessions', '2', '--handshake-timeout', '2',
      '--max-message-size', '4096', '--session-timeout', '60', '--cors-origins', 'http://tools.example'] });
    const ws = `ws://127.0.0.1:${relay.port}`;
    // A stand-in agent with two cameras that answers offers only when told to.
    const agent = await peer(`${ws}/ws/agent`);
    const cam = (id) => ({ id, width: 640, height: 480, fps: 30, codec: 'H264', source: 'test', encoder: 'x264enc' });
    agent.send({ type: 'hello', protocol: 1, agent: 'fake', cameras: [cam('cam-x'), cam('cam-y')] });
    await waitFor('the cameras listed', async () => (await (await fetch(`${relay.url}/api/cameras`)).json()).cameras.length === 2);
    const answer = async (session) => {
      await waitFor(`offer for ${session}`, () => agent.got.find((m) => m.type === 'offer' && m.session === session));
      agent.send({ type: 'answer', session, sdp: 'v=0' });
    };
    const watch = async (viewer, ref, camera) => {
      viewer.send({ type: 'watch', ref, camera, sdp: 'v=0' });
      return viewer.reply(ref);
    };
    const refused = (reply, what, code = 'too_many_sessions') => {
      assert.equal(reply.type, 'error', `${reply.ref} should be refused`);
      assert.equal(reply.code, code);
      assert.match(reply.message, what);
    };

    // Pending: two unanswered sessions per socket, the third refused until one is answered.
    const v1 = await peer(`${ws}/ws/viewer`);
    const s1 = await watch(v1, 'r1', 'cam-x');
    const s2 = await watch(v1, 'r2', 'cam-x');
    assert.equal(s1.type, 'session');
    assert.equal(s2.type, 'session');
    refused(await watch(v1, 'r3', 'cam-x'), /unanswered/, 'too_many_pending');
    await answer(s1.session);
    await answer(s2.session);
    await waitFor('both answers', () => v1.got.filter((m) => m.type === 'answer').length === 2);
    // Per socket: three.
    const s4 = await watch(v1, 'r4', 'cam-x');
    assert.equal(s4.type, 'session');
    await answer(s4.session);
    refused(await watch(v1, 'r5', 'cam-y'), /this connection already watches 3/);
    // Per camera: four viewers of cam-x, whoever they are.
    const v2 = await peer(`${ws}/ws/viewer`);
    const s6 = await watch(v2, 'r6', 'cam-x');
    assert.equal(s6.type, 'session');
    await answer(s6.session);
    refused(await watch(v2, 'r7', 'cam-x'), /camera 'cam-x' already has 4/);
    // Per client (its address, across its sockets): five.
    assert.equal((await watch(v2, 'r8', 'cam-y')).type, 'session');
    const v3 = await peer(`${ws}/ws/viewer`);
    refused(await watch(v3, 'r9', 'cam-y'), /this client already watches 5/);
    assert.match(relay.proc.output(), /viewer \d+ \(127\.0\.0\.1\) refused: too_many_sessions: this client already watches 5/);
    // Another client is not affected by the first one's count...
    const other = await peer(`${ws}/ws/viewer`, { localAddress: '127.0.0.2' });
    const s10 = await watch(other, 'r10', 'cam-y');
    assert.equal(s10.type, 'session');
    await answer(s10.session);
    // ...and a session that ends makes room again.
    v1.send({ type: 'stop', session: s1.session });
    await waitFor('the freed slot', async () => {
      const ref = `again-${Date.now()}`;
      return (await watch(v3, ref, 'cam-y')).type === 'session';
    });

    // A request that never completes is cut off after handshake-timeout; others are served meanwhile.
    const started = Date.now();
    const slow = net.connect(relay.port, '127.0.0.1');
    await new Promise((r) => slow.on('connect', r));
    slow.write(`GET /ws/viewer HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\nUpgrade: websocket\r\n`);
    const cut = new Promise((r) => slow.on('close', r));
    const idle = net.connect(relay.port, '127.0.0.1');  // sends nothing at all
    const idleCut = new Promise((r) => idle.on('close', r));
    assert.equal((await fetch(`${relay.url}/healthz`)).status, 200);
    await cut;
    await idleCut;
    const took = Date.now() - started;
    assert.ok(took >= 1500 && took < 8000, `cut after ${took} ms`);
    assert.match(relay.proc.output(), /request from 127\.0\.0\.1 not complete in time/);

    // An oversized message closes only its own socket (the relay sends 1009 and hangs up), logged with the peer.
    const big = await peer(`${ws}/ws/viewer`, { localAddress: '127.0.0.3' });
    big.send({ type: 'watch', ref: 'big', camera: 'cam-y', sdp: 'x'.repeat(5000) });
    assert.ok([1006, 1009].includes(await big.closed));
    await waitFor('the oversized message logged', () => /viewer \d+ \(127\.0\.0\.3\): .*(large|big)/i.test(relay.proc.output()));

    // Everyone else is still served.
    assert.equal(v1.ws.readyState, WebSocket.OPEN);
    assert.equal(v2.ws.readyState, WebSocket.OPEN);
    const s11 = await watch(other, 'r11', 'cam-x');
    assert.equal(s11.type, 'session', 'the slot freed on cam-x');
    await answer(s11.session);
    refused(await watch(other, 'r12', 'cam-x'), /camera 'cam-x' already has 4/);
    const listed = (await (await fetch(`${relay.url}/api/cameras`)).json()).cameras;
    assert.equal(listed.find((c) => c.id === 'cam-x').viewers, 4);

    // CORS only for the configured origin.
    const preflight = await fetch(`${relay.url}/api/cameras`, { method: 'OPTIONS',
      headers: { Origin: 'http://tools.example', 'Access-Control-Request-Headers': 'authorization' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://tools.example');
    assert.match(preflight.headers.get('access-control-allow-headers'), /Authorization/);
    const stranger = await fetch(`${relay.url}/api/cameras`, { headers: { Origin: 'http://evil.example' } });
    assert.equal(stranger.headers.get('access-control-allow-origin'), null);
    assert.equal((await fetch(`${relay.url}/api/cameras`, { method: 'OPTIONS',
      headers: { Origin: 'http://evil.example' } })).status, 403);
    for (const p of [v1, v2, v3, other, agent]) p.ws.close();
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

// A page whose session the relay refuses for good (here: the camera has all the
// viewers it may have) says why and stops asking; one whose sessions fail for
// another reason (here: the camera never answers) tries again, waiting longer
// each time.
test('a refused page stops asking, a failing one backs off', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack, { args: ['--max-sessions-per-camera', '1', '--session-timeout', '1'] });
    const ws = `ws://127.0.0.1:${relay.port}`;
    // A stand-in agent: answers cam-full's first session, never cam-mute's.
    const agent = await peer(`${ws}/ws/agent`);
    const offers = [];  // when cam-mute's offers arrived
    agent.ws.on('message', (d) => {
      const m = JSON.parse(String(d));
      if (m.type === 'offer' && m.camera === 'cam-mute') offers.push(Date.now());
    });
    const cam = (id) => ({ id, width: 640, height: 480, fps: 30, codec: 'H264', source: 'test', encoder: 'x264enc' });
    agent.send({ type: 'hello', protocol: 1, agent: 'fake', cameras: [cam('cam-full'), cam('cam-mute')] });
    await waitFor('the cameras listed', async () => (await (await fetch(`${relay.url}/api/cameras`)).json()).cameras.length === 2);
    const holder = await peer(`${ws}/ws/viewer`);
    holder.send({ type: 'watch', ref: 'hold', camera: 'cam-full', sdp: 'v=0' });
    const held = await holder.reply('hold');
    assert.equal(held.type, 'session');
    await waitFor('the offer', () => agent.got.find((m) => m.type === 'offer' && m.session === held.session));
    agent.send({ type: 'answer', session: held.session, sdp: 'v=0' });

    const browser = await startBrowser(stack);
    const full = await browser.open(`${relay.url}/view/cam-full`);
    await tileState(full, 'cam-full', 'refused');
    assert.match(await full.textContent('figure.tile[data-camera="cam-full"] .note'), /cam-full' already has 1 viewers/);
    // It does not ask again: no second refusal in a window that held two or more
    // of the old retries (every 1-2 s).
    const refusals = () => (relay.proc.output().match(/refused: too_many_sessions/g) || []).length;
    assert.equal(refusals(), 1);
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      assert.equal(refusals(), 1, 'the refused page asked again');
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(await full.getAttribute('figure.tile[data-camera="cam-full"]', 'data-state'), 'refused');

    // cam-mute: each session ends after the relay's 1 s session timeout; the page
    // waits 1 s, 2 s, 4 s, 8 s (each jittered down to half) before the next.
    const mute = await browser.open(`${relay.url}/view/cam-mute`);
    await waitFor('five sessions of cam-mute', () => offers.length >= 5, { timeout: 45000 });
    const gaps = offers.slice(1, 5).map((t, i) => t - offers[i]);
    await waitFor('the tile to say when it tries again', async () =>
      /session ended: timeout \(trying again in \d+ s\)/.test(await mute.textContent('figure.tile[data-camera="cam-mute"] .note')));
    assert.ok(gaps[0] < 3500, `the first retry comes soon: ${gaps}`);
    assert.ok(gaps[3] >= 4500, `the fourth retry waits longer (1 s timeout + at least 4 s): ${gaps}`);
    assert.ok(gaps[3] > gaps[0], `later retries wait longer: ${gaps}`);
    assert.deepEqual([...full.errors, ...mute.errors], []);
  });
});
