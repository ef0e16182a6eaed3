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

// `args`: extra Chromium flags (e.g. trusting a test certificate).
export async function startBrowser(stack, { args = [] } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-chromium-'));
  const child = spawn(process.env.CHROMIUM || '/usr/bin/chromium', [...FLAGS, ...args, `--user-data-dir=${dir}`, 'about:blank'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`chromium did not start: ${text.slice(-2000)}`)), 30000);
    child.stderr.on('data', (d) => {
      text += d;
      const m = text.match(/DevTools listening on ws:\/\/127\.0\.0\.1:(\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', () => reject(new Error(`chromium exited: ${text.slice(-2000)}`)));
  });
  const browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`);
  stack.onCleanup(async () => {
    await browser.close().catch(() => {});
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
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
  };
}

// Waits until the tile of `camera` on `page` is in `state`.
export async function tileState(page, camera, state, timeout = 15000) {
  await page.waitForSelector(`figure.tile[data-camera="${camera}"][data-state="${state}"]`, { timeout });
}
