// A viewer on a shaped link (issue 20), in network namespaces: camera —veth—
// router —veth— viewer, the link shaped on the router's port toward the viewer.
// This kernel has no netem (../../shared/LAB.md): the rate is a tbf qdisc, the
// random loss an nftables `numgen` rule in the router. The test's own namespace
// reaches the camera's and the viewer's namespaces only through management links
// (10.99.x), for the relay's API and the browsers' DevTools; the router does not
// route them, so media can only take the shaped path. Every namespace is the
// test's own and is deleted at the end.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Proc, paths, waitFor } from './harness.mjs';
import { startBrowser } from './browser.mjs';
import { viewerToken } from './nat.mjs';
import { inNs, makeNamespaces, managementLink, veth } from './netns.mjs';

export const CAMERA = '10.0.1.2';
export const VIEWER = '10.0.2.2';
export const MOVED_VIEWER = '10.0.3.2';  // after moveViewer()
export const MOVED_CAMERA = '10.0.4.2';  // after moveCamera()
// The router's port toward the viewer: where the link is shaped.
const TOWARD_VIEWER = 'toview';

export function buildShapedLink(stack) {
  const { tag, ns } = makeNamespaces(stack, { cam: 'scam', rtr: 'srtr', view: 'sview' });
  // MTU 1500 (a veth's default): tbf warns, and shapes badly, with a burst below the MTU.
  veth(tag, ns.cam, 'eth0', ns.rtr, 'tocam', `${CAMERA}/24`, '10.0.1.1/24');
  veth(tag, ns.rtr, TOWARD_VIEWER, ns.view, 'eth0', '10.0.2.1/24', `${VIEWER}/24`);
  inNs(ns.cam, 'ip', 'route', 'add', 'default', 'via', '10.0.1.1');
  inNs(ns.view, 'ip', 'route', 'add', 'default', 'via', '10.0.2.1');
  inNs(ns.rtr, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
  inNs(ns.rtr, 'nft', 'add table inet shaped; add chain inet shaped lossy { type filter hook forward priority 0 ; }');
  managementLink(stack, tag, ns.cam, '10.99.0.1', '10.99.0.2');
  managementLink(stack, tag, ns.view, '10.99.0.5', '10.99.0.6');
  managementLink(stack, tag, ns.rtr, '10.99.0.9', '10.99.0.10');
  return {
    ns,
    // The viewer's network changes, as a phone's does from Wi-Fi to mobile data: a
    // second link from the router (the viewer at MOVED_VIEWER) becomes its way out,
    // and the first goes down with its address (the page's sockets on it are dead).
    moveViewer() {
      veth(tag, ns.rtr, 'toview2', ns.view, 'eth1', '10.0.3.1/24', `${MOVED_VIEWER}/24`);
      inNs(ns.view, 'ip', 'route', 'replace', 'default', 'via', '10.0.3.1', 'dev', 'eth1');
      inNs(ns.view, 'ip', 'link', 'set', 'eth0', 'down');
    },
    // The camera's network changes (a new lease, another uplink): a second link
    // from the router (the camera at MOVED_CAMERA) becomes its way out, and the
    // first goes down with its address.
    moveCamera() {
      veth(tag, ns.rtr, 'tocam2', ns.cam, 'eth1', '10.0.4.1/24', `${MOVED_CAMERA}/24`);
      inNs(ns.cam, 'ip', 'route', 'replace', 'default', 'via', '10.0.4.1', 'dev', 'eth1');
      inNs(ns.cam, 'ip', 'link', 'set', 'eth0', 'down');
    },
    camMgmt: '10.99.0.2',
    rtrMgmt: '10.99.0.10',
    viewMgmt: '10.99.0.6',
    exec: (name, cmd, args) => ['ip', ['netns', 'exec', ns[name], cmd, ...args]],
    // `kbit`: the rate toward the viewer (0: unshaped); `loss`: % of UDP packets
    // toward the viewer dropped at random, and toward the camera too (the viewer's
    // feedback) with `bothWays`. The queue holds 200 ms at the rate, as a modest
    // access link's buffer does; the burst is ten full packets.
    shape({ kbit = 0, loss = 0, bothWays = false } = {}) {
      if (kbit > 0) {
        inNs(ns.rtr, 'tc', 'qdisc', 'replace', 'dev', TOWARD_VIEWER, 'root', 'tbf', 'rate', `${kbit}kbit`,
          'burst', '15000', 'latency', '200ms');
      } else {
        try { inNs(ns.rtr, 'tc', 'qdisc', 'del', 'dev', TOWARD_VIEWER, 'root'); } catch { /* not shaped */ }
      }
      inNs(ns.rtr, 'nft', 'flush chain inet shaped lossy');
      for (const port of loss > 0 ? [TOWARD_VIEWER, ...(bothWays ? ['tocam'] : [])] : []) {
        inNs(ns.rtr, 'nft', `add rule inet shaped lossy oifname "${port}" meta l4proto udp ` +
          `numgen random mod 100 < ${loss} drop`);
      }
    },
  };
}

const PORT = 8443;

// The relay (secured: it listens beyond loopback) in the camera's namespace.
// Resolves to { startCamera(args), url }: startCamera starts an agent there with
// camera 'cam' and `args`, and resolves once the relay lists it; `url` opens that
// camera's page from the viewer's namespace (its signaling crosses the link too).
// `relay`, `webRoot`: another relay binary and web app (a benchmark's reference);
// `heartbeat`: the relay's heartbeat interval (s): a page's socket silent for three is dropped.
// `relayIn`: 'rtr' puts the relay in the router instead, as a relay in the cloud (a camera
// whose address changes reaches it over its new path: pages at 10.0.2.1, agents at 10.0.1.1).
export async function startCameraSide(stack, link,
  { relay = paths.relay, webRoot = paths.webRoot, heartbeat = 1, relayIn = 'cam' } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-shaped-'));
  stack.onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const tokenSecret = crypto.randomBytes(32).toString('hex');
  const deviceSecret = crypto.randomBytes(16).toString('hex');
  fs.writeFileSync(path.join(dir, 'token'), tokenSecret);
  fs.writeFileSync(path.join(dir, 'devices'), `cam ${deviceSecret}\n`);
  const inRouter = relayIn === 'rtr';
  stack.add(new Proc(`relay (${inRouter ? 'router' : 'camera side'})`, ...link.exec(relayIn, relay, ['--listen', `0.0.0.0:${PORT}`,
    '--web-root', webRoot, '--heartbeat-interval', String(heartbeat), '--token-secret-file', path.join(dir, 'token'),
    '--device-secrets', path.join(dir, 'devices')])));
  const api = `http://${inRouter ? link.rtrMgmt : link.camMgmt}:${PORT}`;
  await waitFor('the relay', async () => (await fetch(`${api}/healthz`)).ok);
  const token = viewerToken(path.join(dir, 'token'));
  return {
    url: `http://${inRouter ? '10.0.2.1' : CAMERA}:${PORT}/view/cam?token=${token}`,
    // The relay's camera list (GET /api/cameras).
    cameras: async () => (await (await fetch(`${api}/api/cameras`,
      { headers: { Authorization: `Bearer ${token}` } })).json()).cameras,
    async startCamera(args) {
      const listed = async () => (await (await fetch(`${api}/api/cameras`,
        { headers: { Authorization: `Bearer ${token}` } })).json()).cameras[0]?.connected;
      // An agent stopped before this one may still be listed for a moment.
      await waitFor('the previous camera to leave', async () => !(await listed()));
      const agent = stack.add(new Proc('agent', ...link.exec('cam', paths.agent, ['--id', 'cam', '--relay',
        `ws://${inRouter ? '10.0.1.1' : '127.0.0.1'}:${PORT}`, '--device-secret', deviceSecret, '--ice-address', CAMERA,
        '--heartbeat-interval', String(heartbeat), ...args])));
      await waitFor('the camera', listed);
      return agent;
    },
  };
}

// Headless Chromium in the namespace `name` ('cam' or 'view').
export function startBrowserIn(stack, link, name) {
  return startBrowser(stack, { wrap: ['ip', 'netns', 'exec', link.ns[name]], debugAddress: link[`${name}Mgmt`] });
}

// Two browsers of one camera (issue 20's lower encoding): one next to the camera, in
// its namespace (unshaped), one behind the router; the camera at 1280x720@30,
// `bitrate` kbit/s, stamped, `extra` agent arguments. The relay keeps its default
// heartbeat (5 s): the far page's signaling shares its link, which the camera's full
// encoding fills until the page's feedback has said so (about 2 s); dropped after 3 s
// of silence, as with 1 s, that page would start another session.
export async function startNearAndFar(stack, { bitrate = 2000, extra = [] } = {}) {
  const link = buildShapedLink(stack);
  const camera = await startCameraSide(stack, link, { heartbeat: 5 });
  const near = await startBrowserIn(stack, link, 'cam');
  const far = await startBrowserIn(stack, link, 'view');
  const agent = await camera.startCamera(['--width', '1280', '--height', '720', '--fps', '30',
    '--bitrate', String(bitrate), '--stamp', ...extra]);
  return { link, camera, near, far, agent };
}
