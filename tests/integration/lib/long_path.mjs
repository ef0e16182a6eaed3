// Two places a long path apart, in network namespaces: `near` —veth— a delay
// line (lib/delay_line.py, in a namespace of its own) —veth— `far`, one /24, the
// frames held DELAY ms each way (this kernel has no netem: ../../shared/LAB.md).
// The relay listens in `near` (secured: it listens beyond loopback); agents and
// browsers run in either place. The test's own namespace reaches both only
// through management links (10.99.x: the relay's API, the browsers' DevTools),
// which nothing routes, so media can only take the long path.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Proc, paths, waitFor } from './harness.mjs';
import { startBrowser } from './browser.mjs';
import { viewerToken } from './nat.mjs';
import { makeNamespaces, managementLink, veth } from './netns.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const ADDRESS = { near: '10.0.3.1', far: '10.0.3.2' };
const MGMT = { near: '10.99.0.10', far: '10.99.0.14' };
const PORT = 8443;

// `cameras`: the ids agents will connect as (each gets a device secret).
export async function buildLongPath(stack, { delayMs, cameras }) {
  const { tag, ns } = makeNamespaces(stack, { near: 'lnear', line: 'lline', far: 'lfar' });
  veth(tag, ns.near, 'eth0', ns.line, 'tonear', `${ADDRESS.near}/24`);
  veth(tag, ns.far, 'eth0', ns.line, 'tofar', `${ADDRESS.far}/24`);
  managementLink(stack, tag, ns.near, '10.99.0.9', MGMT.near);
  managementLink(stack, tag, ns.far, '10.99.0.13', MGMT.far);
  const line = stack.add(new Proc('delay line', 'ip', ['netns', 'exec', ns.line, 'python3',
    path.join(here, 'delay_line.py'), 'tonear', 'tofar', String(delayMs), '600']));
  await waitFor('the delay line', async () => line.output().includes('ready'));

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-long-'));
  stack.onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'token'), crypto.randomBytes(32).toString('hex'));
  const secrets = Object.fromEntries(cameras.map((id) => [id, crypto.randomBytes(16).toString('hex')]));
  fs.writeFileSync(path.join(dir, 'devices'), cameras.map((id) => `${id} ${secrets[id]}\n`).join(''));
  const exec = (where, cmd, args) => ['ip', ['netns', 'exec', ns[where], cmd, ...args]];
  stack.add(new Proc('relay (near)', ...exec('near', paths.relay, ['--listen', `0.0.0.0:${PORT}`,
    '--web-root', paths.webRoot, '--heartbeat-interval', '1', '--token-secret-file', path.join(dir, 'token'),
    '--device-secrets', path.join(dir, 'devices'), '--fanout', 'direct'])));
  const api = `http://${MGMT.near}:${PORT}`;
  await waitFor('the relay', async () => (await fetch(`${api}/healthz`)).ok);
  const token = viewerToken(path.join(dir, 'token'));
  const listed = async (id) => (await (await fetch(`${api}/api/cameras?q=${encodeURIComponent(id)}`,
    { headers: { Authorization: `Bearer ${token}` } })).json()).cameras.find((c) => c.id === id)?.connected;
  return {
    url: (p) => `http://${ADDRESS.near}:${PORT}${p}${p.includes('?') ? '&' : '?'}token=${token}`,
    // An agent in `where` ('near' or 'far') as camera `id`; resolves once the relay lists it.
    async startCamera(where, id, args) {
      const agent = stack.add(new Proc(`agent ${id} (${where})`, ...exec(where, paths.agent, ['--id', id,
        '--relay', `ws://${ADDRESS.near}:${PORT}`, '--device-secret', secrets[id], '--ice-address', ADDRESS[where],
        '--heartbeat-interval', '1', ...args])));
      await waitFor(`camera ${id}`, () => listed(id), { timeout: 20000 });
      return agent;
    },
    startBrowser: (where) => startBrowser(stack, { wrap: ['ip', 'netns', 'exec', ns[where]], debugAddress: MGMT[where] }),
  };
}
