// A standard WHEP player (the npm package whip-whep's WHEPClient, not written
// here) watches a camera through the relay: its offer goes over POST /whep/<camera>,
// the agent answers, the video shows the camera's stamp, the player's candidates
// trickle in by PATCH, and DELETE frees the agent's branch. Each refusal has its
// status, the TURN credentials in the Link headers expire with the token.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { Stack, camera as listed, freePort, paths, startAgent, startRelay, waitFor } from './lib/harness.mjs';
import { startBrowser } from './lib/browser.mjs';
import { readStamp } from './lib/stamp.mjs';
import { playWhep, playerPage } from './lib/whep_player.mjs';


// The status of a POST that announces `length` bytes and sends them only if asked
// (Expect: 100-continue), and whether it was asked.
function announce(port, target, headers, length) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    socket.on('connect', () => {
      const lines = [`POST ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Expect: 100-continue',
        `Content-Length: ${length}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    socket.on('data', (d) => {
      reply += d;
      if (!reply.includes('\r\n\r\n')) return;
      socket.destroy();
      resolve({ status: Number(reply.split(' ')[1]), asked: reply.startsWith('HTTP/1.1 100') });
    });
    socket.on('error', reject);
  });
}


// `pid` and every process under it (Chromium's renderers, GPU and network processes).
function processTree(pid) {
  const children = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "PID (NAME) STATE PPID ...": the name may hold spaces, the last ')' ends it.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) || []), Number(entry)]);
    } catch { /* gone meanwhile */ }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) || []));
  return out;
}

test('WHEP plays in a standard player', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-whep-'));
    stack.onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const secretFile = path.join(dir, 'token-secret');
    fs.writeFileSync(secretFile, `${crypto.randomBytes(32).toString('hex')}\n`);
    const devices = { cam: crypto.randomBytes(16).toString('hex'), gone: crypto.randomBytes(16).toString('hex') };
    const devicesFile = path.join(dir, 'devices');
    fs.writeFileSync(devicesFile, Object.entries(devices).map(([id, s]) => `${id} ${s}`).join('\n'));
    const stunPort = await freePort();
    const relay = await startRelay(stack, {
      secure: true,
      args: ['--token-secret-file', secretFile, '--device-secrets', devicesFile, '--cors-origins', 'http://player.example',
        '--stun-listen', `127.0.0.1:${stunPort}`, '--stun', `stun:127.0.0.1:${stunPort}`,
        '--turn', `turn:127.0.0.1:${await freePort()}`, '--turn-secret', 'whep-test-turn-secret'],
    });
    const token = (...args) => execFileSync(paths.relay, ['token', ...args, '--token-secret-file', secretFile])
      .toString().trim();
    const admin = token('--role', 'admin', '--ttl', '600');
    const viewer = token('--role', 'viewer', '--ttl', '600', '--cameras', 'cam,gone');
    const elsewhere = token('--role', 'viewer', '--ttl', '600', '--cameras', 'other');
    const viewerExpiry = Math.floor(Date.now() / 1000) + 600;
    const bearer = (t) => (t ? { Authorization: `Bearer ${t}` } : {});
    const camera = async (id) => (await (await fetch(`${relay.url}/api/cameras?q=${id}`, { headers: bearer(admin) }))
      .json()).cameras.find((c) => c.id === id);
    const patches = async () => {
      const text = await (await fetch(`${relay.url}/metrics`, { headers: bearer(admin) })).text();
      const m = text.match(/sightline_messages_received_total\{role="whep",type="patch"\} (\d+)/);
      return m ? Number(m[1]) : 0;
    };

    await startAgent(stack, relay.port, 'cam', ['--device-secret', devices.cam, '--width', '640', '--height', '480',
      '--stamp'], { wait: false });
    // A camera the relay knows, whose agent is gone: offline.
    const gone = await startAgent(stack, relay.port, 'gone', ['--device-secret', devices.gone, '--width', '320',
      '--height', '240'], { wait: false });
    await waitFor('both cameras connected', async () => (await camera('cam'))?.connected && (await camera('gone'))?.connected);
    await stack.kill(gone);
    await waitFor('camera gone offline', async () => (await camera('gone'))?.online === false);

    const browser = await startBrowser(stack);
    const page = await playerPage(browser, relay.url);

    await playWhep(page, `${relay.url}/whep/cam`, viewer);
    const first = await waitFor('the camera\'s stamp in the player', () => readStamp(page, 'video'), { timeout: 20000 });
    assert.equal(first.width, 640);
    await waitFor('the stamp to advance', async () => (await readStamp(page, 'video'))?.t > first.t);
    // The player trickled its candidates through PATCH.
    await waitFor('a PATCH with the player\'s candidates', async () => (await patches()) >= 1);
    await waitFor('one viewer, one branch', async () => {
      const c = await camera('cam');
      return c.viewers === 1 && c.branches === 1;
    });
    // A session of the relay's, and no page.
    const health = await (await fetch(`${relay.url}/healthz`)).json();
    assert.equal(health.sessions, 1);
    assert.equal(health.viewers, 0);

    // DELETE (the player's stop) ends the session: the agent drops its branch.
    await page.evaluate(() => window.player.stop());
    await waitFor('no viewer, no branch', async () => {
      const c = await camera('cam');
      return c.viewers === 0 && c.branches === 0;
    });

    // ---- the same routes from plain HTTP: a real offer, then every refusal ----
    const offer = await page.evaluate(async () => {
      const pc = new RTCPeerConnection();
      pc.addTransceiver('video', { direction: 'recvonly' });
      const o = await pc.createOffer();
      pc.close();
      return o.sdp;
    });
    const post = (target, body, t = viewer, headers = {}) => fetch(`${relay.url}${target}`, {
      method: 'POST', body, headers: { 'Content-Type': 'application/sdp', ...bearer(t), ...headers } });

    const created = await post('/whep/cam', offer);
    assert.equal(created.status, 201, await created.clone().text());
    assert.equal(created.headers.get('content-type'), 'application/sdp');
    const location = created.headers.get('location');
    assert.match(location, /^\/whep\/session\/[0-9a-f]+$/);
    const etag = created.headers.get('etag');
    assert.ok(etag);
    const answer = await created.text();
    assert.match(answer, /^v=0\r\n/);
    assert.match(answer, /\r\na=candidate:.* 127\.0\.0\.1 /, 'the agent\'s candidates are in the answer');
    const links = created.headers.get('link');
    assert.match(links, new RegExp(`<stun:127\\.0\\.0\\.1:${stunPort}>; rel="ice-server"`));
    const turn = links.match(/<turn:[^>]+>; rel="ice-server"; username="(\d+):[0-9a-f]+"; credential="[^"]+"; credential-type="password"/);
    assert.ok(turn, links);
    // Minted for this session, and never beyond the token (600 s, not the 12 h session lifetime).
    assert.ok(Number(turn[1]) <= viewerExpiry + 1 && Number(turn[1]) >= viewerExpiry - 60, `TURN expiry ${turn[1]}`);
    await waitFor('the session counted', async () => (await camera('cam')).viewers === 1);

    const patch = (target, body, headers = {}, t = viewer) => fetch(`${relay.url}${target}`, {
      method: 'PATCH', body, headers: { 'Content-Type': 'application/trickle-ice-sdpfrag', ...bearer(t), ...headers } });
    const ufrag = offer.match(/a=ice-ufrag:(.*)\r\n/)[1];
    const pwd = offer.match(/a=ice-pwd:(.*)\r\n/)[1];
    const fragment = `a=ice-ufrag:${ufrag}\r\na=ice-pwd:${pwd}\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n` +
      'a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0\r\na=end-of-candidates\r\n';
    const before = await patches();
    assert.equal((await patch(location, fragment, { 'If-Match': etag })).status, 204);
    assert.equal((await patch(location, fragment)).status, 204);
    assert.equal(await patches(), before + 2);
    assert.equal((await patch(location, fragment, { 'If-Match': '"not-this-one"' })).status, 412);
    assert.equal((await patch(location, fragment, { 'Content-Type': 'application/sdp' })).status, 415);
    // An ICE restart (new credentials) needs a new offer: not supported, the player POSTs again.
    const restart = await patch(location, 'a=ice-ufrag:newu\r\na=ice-pwd:newpasswordnewpassword12\r\n', { 'If-Match': '*' });
    assert.equal(restart.status, 501);
    assert.equal((await patch(location, fragment, {}, elsewhere)).status, 404, 'another token\'s session');
    assert.equal((await patch(location, fragment, {}, null)).status, 401);
    assert.equal((await fetch(`${relay.url}${location}`, { method: 'DELETE', headers: bearer(viewer) })).status, 200);
    await waitFor('the session gone', async () => (await camera('cam')).viewers === 0);
    assert.equal((await fetch(`${relay.url}${location}`, { method: 'DELETE', headers: bearer(viewer) })).status, 404);
    assert.equal((await patch(location, fragment)).status, 404);

    // Refusals of the offer.
    const refused = async (status, response, reason) => {
      const r = await response;
      const body = await r.text();
      assert.equal(r.status, status, body);
      if (reason) assert.match(body, reason);
    };
    await refused(401, post('/whep/cam', offer, null));
    await refused(401, post('/whep/cam', offer, `${viewer}x`));
    await refused(404, post('/whep/nope', offer, admin));
    await refused(404, post('/whep/cam', offer, elsewhere));  // outside the token's cameras: as if it did not exist
    await refused(403, post('/whep/cam', offer, viewer, { Origin: 'http://evil.example' }), /origin/);
    await refused(503, post('/whep/gone', offer), /offline/);
    await refused(400, post('/whep/cam', 'this is not sdp'), /v=0/);
    await refused(400, post('/whep/cam', offer.replace(/m=video/, 'm=audio')), /no video/);
    await refused(400, post('/whep/cam', offer.replace(/ H264\//g, ' H265/')), /H264/);
    await refused(415, post('/whep/cam', offer, viewer, { 'Content-Type': 'text/plain' }));
    await refused(405, fetch(`${relay.url}/whep/cam`, { method: 'GET', headers: bearer(viewer) }));
    // Judged before the body is read: the relay never asks for a megabyte.
    assert.deepEqual(await announce(relay.port, '/whep/cam', { ...bearer(viewer), 'Content-Type': 'application/sdp' },
      1024 * 1024), { status: 413, asked: false });
    assert.deepEqual(await announce(relay.port, '/whep/cam', { 'Content-Type': 'application/sdp' }, 1024 * 1024),
      { status: 401, asked: false });

    // CORS: a player on another (allowed) origin may call and read the WHEP headers.
    const preflight = await fetch(`${relay.url}/whep/cam`, { method: 'OPTIONS', headers: {
      Origin: 'http://player.example', 'Access-Control-Request-Method': 'POST' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://player.example');
    assert.match(preflight.headers.get('access-control-allow-methods'), /POST/);
    assert.match(preflight.headers.get('access-control-expose-headers'), /Location.*Link.*ETag/);
    assert.equal(preflight.headers.get('accept-post'), 'application/sdp');
    const resourcePreflight = await fetch(`${relay.url}/whep/session/x`, { method: 'OPTIONS', headers: {
      Origin: 'http://player.example', 'Access-Control-Request-Method': 'PATCH' } });
    assert.match(resourcePreflight.headers.get('access-control-allow-methods'), /PATCH.*DELETE/);
    assert.match(resourcePreflight.headers.get('access-control-allow-headers'), /If-Match/);
    const cross = await post('/whep/cam', offer, viewer, { Origin: 'http://player.example' });
    assert.equal(cross.status, 201);
    assert.match(cross.headers.get('access-control-expose-headers'), /Location/);
    // A player gone after its POST, before any connectivity check (nothing could fail):
    // the agent's deadline for connecting ends the session, the relay forgets it.
    const crossLocation = cross.headers.get('location');
    await waitFor('the never-connected session to end', async () => {
      const c = await camera('cam');
      return c.viewers === 0 && c.branches === 0;
    }, { timeout: 45000, interval: 500 });
    assert.match(relay.proc.output(), /whep: session \S+ \(camera cam\) ended: connect_timeout/);
    assert.equal((await patch(crossLocation, fragment)).status, 404);
    assert.deepEqual(page.errors, []);

    // --insecure-dev lets everyone in, as on the other routes; a camera DEVICE/NAME is
    // named with its slash escaped.
    const open = await startRelay(stack, { name: 'insecure relay' });
    const config = path.join(dir, 'agent.conf');
    fs.writeFileSync(config, ['[camera front]', 'width = 320', 'height = 240', ''].join('\n'));
    await startAgent(stack, open.port, 'house', ['--config', config], { wait: false });
    await waitFor('camera house/front connected', async () => (await listed(open.port, 'house/front'))?.connected);
    const anyone = await fetch(`${open.url}/whep/house%2Ffront`, {
      method: 'POST', body: offer, headers: { 'Content-Type': 'application/sdp' } });
    assert.equal(anyone.status, 201, await anyone.clone().text());
    assert.equal((await fetch(`${open.url}${anyone.headers.get('location')}`, { method: 'DELETE' })).status, 200);

    // A player that vanishes mid-play without DELETE (a suspended laptop, a hung browser,
    // a lost network): ICE stays "connected" on the agent's side (webrtcbin runs no
    // consent checks), but the player's RTCP stops and the agent ends the session.
    const frozen = await startBrowser(stack);
    const frozenPage = await playerPage(frozen, relay.url);
    await frozenPage.evaluate(async ([url, t]) => {
      const pc = new RTCPeerConnection();
      pc.addTransceiver('video', { direction: 'recvonly' });
      await new window.WHEPClient().view(pc, url, t);
      // Connected (ICE and DTLS) before it freezes: the agent's branch exists from the answer on.
      await new Promise((resolve) => {
        const check = () => { if (pc.connectionState === 'connected') resolve(); };
        pc.addEventListener('connectionstatechange', check);
        check();
      });
    }, [`${relay.url}/whep/cam`, viewer]);
    const tree = processTree(frozen.pid);
    // Processes of the tree may end meanwhile (Chromium's helpers come and go).
    const signal = (name) => { for (const pid of tree) try { process.kill(pid, name); } catch { /* gone */ } };
    signal('SIGSTOP');
    stack.onCleanup(async () => signal('SIGCONT'));
    await waitFor('the frozen player\'s session to end', async () => {
      const c = await camera('cam');
      return c.viewers === 0 && c.branches === 0;
    }, { timeout: 60000, interval: 500 });
    assert.match(relay.proc.output(), /whep: session \S+ \(camera cam\) ended: viewer_silent/);
    signal('SIGCONT');
  });
});
