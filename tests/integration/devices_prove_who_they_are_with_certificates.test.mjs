// Devices by certificate (mutual TLS). A relay given a test CA (tls-client-ca)
// takes a device's id from its certificate: an agent with a certificate the CA
// issued is welcomed without any secret; a revoked one (tls-client-revoked) and
// one from another CA are refused with a log line naming the certificate; agents
// with secrets still work; a certificate revoked while its device is connected
// (SIGHUP) cuts that device off. Behind a TLS-terminating proxy (haproxy, verifying
// the same certificates), the proxy passes the verified id in a header the relay
// believes from the proxy's address only: the same header sent from elsewhere is
// ignored and the peer refused.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import WebSocket from 'ws';
import { Proc, Stack, freePort, paths, startRelay, waitFor } from './lib/harness.mjs';

const openssl = (dir, ...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });

function issue(dir, name, cn, ca, ext = 'extendedKeyUsage=clientAuth\n') {
  openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
  fs.writeFileSync(path.join(dir, `${name}.cnf`), ext);
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-days', '2', '-extfile', `${name}.cnf`, '-out', `${name}.crt`);
  return { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
}

function makeCertificates(dir) {
  for (const ca of ['ca', 'other-ca'])
    openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=Sightline ${ca}`,
      '-keyout', `${ca}.key`, '-out', `${ca}.crt`);
  const server = 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n';
  const c = {
    relay: issue(dir, 'relay', '127.0.0.1', 'ca', server),
    proxy: issue(dir, 'proxy', '127.0.0.1', 'ca', server),
    good: issue(dir, 'good', 'cam-good', 'ca'),
    revoked: issue(dir, 'revoked', 'cam-revoked', 'ca'),
    stranger: issue(dir, 'stranger', 'cam-stranger', 'other-ca'),
    proxied: issue(dir, 'proxied', 'cam-proxied', 'ca'),
  };
  const fp = String(openssl(dir, 'x509', '-in', 'revoked.crt', '-noout', '-fingerprint', '-sha256')).trim();
  fs.writeFileSync(path.join(dir, 'revoked.txt'), `# revoked devices\n${fp}\n`);
  fs.writeFileSync(path.join(dir, 'proxy.pem'), fs.readFileSync(c.proxy.cert) + fs.readFileSync(c.proxy.key));
  return c;
}

// GET over https trusting the test CA.
function getJson(port, p, ca) {
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path: p, ca }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

function agent(stack, name, id, url, dir, extra) {
  return stack.add(new Proc(name, paths.agent, ['--id', id, '--relay', url, '--ca-file', path.join(dir, 'ca.crt'),
    '--ice-address', '127.0.0.1', '--heartbeat-interval', '1', '--reconnect-max', '2', '--width', '320', '--height',
    '240', ...extra]));
}

test('devices prove who they are with certificates', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-mtls-'));
    stack.onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const c = makeCertificates(dir);
    const ca = fs.readFileSync(path.join(dir, 'ca.crt'));
    fs.writeFileSync(path.join(dir, 'token-secret'), 'a-token-secret-of-enough-length-0001\n');
    fs.writeFileSync(path.join(dir, 'devices'), 'cam-secret secret-of-cam-secret-0001\n');
    const port = await freePort();
    const relay = stack.add(new Proc('relay (mtls)', paths.relay, ['--listen', `127.0.0.1:${port}`, '--web-root',
      paths.webRoot, '--heartbeat-interval', '1', '--tls-cert', c.relay.cert, '--tls-key', c.relay.key,
      '--tls-client-ca', path.join(dir, 'ca.crt'), '--tls-client-revoked', path.join(dir, 'revoked.txt'),
      '--token-secret-file', path.join(dir, 'token-secret'), '--device-secrets', path.join(dir, 'devices')]));
    await waitFor('the relay to serve https', () => /https:\/\/127\.0\.0\.1/.test(relay.output()));
    const url = `wss://127.0.0.1:${port}`;
    const cert = (k) => ['--tls-cert', c[k].cert, '--tls-key', c[k].key];

    agent(stack, 'agent cam-good', 'cam-good', url, dir, cert('good'));
    agent(stack, 'agent cam-secret', 'cam-secret', url, dir, ['--device-secret', 'secret-of-cam-secret-0001']);
    const revoked = agent(stack, 'agent cam-revoked', 'cam-revoked', url, dir, cert('revoked'));
    const stranger = agent(stack, 'agent cam-stranger', 'cam-stranger', url, dir, cert('stranger'));
    // A good certificate announcing someone else's id.
    const impostor = agent(stack, 'agent impostor', 'cam-secret', url, dir, cert('good'));
    for (const p of [revoked, stranger, impostor]) stack.killed.add(p);

    await waitFor('two agents welcomed', async () => (await getJson(port, '/healthz', ca)).agents === 2, { timeout: 20000 });
    await waitFor('the revoked certificate refused, named', () =>
      /refused \/ws\/agent from 127\.0\.0\.1: certificate CN=cam-revoked \(sha256 [0-9a-f]{64}\) refused: revoked/
        .test(relay.output()));
    await waitFor('the stranger refused, named', () =>
      /certificate CN=cam-stranger \(sha256 [0-9a-f]{64}\) refused: not issued by the tls-client-ca/.test(relay.output()));
    await waitFor('the revoked agent told', () => /refused this agent \(HTTP 401\)/.test(revoked.output()));
    await waitFor('the impostor refused', () => /device cam-good claimed another id \(cam-secret\)/.test(relay.output()));
    assert.match(relay.output(), /camera cam-good online/);
    assert.match(relay.output(), /camera cam-secret online/);

    // Revoked while connected: SIGHUP re-reads the list and the device's socket is closed; it
    // cannot come back.
    const good = String(openssl(dir, 'x509', '-in', 'good.crt', '-noout', '-fingerprint', '-sha256')).trim();
    fs.appendFileSync(path.join(dir, 'revoked.txt'), `${good}\n`);
    relay.child.kill('SIGHUP');
    await waitFor('cam-good cut off', () =>
      /device cam-good: its certificate \(sha256 [0-9a-f]{64}\) is revoked now; closing/.test(relay.output()));
    await waitFor('cam-good refused from then on', () =>
      /certificate CN=cam-good \(sha256 [0-9a-f]{64}\) refused: revoked/.test(relay.output()));
    await waitFor('one agent left', async () => (await getJson(port, '/healthz', ca)).agents === 1);
    for (const p of stack.procs) if (p.name === 'agent cam-good') stack.killed.add(p);

    // Behind a TLS-terminating proxy: haproxy verifies the device's certificate and
    // passes its common name from 127.0.0.2, the one address the relay believes.
    const plainPort = await freePort();
    const behind = stack.add(new Proc('relay (behind proxy)', paths.relay, ['--listen', `127.0.0.1:${plainPort}`,
      '--web-root', paths.webRoot, '--heartbeat-interval', '1', '--trusted-proxies', '127.0.0.2',
      '--proxy-client-header', 'X-Client-Cert-CN', '--token-secret-file', path.join(dir, 'token-secret')]));
    await waitFor('the plain relay', () => /serving /.test(behind.output()));
    const proxyPort = await freePort();
    const conf = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(conf, ['global', '  maxconn 256', 'defaults', '  mode http', '  timeout connect 2s',
      '  timeout client 30s', '  timeout server 30s', '  timeout tunnel 1h',
      'frontend devices', `  bind 127.0.0.1:${proxyPort} ssl crt ${path.join(dir, 'proxy.pem')} ca-file ${path.join(dir, 'ca.crt')} verify required`,
      '  http-request del-header X-Client-Cert-CN',
      '  http-request set-header X-Client-Cert-CN %{+Q}[ssl_c_s_dn(cn)] if { ssl_c_used ssl_c_verify 0 }',
      '  default_backend relay', 'backend relay', `  server r 127.0.0.1:${plainPort} source 127.0.0.2`, ''].join('\n'));
    const haproxy = stack.add(new Proc('haproxy', '/usr/sbin/haproxy', ['-db', '-f', conf]));
    stack.onCleanup(() => stack.kill(haproxy, 'SIGTERM'));
    agent(stack, 'agent cam-proxied', 'cam-proxied', `wss://127.0.0.1:${proxyPort}`, dir, cert('proxied'));
    await waitFor('the proxied agent welcomed', () => /camera cam-proxied online/.test(behind.output()), { timeout: 20000 });

    // The same header straight to the relay, from an address it does not trust: ignored, refused.
    const forged = new WebSocket(`ws://127.0.0.1:${plainPort}/ws/agent`, { headers: { 'X-Client-Cert-CN': 'cam-proxied' } });
    const status = await new Promise((resolve) => {
      forged.on('unexpected-response', (req, res) => resolve(res.statusCode));
      forged.on('open', () => resolve(101));
      forged.on('error', () => {});
    });
    assert.equal(status, 401);
    await waitFor('the log line', () =>
      /X-Client-Cert-CN header was ignored: 127\.0\.0\.1 is not a trusted proxy/.test(behind.output()));
  });
});
