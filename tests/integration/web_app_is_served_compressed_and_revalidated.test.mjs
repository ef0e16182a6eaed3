// The web app as the relay serves it: text compressed for a browser that accepts
// gzip (and not for one that does not), each file with an ETag answered 304 when
// asked again unchanged, a changed file served anew; and the camera page names
// every module it will run in modulepreload links, so that on a thin link they
// arrive with the page, before the picture fills it
// (adapts_to_a_viewers_link times that on a 1 Mbit/s link).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import zlib from 'node:zlib';
import { Stack, paths, startRelay } from './lib/harness.mjs';

const get = (url, headers = {}) => fetch(url, { headers, decompress: false });

// Raw bytes and headers: Node's fetch decompresses by itself, so ask with http.
async function raw(url, headers = {}) {
  const http = await import('node:http');
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

// The static import graph of a module (import ... from './x.js' and import('./x.js')).
function graph(root, start) {
  const seen = new Set();
  const visit = (name) => {
    if (seen.has(name)) return;
    seen.add(name);
    const text = fs.readFileSync(path.join(root, 'js', name), 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)['"]\.\/([\w.-]+\.js)['"]/g)) visit(m[1]);
  };
  visit(start);
  return seen;
}

test('the web app is served compressed, revalidated, and the camera page preloads what it runs', async () => {
  const stack = new Stack();
  const web = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-web-'));
  fs.cpSync(paths.webRoot, web, { recursive: true });
  stack.onCleanup(async () => fs.rmSync(web, { recursive: true, force: true }));
  await stack.run(async () => {
    const relay = await startRelay(stack, { args: ['--web-root', web] });
    const url = `${relay.url}/js/app.js`;
    const onDisk = fs.readFileSync(path.join(web, 'js/app.js'));

    const zipped = await raw(url, { 'Accept-Encoding': 'gzip, deflate, br' });
    assert.equal(zipped.status, 200);
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.equal(zipped.headers['vary'], 'Accept-Encoding');
    assert.match(zipped.headers['content-type'], /^text\/javascript/);
    assert.ok(zipped.body.length < onDisk.length / 2, `${zipped.body.length} bytes compressed of ${onDisk.length}`);
    assert.deepEqual(zlib.gunzipSync(zipped.body), onDisk);
    const etag = zipped.headers.etag;
    assert.match(etag, /^"[0-9a-f]{16}"$/);

    const plain = await raw(url, { 'Accept-Encoding': 'identity' });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.deepEqual(plain.body, onDisk);
    assert.equal((await raw(url, { 'Accept-Encoding': 'gzip;q=0' })).headers['content-encoding'], undefined);

    // Asked again with the ETag: 304 and no body; HEAD as GET without the body.
    const again = await raw(url, { 'If-None-Match': etag, 'Accept-Encoding': 'gzip' });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    assert.equal(again.headers.etag, etag);
    assert.equal((await get(url, { 'If-None-Match': '"0000000000000000"' })).status, 200);
    const head = await fetch(url, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('etag'), etag);

    // Changed on disk: served anew, with another ETag; the old one no longer matches.
    fs.appendFileSync(path.join(web, 'js/app.js'), '\n// changed\n');
    const changed = await raw(url, { 'If-None-Match': etag });
    assert.equal(changed.status, 200);
    assert.notEqual(changed.headers.etag, etag);
    assert.ok(changed.body.toString().endsWith('// changed\n'));

    // Missing files and paths out of the root stay 404.
    assert.equal((await get(`${relay.url}/js/nothing.js`)).status, 404);
    assert.equal((await raw(`${relay.url}/js/../../etc/passwd`)).status, 404);

    // The camera page names every module view.js runs (and signaling.js, which it runs first).
    const view = await (await get(`${relay.url}/view/cam`)).text();
    const preloaded = new Set([...view.matchAll(/<link rel="modulepreload" href="\/js\/([\w.-]+\.js)">/g)].map((m) => m[1]));
    for (const name of [...graph(web, 'view.js'), 'signaling.js']) {
      assert.ok(preloaded.has(name), `view.html does not preload js/${name}`);
    }
  });
});
