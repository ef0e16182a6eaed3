// Three relays on one broker behind haproxy (round robin, no sticky sessions):
// an agent held by relay A plays on a page served by relay B (the picture
// checked), a command sent through relay C gets the camera's ack, every relay
// lists the camera; relay A killed with SIGKILL: the agent moves on by itself and
// the page plays again within 10 s without a reload; relay B restarted: its pages
// come back by themselves. The broker runs the shipped config and ACL.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { Proc, Stack, camera, freePort, getJson, postCommand, startAgent, startMosquitto, startRelay, waitFor }
  from './lib/harness.mjs';
import { startBrowser, tileState } from './lib/browser.mjs';
import { readStamp } from './lib/stamp.mjs';

const users = { 'sightline-relay': 'relay-password-0001', cam: 'camera-password-0002' };

async function startHaproxy(stack, backends) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-haproxy-'));
  const conf = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(conf, [
    'global', '  maxconn 4096',
    'defaults', '  mode http', '  timeout connect 2s', '  timeout client 60s', '  timeout server 60s',
    '  timeout tunnel 1h', '  option redispatch', '  retries 3',
    'frontend web', `  bind 127.0.0.1:${port}`, '  default_backend relays',
    'backend relays', '  balance roundrobin', '  option httpchk GET /healthz',
    '  default-server check inter 300ms fall 2 rise 1',
    ...backends.map((p, i) => `  server r${i} 127.0.0.1:${p}`), ''].join('\n'));
  stack.onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const proc = stack.add(new Proc('haproxy', '/usr/sbin/haproxy', ['-db', '-f', conf]));
  stack.onCleanup(() => stack.kill(proc, 'SIGTERM'));  // haproxy ends on its signal, not with 0
  await waitFor('haproxy to serve', async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok);
  return { proc, port, url: `http://127.0.0.1:${port}` };
}

test('relays share a broker', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const broker = await startMosquitto(stack, { users, shipped: true });
    const login = (user) => ['--mqtt', broker.url, '--mqtt-user', user, '--mqtt-password', users[user]];
    const relay = {};
    const ports = {};
    for (const name of ['a', 'b', 'c']) {
      ports[name] = await freePort();
      relay[name] = await startRelay(stack, { port: ports[name], name: `relay ${name}`,
        args: [...login('sightline-relay'), '--relay-id', `relay-${name}`] });
    }
    const lb = await startHaproxy(stack, [ports.a, ports.b, ports.c]);
    // The agent knows all three; it tries A first.
    const relays = ['a', 'b', 'c'].map((n) => `ws://127.0.0.1:${ports[n]}`).join(',');
    await startAgent(stack, ports.a, 'cam', ['--relay', relays, '--width', '640', '--height', '480', '--stamp',
      ...login('cam')], { wait: false });
    await waitFor('cam held by relay A', async () => (await camera(ports.a, 'cam'))?.connected);
    // Every relay lists it, connected (it can be watched through any of them).
    for (const n of ['b', 'c'])
      await waitFor(`relay ${n} lists cam`, async () => (await camera(ports[n], 'cam'))?.connected);

    // A page served by B plays the camera whose agent is on A.
    const browser = await startBrowser(stack);
    const view = await browser.open(`${relay.b.url}/view/cam`);
    await tileState(view, 'cam', 'live', 20000);
    const video = 'figure.tile[data-camera="cam"] video';
    const before = await waitFor('a stamp through relay B', () => readStamp(view, video));
    // The session went across the broker: counted in B's and A's metrics.
    const metrics = async (port) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(await metrics(ports.b), /sightline_messages_sent_total\{role="relay",type="offer"\} [1-9]/);
    assert.match(await metrics(ports.a), /sightline_messages_received_total\{role="relay",type="offer"\} [1-9]/);
    assert.match(await metrics(ports.b), /^sightline_relays_up 2$/m);

    // A command through C gets the camera's own ack.
    const ack = await postCommand(ports.c, 'cam', { type: 'get_state' });
    assert.equal(ack.status, 200);
    assert.equal(ack.ack.status, 'ok');
    assert.equal(ack.ack.camera, 'cam');

    // A page through haproxy (whichever relay it lands on) plays too.
    const grid = await browser.open(`${lb.url}/`);
    await tileState(grid, 'cam', 'live', 20000);

    // That page loses its socket (a proxy or a hiccup drops it) and comes back through
    // haproxy on the next relay in turn: the relay there takes its session over (the
    // camera's relay moves the session's viewer end to it), not a new session. Tried
    // until it lands on a relay other than the one it was on (round robin: the next).
    const sessionOf = () => grid.evaluate(() => window.sightline.sessions.get('cam')?.session);
    const first = await sessionOf();
    const takenOver = () => ['a', 'b', 'c'].filter((n) =>
      relay[n].proc.output().includes(`session ${first} taken over from another relay by its page`)).length;
    for (let i = 0; i < 3 && takenOver() === 0; i++) {
      const connects = await grid.evaluate(() => window.sightline.relayConnects());
      await grid.evaluate(() => window.sightline.closeRelaySocket());
      await waitFor('the page on a new socket', async () =>
        (await grid.evaluate(() => window.sightline.relayConnects())) > connects
        && (await grid.evaluate(() => document.body.dataset.relay)) === 'connected', { timeout: 10000 });
      await waitFor('the restart answered', async () =>
        await grid.evaluate(() => !window.sightline.sessions.get('cam')?.restarting), { timeout: 10000 });
    }
    assert.ok(takenOver() >= 1, 'a relay took the session over from another');
    await tileState(grid, 'cam', 'live', 10000);
    assert.equal(await sessionOf(), first, 'the same session plays on');
    const gridVideo = await waitFor('a stamp on the page', () => readStamp(grid, video));
    await waitFor('fresh frames after the takeover', async () => {
      const now = await readStamp(grid, video);
      return now && ((now.t - gridVideo.t) >>> 0) > 0 && ((now.t - gridVideo.t) >>> 0) < 120000;
    }, { timeout: 10000, interval: 100 });

    // Relay A dies without a word.
    const killed = Date.now();
    await stack.kill(relay.a.proc);
    await waitFor('cam back through B or C', async () => (await camera(ports.b, 'cam'))?.connected
      && ((await getJson(ports.b, '/healthz')).agents === 1 || (await getJson(ports.c, '/healthz')).agents === 1),
    { timeout: 10000, interval: 100 });
    await waitFor('the page on B plays again', async () => {
      const now = await readStamp(view, video);
      return now && ((now.t - before.t) >>> 0) > 0 && ((now.t - before.t) >>> 0) < 120000
        && await view.evaluate(() => document.querySelector('figure.tile').dataset.state) === 'live';
    }, { timeout: Math.max(1000, 10000 - (Date.now() - killed)), interval: 100 });
    const back = Date.now() - killed;
    assert.ok(back <= 10000, `played again ${back} ms after relay A was killed`);
    assert.equal(await view.evaluate(() => performance.getEntriesByType('navigation').length), 1, 'no reload');
    // No command lost or run twice: one command through C again, one ack.
    const again = await postCommand(ports.c, 'cam', { type: 'get_state' });
    assert.equal(again.ack.status, 'ok');

    // Relay B restarts: its pages come back by themselves.
    await stack.kill(relay.b.proc);
    relay.b = await startRelay(stack, { port: ports.b, name: 'relay b (restarted)',
      args: [...login('sightline-relay'), '--relay-id', 'relay-b'] });
    await waitFor('the page on B reconnected', async () =>
      (await view.evaluate(() => document.body.dataset.relay)) === 'connected', { timeout: 20000 });
    await tileState(view, 'cam', 'live', 20000);
    await tileState(grid, 'cam', 'live', 20000);
    console.log(`relay A killed: the page on B played again after ${back} ms`);
  });
});
