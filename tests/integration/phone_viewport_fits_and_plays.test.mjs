// On a phone's screen (375x667, 360x640) neither the grid nor a camera's view
// scrolls sideways, the grid is one column, the tile plays, every field has a
// label, keyboard focus shows, and a tile's state change reaches the live region.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Stack, startAgent, startRelay, waitFor } from './lib/harness.mjs';
import { startBrowser, tileState } from './lib/browser.mjs';

const PHONES = [{ width: 375, height: 667 }, { width: 360, height: 640 }];
// A long name: captions must wrap it, not widen the page.
const CAM = 'front-door-camera-by-the-garden-gate';
const OTHER = 'porch';

const fits = (page) => page.evaluate(() => ({
  scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));

async function assertFits(page, what) {
  const { scrollWidth, innerWidth } = await fits(page);
  assert.ok(scrollWidth <= innerWidth, `${what}: ${scrollWidth} px wide in a ${innerWidth} px window`);
}

// A frame decoded on the camera's tile (its peer connection's own count).
const decoded = (page, id) => waitFor(`a frame of ${id} decoded`, () => page.evaluate(async (c) => {
  const pc = window.sightline?.sessions.get(c)?.pc;
  if (!pc) return false;
  for (const r of (await pc.getStats()).values()) if (r.type === 'inbound-rtp' && r.framesDecoded > 0) return true;
  return false;
}, id), { timeout: 15000 });

test('a phone-sized page fits its width and plays', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack);
    for (const id of [CAM, OTHER]) {
      await startAgent(stack, relay.port, id, ['--width', '320', '--height', '240', '--fps', '15']);
    }
    const browser = await startBrowser(stack);
    for (const viewport of PHONES) {
      const at = `${viewport.width}x${viewport.height}`;
      const page = await browser.open('about:blank');
      await page.setViewportSize(viewport);

      // The grid: one column, nothing sideways.
      await page.goto(`${relay.url}/`);
      await tileState(page, CAM, 'live');
      await decoded(page, CAM);
      await assertFits(page, `grid at ${at}`);
      const lefts = await page.evaluate(() => [...document.querySelectorAll('figure.tile')]
        .map((f) => Math.round(f.getBoundingClientRect().left)));
      assert.equal(lefts.length, 2);
      assert.equal(new Set(lefts).size, 1, `one column at ${at}: tiles start at ${lefts}`);

      // A camera's view with its control panel, and an answer in the command log.
      await page.goto(`${relay.url}/view/${CAM}`);
      await tileState(page, CAM, 'live');
      await decoded(page, CAM);
      await waitFor('the live region to say the camera is live', () =>
        page.evaluate((c) => document.querySelector('#announcer[aria-live="polite"]')?.textContent.includes(`${c}: live`), CAM));
      await page.waitForSelector('form[data-command="set_controls"] input');
      // Keyboard focus shows on a link and on a field.
      const outline = () => page.evaluate(() => {
        const s = getComputedStyle(document.activeElement);
        return { tag: document.activeElement.tagName, style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
      });
      await page.keyboard.press('Tab');
      const link = await outline();
      assert.equal(link.tag, 'A');
      assert.ok(link.style !== 'none' && link.width >= 2, `focus shows on a link: ${JSON.stringify(link)}`);
      const field = await waitFor('Tab to reach a field', async () => {
        await page.keyboard.press('Tab');
        const o = await outline();
        return o.tag === 'INPUT' ? o : null;
      }, { timeout: 10000 });
      assert.ok(field.style !== 'none' && field.width >= 2, `focus shows on a field: ${JSON.stringify(field)}`);

      await page.click('form[data-command="force_keyframe"] button');
      await page.waitForSelector('#command-log li:not([data-status="pending"])');
      await assertFits(page, `view at ${at}`);

      // Every field is labelled: by a <label> holding or naming it, or by aria-label.
      const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
        .filter((i) => ![...i.labels].some((l) => l.textContent.trim()) && !i.getAttribute('aria-label')?.trim())
        .map((i) => i.outerHTML));
      assert.deepEqual(unlabelled, []);
      assert.ok(await page.evaluate(() => document.querySelectorAll('input').length) >= 5, 'the panel has its fields');

      assert.deepEqual(page.errors, []);
      await page.closeAll();
    }
  });
});
