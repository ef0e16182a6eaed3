// Debian's headless Chromium, started by us with the flags WebRTC on loopback
// needs (../../shared/LAB.md) and driven over CDP by playwright-core.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const FLAGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--autoplay-policy=no-user-gesture-required', '--window-size=1280,900',
  '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0',
];

// `args`: extra Chromium flags (e.g. trusting a test certificate). `wrap`: runs
// Chromium through a command (e.g. ['ip', 'netns', 'exec', NS]), its DevTools
// reached at `debugAddress`, an address of that namespace the test can reach.
export async function startBrowser(stack, { args = [], wrap = [], debugAddress = '127.0.0.1' } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-chromium-'));
  const executable = process.env.CHROMIUM || '/usr/bin/chromium';
  const flags = [...FLAGS, ...args, `--user-data-dir=${dir}`, 'about:blank'];
  const child = spawn(wrap.length ? wrap[0] : executable, wrap.length ? [...wrap.slice(1), executable, ...flags] : flags,
    { stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`chromium did not start: ${text.slice(-2000)}`)), 30000);
    child.stderr.on('data', (d) => {
      text += d;
      const m = text.match(/DevTools listening on ws:\/\/[0-9.]+:(\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', () => reject(new Error(`chromium exited: ${text.slice(-2000)}`)));
  });
  let endpoint = `http://127.0.0.1:${port}`;
  if (wrap.length) {
    // Chromium's DevTools listen on its namespace's loopback only: a small TCP
    // forwarder in that namespace makes them reachable on `debugAddress`.
    const forward = `const net=require('net');net.createServer((c)=>{const u=net.connect(${port},'127.0.0.1');` +
      `c.pipe(u);u.pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy());}).listen(9333,'${debugAddress}',` +
      `()=>console.log('forwarding'));`;
    const forwarder = spawn(wrap[0], [...wrap.slice(1), process.execPath, '-e', forward], { stdio: ['ignore', 'pipe', 'ignore'] });
    stack.onCleanup(async () => forwarder.kill('SIGKILL'));
    await new Promise((resolve) => forwarder.stdout.once('data', resolve));
    endpoint = `http://${debugAddress}:9333`;
  }
  const browser = await chromium.connectOverCDP(endpoint);
  stack.onCleanup(async () => {
    await browser.close().catch(() => {});
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    pid: child.pid,  // Chromium's first process (its own children are its renderers, GPU, network)
    // Each page in its own context (its own window): background tabs are throttled.
    async open(url) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      page.errors = [];
      page.on('pageerror', (e) => page.errors.push(e.message));
      await page.goto(url);
      page.closeAll = () => context.close();
      return page;
    },
    // A tab of the browser's own profile, as a user opens one: it shares the HTTP
    // cache, cookies, storage and connections with the other tabs opened so.
    async openTab(url) {
      const page = await browser.contexts()[0].newPage();
      page.errors = [];
      page.on('pageerror', (e) => page.errors.push(e.message));
      await page.goto(url);
      page.closeAll = () => page.close();
      return page;
    },
  };
}

// Waits until the tile of `camera` on `page` is in `state`.
export async function tileState(page, camera, state, timeout = 15000) {
  await page.waitForSelector(`figure.tile[data-camera="${camera}"][data-state="${state}"]`, { timeout });
}

// The page's received sound: the inbound audio RTP figures of a camera's session
// (null before there is one).
export const soundOf = (page, cam) => page.evaluate(async (id) => {
  const pc = window.sightline.sessions.get(id)?.pc;
  if (!pc) return null;
  let audio = null;
  (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') audio = s; });
  return audio && { packets: audio.packetsReceived, energy: audio.totalAudioEnergy ?? 0, level: audio.audioLevel ?? 0 };
}, cam);
