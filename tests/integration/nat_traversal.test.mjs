// Camera and browser each behind their own NAT, relay and coturn on a public
// segment (namespaces built by lib/nat.mjs). Endpoint-independent NAT: the
// stream plays through server-reflexive candidates learned from the relay's
// built-in STUN responder. Symmetric NAT on both sides: it plays through TURN
// with the per-session credentials the relay minted. Expired and forged TURN
// credentials are refused by coturn. The selected candidate pair is read from
// the browser's getStats.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import test from 'node:test';
import { Stack, waitFor } from './lib/harness.mjs';
import { tileState } from './lib/browser.mjs';
import { PUBLIC, TURN_PORT, buildInternet, deploy, startCoturn } from './lib/nat.mjs';

async function selectedPair(page) {
  return waitFor('the selected candidate pair', () => page.evaluate(() => {
    const f = window.sightline.stats.get('cam');
    return f?.localType ? { local: f.localType, remote: f.remoteType } : null;
  }), { timeout: 20000 });
}

test('endpoint-independent NAT on both sides: server-reflexive path via the relay\'s STUN responder', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const net = buildInternet(stack, { nat: 'eim' });
    const { browser, token, url } = await deploy(stack, net,
      ['--stun-listen', `${PUBLIC}:3478`, '--stun', `stun:${PUBLIC}:3478`]);
    const page = await browser.open(`${url}/view/cam?token=${token}`);
    await tileState(page, 'cam', 'live', 30000);
    const pair = await selectedPair(page);
    // The camera's private address is unreachable from the browser: only a
    // reflexive address (learned by STUN, or seen in checks) can carry the stream.
    assert.ok(['srflx', 'prflx'].includes(pair.remote), JSON.stringify(pair));
    assert.notEqual(pair.local, 'relay');
    console.log(`NAT eim: pair ${pair.local}/${pair.remote}, first frame ${Math.round(
      await page.evaluate(() => window.sightline.timing.firstFrame))} ms after navigation`);
  });
});

test('symmetric NAT on both sides: relayed through coturn with per-session credentials', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const net = buildInternet(stack, { nat: 'symmetric' });
    const turnSecret = startCoturn(stack, net);
    const { browser, token, url } = await deploy(stack, net, ['--turn', `turn:${PUBLIC}:${TURN_PORT}`,
      '--turn-secret', turnSecret]);
    const page = await browser.open(`${url}/view/cam?token=${token}`);
    await tileState(page, 'cam', 'live', 40000);
    const pair = await selectedPair(page);
    assert.ok(pair.local === 'relay' || pair.remote === 'relay', JSON.stringify(pair));
    console.log(`NAT symmetric: pair ${pair.local}/${pair.remote}, first frame ${Math.round(
      await page.evaluate(() => window.sightline.timing.firstFrame))} ms after navigation`);

    // coturn itself refuses credentials that expired or were not signed with its secret.
    const now = Math.floor(Date.now() / 1000);
    const creds = (expiry, secret) => {
      const username = `${expiry}:probe`;
      return { username, credential: crypto.createHmac('sha1', secret).update(username).digest('base64') };
    };
    const relayCandidates = (server) => page.evaluate(async (s) => {
      const pc = new RTCPeerConnection({ iceServers: [s], iceTransportPolicy: 'relay' });
      pc.addTransceiver('video');
      const found = [];
      pc.onicecandidate = (e) => { if (e.candidate) found.push(e.candidate.type); };
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise((r) => {
        const t = setTimeout(r, 8000);
        pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') { clearTimeout(t); r(); } };
      });
      pc.close();
      return found.filter((t) => t === 'relay').length;
    }, server);
    const turnUrl = `turn:${PUBLIC}:${TURN_PORT}`;
    assert.ok(await relayCandidates({ urls: turnUrl, ...creds(now + 600, turnSecret) }) > 0, 'valid credentials work');
    assert.equal(await relayCandidates({ urls: turnUrl, ...creds(now - 60, turnSecret) }), 0, 'expired refused');
    assert.equal(await relayCandidates({ urls: turnUrl, ...creds(now + 600, 'forged') }), 0, 'forged refused');
  });
});
