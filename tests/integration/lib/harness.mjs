// Starts and stops the real programs for a test: the relay and agents built by
// meson (paths from SIGHTLINE_RELAY / SIGHTLINE_AGENT), on free loopback ports.
// Every wait polls a condition with a deadline; nothing sleeps a fixed time.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
export const paths = {
  relay: process.env.SIGHTLINE_RELAY || path.join(root, 'build/relay/sightline-relay'),
  agent: process.env.SIGHTLINE_AGENT || path.join(root, 'build/agent/sightline-agent'),
  webRoot: process.env.SIGHTLINE_WEB_ROOT || path.join(root, 'web'),
  source: root,
};

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export async function waitFor(what, fn, { timeout = 15000, interval = 50 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

// A child process whose output is kept for the failure report.
export class Proc {
  constructor(name, cmd, args, env = {}) {
    this.name = name;
    this.log = [];
    this.exited = null;
    this.child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d) => {
      this.log.push(String(d));
      if (this.log.length > 2000) this.log.splice(0, 1000);
    };
    this.child.stdout.on('data', keep);
    this.child.stderr.on('data', keep);
    this.done = new Promise((resolve) => this.child.on('exit', (code, signal) => {
      this.exited = { code, signal };
      resolve(this.exited);
    }));
  }

  get pid() { return this.child.pid; }
  output() { return this.log.join(''); }

  async stop(signal = 'SIGTERM') {
    if (this.exited) return this.exited;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    const result = await this.done;
    clearTimeout(timer);
    return result;
  }
}

// Everything a test started, stopped at the end and reported on failure.
export class Stack {
  constructor() { this.procs = []; this.cleanups = []; this.killed = new Set(); }

  add(proc) { this.procs.push(proc); return proc; }
  onCleanup(fn) { this.cleanups.push(fn); }

  report() {
    return this.procs.map((p) => `----- ${p.name} (exit ${JSON.stringify(p.exited)}) -----\n${p.output().slice(-6000)}`).join('\n');
  }

  // Stops everything; returns the processes that crashed or did not exit cleanly
  // (a sanitizer report, an assertion, a hang on shutdown), except those the test
  // killed on purpose.
  async stop() {
    for (const fn of this.cleanups.reverse()) await fn().catch(() => {});
    const bad = [];
    await Promise.all(this.procs.map(async (p) => {
      const exit = await p.stop();
      if (!this.killed.has(p) && exit.code !== 0) bad.push({ name: p.name, exit });
    }));
    return bad;
  }

  // Runs a test body; on failure prints every process's log, then rethrows.
  async run(fn) {
    try {
      await fn();
    } catch (e) {
      console.error(this.report());
      throw e;
    } finally {
      const bad = await this.stop();
      if (bad.length) {
        console.error(this.report());
        throw new Error(`processes exited badly: ${JSON.stringify(bad)}`);
      }
    }
  }

  // The test kills `proc` itself: its exit is not a failure.
  async kill(proc, signal = 'SIGKILL') {
    this.killed.add(proc);
    proc.child.kill(signal);
    await proc.done;
  }
}

export async function getJson(port, p) {
  const res = await fetch(`http://127.0.0.1:${port}${p}`);
  if (!res.ok) throw new Error(`${p}: HTTP ${res.status}`);
  return res.json();
}

export async function camera(port, id) {
  return (await getJson(port, `/api/cameras?q=${encodeURIComponent(id)}&limit=1000`)).cameras.find((c) => c.id === id);
}

// Tests about other things run the relay with --insecure-dev (loopback only);
// the security tests pass `secure: true` and their own secrets in `args`.
export async function startRelay(stack, { port, args = [], name = 'relay', secure = false } = {}) {
  port ??= await freePort();
  const proc = stack.add(new Proc(name, paths.relay,
    ['--listen', `127.0.0.1:${port}`, '--web-root', paths.webRoot, '--heartbeat-interval', '1',
      // Its fan-out workers (docs/fanout.md) gather on loopback only, as the agents do.
      '--fanout-ice-address', '127.0.0.1', ...(secure ? [] : ['--insecure-dev']), ...args]));
  await waitFor(`${name} to answer /healthz`, async () => (await getJson(port, '/healthz')).status === 'ok');
  return { proc, port, url: `http://127.0.0.1:${port}` };
}

// `binary`: another sightline-agent build (the benchmarks' reference).
export async function startAgent(stack, relayPort, id, args = [],
  { wait = true, name = `agent ${id}`, binary = paths.agent } = {}) {
  const proc = stack.add(new Proc(name, binary,
    ['--id', id, '--relay', `ws://127.0.0.1:${relayPort}`, '--ice-address', '127.0.0.1',
      '--heartbeat-interval', '1', '--reconnect-max', '2', ...args]));
  if (wait) await waitFor(`camera ${id} connected`, async () => (await camera(relayPort, id))?.connected);
  return proc;
}

// A real mosquitto on a free loopback port, with Nagle off as in deploy/.
// `tls`: { ca, cert, key } files for an ssl:// listener; `users`: { name: password }
// turns anonymous access off; `shipped`: the relay host's config from
// deploy/mosquitto/ (its ACL included), with only listeners and files replaced.
export async function startMosquitto(stack, { port, name = 'mosquitto', tls, users, shipped = false } = {}) {
  port ??= await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-mosquitto-'));
  const conf = path.join(dir, 'mosquitto.conf');
  const lines = [`listener ${port} 127.0.0.1`, 'set_tcp_nodelay true', 'persistence false', 'log_type error',
    'log_type warning', 'log_dest stderr'];
  if (shipped) {
    const replaced = /^(listener|certfile|keyfile|cafile|password_file|allow_anonymous|acl_file)\b/;
    const own = fs.readFileSync(path.join(root, 'deploy/mosquitto/sightline.conf'), 'utf8').split('\n')
      .filter((line) => line.trim() && !line.startsWith('#') && !replaced.test(line));
    lines.unshift(...own);
    lines.push(`acl_file ${path.join(root, 'deploy/mosquitto/sightline.acl')}`);
  }
  // Run as root, mosquitto would switch to its own user, who cannot read the test's files.
  if (process.getuid?.() === 0) lines.push('user root');
  if (tls) lines.push(`cafile ${tls.ca}`, `certfile ${tls.cert}`, `keyfile ${tls.key}`);
  if (users) {
    const passwords = path.join(dir, 'passwords');
    fs.writeFileSync(passwords, '', { mode: 0o600 });
    for (const [user, password] of Object.entries(users))
      execFileSync('mosquitto_passwd', ['-b', passwords, user, password], { stdio: 'ignore' });
    lines.push('allow_anonymous false', `password_file ${passwords}`);
  } else {
    lines.push('allow_anonymous true');
  }
  fs.writeFileSync(conf, [...lines, ''].join('\n'));
  const proc = stack.add(new Proc(name, process.env.MOSQUITTO || '/usr/sbin/mosquitto', ['-c', conf]));
  stack.onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
  await waitFor(`${name} to accept connections`, () => new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  }));
  return { proc, port, url: `${tls ? 'ssl' : 'tcp'}://127.0.0.1:${port}` };
}

// POSTs a command through the relay's HTTP API; resolves to { status, ack, ms }.
export async function postCommand(port, cameraId, body) {
  const started = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/api/cameras/${encodeURIComponent(cameraId)}/commands`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, ack: await res.json(), ms: performance.now() - started };
}
