// A small internet in network namespaces (../../shared/LAB.md): a public
// segment (bridge, 203.0.113.0/24) with the relay and coturn; a camera behind
// NAT router A and a browser behind NAT router B (nftables masquerade, with
// `random` ports for a symmetric NAT). The test's own namespace reaches the
// public segment and the browser only through management links (10.99.x), for
// the API and the browser's DevTools. Every namespace is the test's own and is
// deleted at the end.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Proc, paths, waitFor } from './harness.mjs';
import { startBrowser } from './browser.mjs';
import { inNs, makeNamespaces, managementLink, veth } from './netns.mjs';

export const PUBLIC = '203.0.113.1';

// `nat`: 'eim' (port-preserving masquerade: endpoint-independent mapping) or
// 'symmetric' (masquerade random: a new port for every destination).
export function buildInternet(stack, { nat = 'eim' } = {}) {
  const { tag, ns } = makeNamespaces(stack, { pub: 'pub', ra: 'ra', rb: 'rb', cam: 'cam', view: 'view' });
  // The public segment: a bridge in `pub`, the routers' WAN ports on it.
  inNs(ns.pub, 'ip', 'link', 'add', 'br0', 'type', 'bridge');
  inNs(ns.pub, 'ip', 'addr', 'add', `${PUBLIC}/24`, 'dev', 'br0');
  inNs(ns.pub, 'ip', 'link', 'set', 'br0', 'up');
  const router = (r, host, wan, lan) => {
    veth(tag, ns.pub, `p-${r}`, ns[r], 'wan');
    inNs(ns.pub, 'ip', 'link', 'set', `p-${r}`, 'master', 'br0');
    inNs(ns[r], 'ip', 'addr', 'add', `${wan}/24`, 'dev', 'wan');
    veth(tag, ns[r], 'lan', ns[host], 'eth0');
    inNs(ns[r], 'ip', 'addr', 'add', `${lan}.1/24`, 'dev', 'lan');
    inNs(ns[host], 'ip', 'addr', 'add', `${lan}.2/24`, 'dev', 'eth0');
    inNs(ns[host], 'ip', 'route', 'add', 'default', 'via', `${lan}.1`);
    inNs(ns[r], 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    const masquerade = nat === 'symmetric' ? 'masquerade random' : 'masquerade';
    inNs(ns[r], 'nft', `add table ip nat; add chain ip nat post { type nat hook postrouting priority 100 ; } ; ` +
      `add rule ip nat post oifname "wan" ${masquerade}`);
    // Like a home router, drop what nobody inside asked for. Dropped before its
    // connection-tracking entry is confirmed, such a packet cannot take the
    // port a later outbound mapping needs (which would make the NAT look symmetric).
    inNs(ns[r], 'nft', 'add table ip filter; ' +
      'add chain ip filter wan_in { type filter hook input priority 0 ; } ; ' +
      'add rule ip filter wan_in iifname "wan" ct state new drop; ' +
      'add chain ip filter wan_fwd { type filter hook forward priority 0 ; } ; ' +
      'add rule ip filter wan_fwd iifname "wan" ct state new drop');
  };
  router('ra', 'cam', '203.0.113.2', '10.0.1');
  router('rb', 'view', '203.0.113.3', '10.0.2');
  // Management links from the test's namespace: the relay's API, the browser's DevTools.
  managementLink(stack, tag, ns.pub, '10.99.0.1', '10.99.0.2');
  managementLink(stack, tag, ns.view, '10.99.0.5', '10.99.0.6');
  return {
    relayMgmt: '10.99.0.2',
    browserMgmt: '10.99.0.6',
    ns,
    camAddress: '10.0.1.2',
    viewAddress: '10.0.2.2',
    exec: (name, cmd, args) => ['ip', ['netns', 'exec', ns[name], cmd, ...args]],
  };
}

const PORT = 8443;
export const TURN_PORT = 3479;

// The relay on the public segment (secured), the camera behind NAT A, Chromium
// behind NAT B. Resolves to { browser, token, url }.
export async function deploy(stack, net, relayArgs) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-nat-'));
  stack.onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const tokenSecret = crypto.randomBytes(32).toString('hex');
  const deviceSecret = crypto.randomBytes(16).toString('hex');
  fs.writeFileSync(path.join(dir, 'token'), tokenSecret);
  fs.writeFileSync(path.join(dir, 'devices'), `cam ${deviceSecret}\n`);
  stack.add(new Proc('relay (public)', ...net.exec('pub', paths.relay, ['--listen', `0.0.0.0:${PORT}`,
    '--web-root', paths.webRoot, '--heartbeat-interval', '1', '--token-secret-file', path.join(dir, 'token'),
    '--device-secrets', path.join(dir, 'devices'), ...relayArgs])));
  const api = `http://${net.relayMgmt}:${PORT}`;
  await waitFor('the relay', async () => (await fetch(`${api}/healthz`)).ok);
  stack.add(new Proc('agent (behind NAT A)', ...net.exec('cam', paths.agent, ['--id', 'cam', '--relay',
    `ws://${PUBLIC}:${PORT}`, '--device-secret', deviceSecret, '--ice-address', net.camAddress,
    '--heartbeat-interval', '1', '--width', '640', '--height', '480'])));
  const token = viewerToken(path.join(dir, 'token'));
  await waitFor('the camera through NAT A', async () =>
    (await (await fetch(`${api}/api/cameras`, { headers: { Authorization: `Bearer ${token}` } })).json()).cameras[0]?.connected);
  const browser = await startBrowser(stack, { wrap: ['ip', 'netns', 'exec', net.ns.view], debugAddress: net.browserMgmt });
  return { browser, token, url: `http://${PUBLIC}:${PORT}` };
}

// A viewer token signed with the relay's secret, as `sightline-relay token` would make it.
export function viewerToken(secretFile, role = 'viewer') {
  const out = fs.readFileSync(secretFile, 'utf8');
  const claims = { role, exp: Math.floor(Date.now() / 1000) + 600 };
  const input = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${crypto.createHmac('sha256', out).update(input).digest('base64url')}`;
}


// coturn on the public segment with the configuration users copy
// (deploy/coturn/turnserver.conf), only its addresses, ports, secret and log
// settings replaced; returns its shared secret. Its denied-peer-ip lines matter:
// without them coturn relays checks towards the peers' private addresses, and
// on a host without a route there the failed sends can stall that allocation.
export function startCoturn(stack, net) {
  const turnSecret = crypto.randomBytes(16).toString('hex');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-coturn-'));
  stack.onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const replaced = new Set(['listening-port', 'listening-ip', 'relay-ip', 'external-ip', 'min-port', 'max-port',
    'static-auth-secret', 'realm', 'log-file']);
  const shipped = fs.readFileSync(path.join(paths.source, 'deploy/coturn/turnserver.conf'), 'utf8').split('\n')
    .filter((line) => line.trim() && !line.startsWith('#') && !replaced.has(line.split('=')[0].trim()));
  fs.writeFileSync(path.join(dir, 'turnserver.conf'), [...shipped, `listening-ip=${PUBLIC}`, `relay-ip=${PUBLIC}`,
    `listening-port=${TURN_PORT}`, 'min-port=49152', 'max-port=49500', `static-auth-secret=${turnSecret}`,
    'realm=sightline.test', 'log-file=stdout', ''].join('\n'));
  const coturn = stack.add(new Proc('coturn', ...net.exec('pub', '/usr/bin/turnserver', ['-c', path.join(dir, 'turnserver.conf')])));
  stack.killed.add(coturn);  // coturn ends on SIGTERM by the signal, not with exit 0
  return turnSecret;
}
