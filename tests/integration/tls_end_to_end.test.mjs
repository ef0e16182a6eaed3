// TLS end to end with a test CA: the relay serves https:// and wss:// with a
// certificate the CA signed, the agent dials wss:// and checks it against the
// CA (--ca-file), Chromium trusts the certificate and plays the camera; an
// agent without the CA refuses the relay. MQTT likewise: mosquitto over TLS
// with passwords; relay and agent verify it and log in; a wrong password or
// a missing CA is refused and said plainly.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { Proc, Stack, freePort, paths, postCommand, startAgent, startMosquitto, startRelay, waitFor } from './lib/harness.mjs';
import { startBrowser, tileState } from './lib/browser.mjs';

const openssl = (dir, ...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });

function makeCertificates(dir) {
  openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Sightline test CA',
    '-keyout', 'ca.key', '-out', 'ca.crt');
  openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'relay.key', '-out', 'relay.csr');
  fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(dir, 'x509', '-req', '-in', 'relay.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
    '-extfile', 'ext.cnf', '-out', 'relay.crt');
  // Chromium trusts this one key (its SPKI hash), as a company CA would be trusted.
  const pub = openssl(dir, 'x509', '-in', 'relay.crt', '-pubkey', '-noout');
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pub });
  return execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der }).toString('base64');
}

test('https and wss with a test CA: agent verifies, browser plays', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-tls-'));
    stack.onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const spki = makeCertificates(dir);
    const port = await freePort();
    const relay = stack.add(new Proc('relay (tls)', paths.relay, ['--listen', `127.0.0.1:${port}`, '--web-root',
      paths.webRoot, '--insecure-dev', '--tls-cert', path.join(dir, 'relay.crt'), '--tls-key', path.join(dir, 'relay.key')]));
    await waitFor('the relay to log its https address', () => /https:\/\/127\.0\.0\.1/.test(relay.output()));

    const agentArgs = ['--relay', `wss://127.0.0.1:${port}`, '--ice-address', '127.0.0.1', '--heartbeat-interval', '1',
      '--reconnect-max', '2', '--width', '640', '--height', '480'];
    // Without the CA the agent refuses the relay's certificate and says so.
    const doubting = stack.add(new Proc('agent without CA', paths.agent, ['--id', 'doubting', ...agentArgs]));
    await waitFor('the agent to refuse the certificate', () => /cannot reach relay/.test(doubting.output()));
    stack.killed.add(doubting);
    await doubting.stop();
    stack.add(new Proc('agent with CA', paths.agent, ['--id', 'tls-cam', '--ca-file', path.join(dir, 'ca.crt'), ...agentArgs]));

    const browser = await startBrowser(stack, { args: [`--ignore-certificate-errors-spki-list=${spki}`] });
    const page = await browser.open(`https://127.0.0.1:${port}/view/tls-cam`);
    await tileState(page, 'tls-cam', 'live', 30000);
    assert.equal(new URL(page.url()).protocol, 'https:');
    const size = await page.$eval('figure.tile[data-camera="tls-cam"] video', (v) => [v.videoWidth, v.videoHeight]);
    assert.deepEqual(size, [640, 480]);
    assert.deepEqual(page.errors, []);
  });
});

test('MQTT over TLS with user and password: commands flow; wrong password or unknown CA refused', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-mqtts-'));
    stack.onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
    makeCertificates(dir);
    const file = (name) => path.join(dir, name);
    const users = { relay: 'relay-password-1234', cam: 'camera-password-5678' };
    const broker = await startMosquitto(stack, { tls: { ca: file('ca.crt'), cert: file('relay.crt'), key: file('relay.key') },
      users });
    assert.match(broker.url, /^ssl:/);
    const mqtt = (user, password, ca = file('ca.crt')) => ['--mqtt', broker.url, '--mqtt-user', user,
      '--mqtt-password', password, ...(ca ? ['--mqtt-ca-file', ca] : [])];
    const relay = await startRelay(stack, { args: mqtt('relay', users.relay) });
    await waitFor('the relay logged in to the broker', () => /mqtt: connected to ssl:/.test(relay.proc.output()));
    const agent = await startAgent(stack, relay.port, 'cam', ['--width', '320', '--height', '240', ...mqtt('cam', users.cam)]);
    await waitFor('the agent logged in to the broker', () => /mqtt: connected to ssl:/.test(agent.output()));
    const result = await postCommand(relay.port, 'cam', { type: 'get_state' });
    assert.equal(result.status, 200);
    assert.equal(result.ack.status, 'ok');
    assert.equal(result.ack.result.width, 320, 'the state came from the camera itself');

    // A wrong password, and a broker certificate from a CA the agent does not know.
    const wrong = await startAgent(stack, relay.port, 'wrong', ['--width', '320', '--height', '240',
      ...mqtt('cam', 'not-the-password')], { wait: false });
    const doubting = await startAgent(stack, relay.port, 'doubting', ['--width', '320', '--height', '240',
      ...mqtt('cam', users.cam, null)], { wait: false });
    await waitFor('both refusals logged', () => /mqtt: cannot reach ssl:.*not authorized.*mqtt-password/.test(wrong.output())
      && /mqtt: cannot reach ssl:.*certificate is not trusted \(check mqtt-ca-file\)/.test(doubting.output()));
    assert.doesNotMatch(wrong.output(), /mqtt: connected/);
    assert.doesNotMatch(doubting.output(), /mqtt: connected/);
    // The video side does not depend on the broker: both cameras still come online.
    await waitFor('the refused agents still stream', async () => {
      const list = (await (await fetch(`${relay.url}/api/cameras`)).json()).cameras;
      return ['wrong', 'doubting'].every((id) => list.find((c) => c.id === id)?.connected);
    });
  });
});
