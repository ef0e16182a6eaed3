// A grid over a fleet of 10,001 cameras: the page shows the fleet's totals and one
// page of tiles (24), never the whole list, and its main thread stays responsive
// while the list loads and changes; the search box finds one camera by name and
// it plays; the next page shows the next cameras; cameras going offline change the
// totals and their tiles. 10,000 of the cameras are announced by 40 protocol-level
// fake agents (250 cameras each, the relay takes at most 256 per hello); one is a
// real agent, named to sort last.
import assert from 'node:assert/strict';
import test from 'node:test';
import WebSocket from 'ws';
import { Stack, getJson, startAgent, startRelay, waitFor } from './lib/harness.mjs';
import { startBrowser, tileState } from './lib/browser.mjs';

const AGENTS = 40;
const PER_AGENT = 250;
const FLEET = AGENTS * PER_AGENT;
const REAL = 'zz-real';
const PAGE = 24;
const id = (i) => `fleet-${String(i).padStart(5, '0')}`;
const range = (from, to) => Array.from({ length: to - from }, (_, k) => id(from + k));

// An agent that speaks the protocol and nothing more: it announces its cameras,
// keeps its socket alive, and ends at once any session a page asks for (it has no
// video), so the tiles of its cameras fail and retry while the relay lists them online.
async function fakeAgent(port, n) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/agent`);
  const send = (m) => { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m)); };
  const welcomed = new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('close', (code) => reject(new Error(`fake agent ${n} closed (${code}) before its welcome`)));
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      if (m.type === 'welcome') resolve();
      else if (m.type === 'heartbeat') send({ type: 'heartbeat' });
      else if (m.type === 'offer') send({ type: 'session_end', session: m.session, reason: 'error' });
    });
  });
  ws.on('open', () => send({
    type: 'hello', protocol: 1, agent: `fleet-agent-${n}`,
    cameras: range(n * PER_AGENT, (n + 1) * PER_AGENT).map((camera) => ({
      id: camera, width: 320, height: 240, fps: 15, codec: 'H264', source: 'test', encoder: 'x264enc',
    })),
  }));
  const beat = setInterval(() => send({ type: 'heartbeat' }), 1000);
  ws.on('close', () => clearInterval(beat));
  await welcomed;
  ws.removeAllListeners('error');
  ws.on('error', () => {});
  return ws;
}

// GET /api/cameras: a page of the list ({ cameras, total }), or, from a relay that
// does not page, the whole list.
async function listed(port, query = '') {
  const answer = await getJson(port, `/api/cameras${query}`);
  return Array.isArray(answer) ? { cameras: answer, total: answer.length } : answer;
}

const tiles = (page) => page.evaluate(() => [...document.querySelectorAll('figure.tile')].map((f) => f.dataset.camera));
const totals = (page) => page.evaluate(() => ({ ...document.getElementById('totals')?.dataset }));

// How long the page's main thread was kept from running a 50 ms timer, and its
// longest task, since the last reset (installed before the page's own scripts).
function watchMainThread() {
  const lag = { late: 0, longest: 0 };
  window.mainThread = lag;
  window.resetMainThread = () => { lag.late = 0; lag.longest = 0; };
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    lag.late = Math.max(lag.late, now - last - 50);
    last = now;
  }, 50);
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) lag.longest = Math.max(lag.longest, e.duration);
  }).observe({ type: 'longtask', buffered: true });
}

async function assertResponsive(page, what) {
  const started = performance.now();
  const lag = await page.evaluate(() => window.mainThread);
  const roundTrip = performance.now() - started;
  assert.ok(roundTrip < 1000, `${what}: a round trip to the page took ${Math.round(roundTrip)} ms`);
  assert.ok(lag.late < 1000, `${what}: the main thread was blocked for ${Math.round(lag.late)} ms`);
  assert.ok(lag.longest < 1000, `${what}: its longest task took ${Math.round(lag.longest)} ms`);
}

test('the grid at fleet size', { timeout: 200000 }, async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack);
    await startAgent(stack, relay.port, REAL, ['--source', 'test', '--width', '320', '--height', '240', '--fps', '15'],
      { wait: false });
    await waitFor(`${REAL} connected`, async () =>
      (await listed(relay.port, `?q=${REAL}`)).cameras.find((c) => c.id === REAL)?.connected);

    const browser = await startBrowser(stack);
    const grid = await browser.open('about:blank');
    await grid.addInitScript(watchMainThread);
    await grid.goto(`${relay.url}/`);
    await grid.waitForSelector('body[data-relay="connected"]');
    await waitFor('the grid to show its one camera', async () => (await tiles(grid)).join() === REAL);

    // The fleet arrives while the page is open.
    await grid.evaluate(() => window.resetMainThread());
    const fakes = [];
    // At the end the fake agents leave first, and the relay is given the time to
    // take 10,000 cameras offline before it is asked to stop.
    stack.onCleanup(async () => {
      for (const ws of fakes) ws.terminate();
      await waitFor('the fleet to be offline', async () => {
        const { cameras } = await listed(relay.port, '?online=true&limit=1000');
        return !cameras.some((c) => c.id.startsWith('fleet-') && c.connected);
      }, { timeout: 30000, interval: 250 }).catch(() => {});
    });
    for (let n = 0; n < AGENTS; n++) fakes.push(await fakeAgent(relay.port, n));
    assert.equal((await listed(relay.port, '?limit=1')).total, FLEET + 1, 'the relay lists the whole fleet');

    const expectFirstPage = async (what) => {
      await waitFor(`${what}: the totals to count the fleet`, async () => (await totals(grid)).cameras === String(FLEET + 1),
        { timeout: 30000 });
      await waitFor(`${what}: the first page`, async () => (await tiles(grid)).join() === range(0, PAGE).join(),
        { timeout: 30000 });
      const t = await totals(grid);
      assert.deepEqual([t.cameras, t.online, t.offline], [String(FLEET + 1), String(FLEET + 1), '0'], what);
      assert.match(await grid.textContent('#totals'), /10,001 cameras/);
      assert.equal(await grid.textContent('#range'), `1–${PAGE} of 10,001`);
      assert.equal(await grid.locator('figure.tile').count(), PAGE, `${what}: one page of tiles`);
      await assertResponsive(grid, what);
    };
    await expectFirstPage('the fleet announced with the page open');

    // A page opened on the whole fleet loads as fast.
    await grid.reload();
    await grid.evaluate(() => window.resetMainThread());
    await expectFirstPage('the page loaded with the fleet there');
    assert.equal(await grid.locator('figure.tile').count(), PAGE, 'still one page of tiles');

    // Search by name: the one camera, and it plays.
    await grid.fill('#search', REAL);
    await waitFor('the search to find the real camera', async () => (await tiles(grid)).join() === REAL);
    await tileState(grid, REAL, 'live', 20000);
    assert.equal(await grid.isVisible('#pager'), false, 'one page: no pager');
    assert.equal((await totals(grid)).cameras, String(FLEET + 1), 'the totals are the fleet\'s, not the search\'s');

    // Back to the whole list, then the next page: the next 24 cameras.
    await grid.fill('#search', '');
    await waitFor('the first page again', async () => (await tiles(grid)).join() === range(0, PAGE).join(),
      { timeout: 20000 });
    await grid.click('#next');
    await waitFor('the second page', async () => (await tiles(grid)).join() === range(PAGE, 2 * PAGE).join(),
      { timeout: 20000 });
    assert.equal(await grid.textContent('#range'), `25–48 of 10,001`);
    assert.equal(await grid.locator('figure.tile').count(), PAGE);
    assert.equal(await grid.locator(`figure.tile[data-camera="${id(0)}"]`).count(), 0, 'the first page\'s tiles are gone');

    // The agent of the first 250 cameras goes: the totals count them offline, and this
    // page's tiles (all of them that agent's) say so.
    await grid.evaluate(() => window.resetMainThread());
    fakes[0].close();
    await waitFor('the totals to count 250 cameras offline', async () => {
      const t = await totals(grid);
      return t.online === String(FLEET + 1 - PER_AGENT) && t.offline === String(PER_AGENT) ? t : null;
    }, { timeout: 30000 });
    assert.equal((await totals(grid)).cameras, String(FLEET + 1), 'cameras seen once stay in the list');
    for (const camera of range(PAGE, 2 * PAGE)) await tileState(grid, camera, 'offline', 15000);
    await assertResponsive(grid, 'an agent of 250 cameras gone');
    assert.deepEqual(grid.errors, []);
  });
});
