// After a relay restart a whole fleet connects at once: the relay listens with the
// largest backlog the kernel gives (net.core.somaxconn), not GSocketListener's 10,
// and a burst of 300 connections at once is accepted and served.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import test from 'node:test';
import { Stack, getJson, startRelay } from './lib/harness.mjs';

test('listen backlog is sized for fleets', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack);
    const somaxconn = Number(fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
    // For a listening socket, ss shows its backlog as Send-Q.
    const line = execFileSync('ss', ['-Hltn', `sport = :${relay.port}`]).toString().trim();
    const backlog = Number(line.split(/\s+/)[2]);
    assert.equal(backlog, somaxconn, `ss says: ${line}`);

    const sockets = await Promise.all(Array.from({ length: 300 }, () => new Promise((resolve, reject) => {
      const s = net.connect(relay.port, '127.0.0.1', () => resolve(s));
      s.on('error', reject);
    })));
    assert.equal((await getJson(relay.port, '/healthz')).status, 'ok');
    for (const s of sockets) s.destroy();
  });
});
