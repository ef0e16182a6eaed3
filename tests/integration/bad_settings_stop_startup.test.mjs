// Bad settings stop start-up with a message that names the key, and a missing
// camera is reported in plain words: exit codes and messages as a user sees them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { paths } from './lib/harness.mjs';

const run = (bin, args) => spawnSync(bin, args, { encoding: 'utf8', timeout: 20000 });

test('bad settings stop start-up naming the key', () => {
  const cases = [
    [paths.agent, ['--fps', 'fast'], /'fps'/],
    [paths.agent, ['--relay', 'http://example'], /'relay'/],
    [paths.agent, ['--width', '320', '--stamp'], /'stamp'/],
    [paths.agent, ['--encoder', 'nvenc'], /'encoder'/],
    [paths.agent, ['--source', 'usb'], /'source'/],
    [paths.agent, ['--source', 'v4l2:/dev/video0 ! fakesrc'], /'source'/],
    [paths.agent, ['--colour', 'red'], /--colour/],
    [paths.relay, ['--listen', 'nowhere'], /'listen'/],
    [paths.relay, ['--heartbeat-interval', '0'], /'heartbeat-interval'/],
    [paths.relay, ['--stun', 'http://x'], /'stun'/],
  ];
  for (const [bin, args, pattern] of cases) {
    const r = run(bin, args);
    assert.equal(r.status, 2, `${path.basename(bin)} ${args.join(' ')} exits 2`);
    assert.match(r.stderr, pattern);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-conf-'));
  const file = path.join(dir, 'agent.conf');
  fs.writeFileSync(file, '[agent]\nframerate=30\n');
  const r = run(paths.agent, ['--config', file]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Unknown setting 'framerate'/);
});

test('a camera that is not there is reported plainly', () => {
  const r = run(paths.agent, ['--source', 'v4l2:/dev/video99']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Cannot open camera \/dev\/video99/);
});

test('--help lists every setting with its default', () => {
  const r = run(paths.agent, ['--help']);
  assert.equal(r.status, 0);
  for (const key of ['--relay', '--source', '--ice-address', '--encoder', '--stamp']) assert.ok(r.stdout.includes(key), key);
  assert.match(r.stdout, /\[default: 1280\]/);
});
