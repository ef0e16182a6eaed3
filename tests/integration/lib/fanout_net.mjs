// The camera on a link of its own to the relay's host, as in a real deployment
// (docs/fanout.md), for the fan-out test and bench: the camera's agent in its
// own namespace, so that what it sends is its link's byte count.
//
//   cam (agents) —veth— hub (relay, its workers, a browser) —veth— view (a browser)
//
// The relay listens beyond loopback, so it runs secured (token and device
// secrets of this run). The test's own namespace reaches hub and view through
// management links (the API, the browsers' DevTools). Every namespace is the
// test's own and is deleted at the end.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Proc, paths, waitFor } from './harness.mjs';
import { startBrowser } from './browser.mjs';
import { viewerToken } from './nat.mjs';
import { inNs, makeNamespaces, managementLink, veth } from './netns.mjs';

export const PORT = 8443;
export const HUB = '10.0.1.1';       // the relay's host, on the camera's link
export const HUB_VIEW = '10.0.2.1';  // the relay's host, on the far viewer's link
const CAM = '10.0.1.2';
const API = '10.99.0.2';

// `relayArgs`: fan-out settings and the like; `devices`: the camera ids allowed in.
export async function buildFanoutNet(stack, { relayArgs = [], devices = ['cam'] } = {}) {
  const { tag, ns } = makeNamespaces(stack, { cam: 'fcam', hub: 'fhub', view: 'fview' });
  veth(tag, ns.cam, 'eth0', ns.hub, 'tocam', `${CAM}/24`, `${HUB}/24`);
  veth(`${tag}v`, ns.hub, 'toview', ns.view, 'eth0', `${HUB_VIEW}/24`, '10.0.2.2/24');
  managementLink(stack, tag, ns.hub, '10.99.0.1', API);
  managementLink(stack, `${tag}v`, ns.view, '10.99.0.5', '10.99.0.6');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-fanout-'));
  stack.onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'token'), crypto.randomBytes(32).toString('hex'));
  const secret = crypto.randomBytes(16).toString('hex');
  fs.writeFileSync(path.join(dir, 'devices'), devices.map((d) => `${d} ${secret}\n`).join(''));
  const token = viewerToken(path.join(dir, 'token'));
  const admin = { headers: { Authorization: `Bearer ${viewerToken(path.join(dir, 'token'), 'admin')}` } };
  const authorized = { headers: { Authorization: `Bearer ${token}` } };
  const net = {
    ns,
    token,
    inHub: (...args) => inNs(ns.hub, ...args),
    // What the camera's namespace has sent over its link, in bytes.
    camSentBytes: () => JSON.parse(inNs(ns.cam, 'ip', '-j', '-s', 'link', 'show', 'dev', 'eth0'))[0].stats64.tx.bytes,
    async startRelay() {
      const relay = stack.add(new Proc('relay', 'ip', ['netns', 'exec', ns.hub, paths.relay,
        '--listen', `0.0.0.0:${PORT}`, '--web-root', paths.webRoot, '--heartbeat-interval', '1',
        '--token-secret-file', path.join(dir, 'token'), '--device-secrets', path.join(dir, 'devices'),
        '--fanout-ice-address', HUB, '--fanout-ice-address', HUB_VIEW, ...relayArgs]));
      await waitFor('the relay', async () => (await fetch(`http://${API}:${PORT}/healthz`)).ok);
      return relay;
    },
    async startCamera(id, args = []) {
      const agent = stack.add(new Proc(`agent ${id}`, 'ip', ['netns', 'exec', ns.cam, paths.agent, '--id', id,
        '--relay', `ws://${HUB}:${PORT}`, '--device-secret', secret, '--ice-address', CAM,
        '--heartbeat-interval', '1', '--reconnect-max', '2', ...args]));
      await waitFor(`camera ${id}`, async () => (await net.camera(id))?.connected);
      return agent;
    },
    async camera(id) {
      const list = await (await fetch(`http://${API}:${PORT}/api/cameras?limit=1000`, authorized)).json();
      return list.cameras.find((c) => c.id === id);
    },
    async metric(name) {
      const text = await (await fetch(`http://${API}:${PORT}/metrics`, admin)).text();
      return Number(text.match(new RegExp(`^${name} (\\d+(\\.\\d+)?)`, 'm'))?.[1]);
    },
    // Headless Chromium on the relay's host ('hub') or beyond the far link ('view').
    startBrowser: (where) => startBrowser(stack, { wrap: ['ip', 'netns', 'exec', ns[where]],
      debugAddress: where === 'hub' ? API : '10.99.0.6' }),
    viewUrl: (where, id) => `http://${where === 'hub' ? HUB : HUB_VIEW}:${PORT}/view/${id}?token=${token}`,
  };
  return net;
}
