// Control-plane benchmark: command round trips, printed one line per path.
//  - browser: click in the /view/<id> control panel -> ack shown (what an operator feels)
//  - HTTP:    POST /api/cameras/<id>/commands -> 200 with the ack (what a script feels)
//  - MQTT:    publish on cmd -> ack arrives, straight at the broker (the reference:
//             what the relay and the page add on top of the agent and the broker)
// get_state runs no media work, so these are the plumbing's own costs; set_video
// with a bitrate changes the running encoder. Loopback only; bounded loops.
import { Stack, postCommand, startAgent, startMosquitto, startRelay } from '../tests/integration/lib/harness.mjs';
import { startBrowser, tileState } from '../tests/integration/lib/browser.mjs';
import { connectMqtt } from '../tests/integration/lib/mqtt.mjs';

const N = Number(process.env.RUNS || 100);
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))];
};
const r2 = (x) => Math.round(x * 100) / 100;
const line = (what, xs) => console.log(`${what} (${xs.length} runs): median ${r2(pct(xs, 50))} ms, `
  + `p95 ${r2(pct(xs, 95))} ms, min ${r2(Math.min(...xs))} ms, max ${r2(Math.max(...xs))} ms`);

const stack = new Stack();
await stack.run(async () => {
  const broker = await startMosquitto(stack);
  const relay = await startRelay(stack, { args: ['--mqtt', broker.url] });
  await startAgent(stack, relay.port, 'bench', ['--mqtt', broker.url, '--width', '640', '--height', '480']);

  // Browser: the panel's own timing, from submit to the result in the log.
  const browser = await startBrowser(stack);
  const page = await browser.open(`${relay.url}/view/bench`);
  await tileState(page, 'bench', 'live');
  for (const [command, fill] of [['get_state', null], ['set_video', ['bitrate', [1500, 2000]]]]) {
    const [shown, arrived] = await page.evaluate(async ([cmd, fillSpec, n]) => {
      const form = document.querySelector(`form[data-command="${cmd}"]`);
      const log = window.sightline.control.log;
      const out = [], arrived = [];
      for (let i = 0; i < n; i++) {
        if (fillSpec) form.elements[fillSpec[0]].value = fillSpec[1][i % 2];
        const before = log.length;
        const started = performance.now();
        form.querySelector('button').click();
        // Until the answer is in the log and painted.
        while (log.length === before && performance.now() - started < 15000) await new Promise((r) => setTimeout(r, 0));
        await new Promise((r) => requestAnimationFrame(() => r()));
        if (log.at(-1).status !== 'ok') throw new Error(JSON.stringify(log.at(-1)));
        out.push(performance.now() - started);
        arrived.push(log.at(-1).rttMs);
      }
      return [out, arrived];
    }, [command, fill, N]);
    line(`browser click -> ack shown (next paint), ${command}${fill ? ' bitrate' : ''}`, shown);
    line(`browser click -> ack arrived on the page's socket, ${command}${fill ? ' bitrate' : ''}`, arrived);
  }

  // HTTP, from a script.
  for (const body of [{ type: 'get_state' }, { type: 'set_video', params: { bitrate: 1800 } }]) {
    const ms = [];
    for (let i = 0; i < N; i++) {
      const r = await postCommand(relay.port, 'bench', body);
      if (r.status !== 200 || r.ack.status !== 'ok') throw new Error(JSON.stringify(r));
      ms.push(r.ms);
    }
    line(`HTTP POST -> 200, ${body.type}`, ms);
  }

  // MQTT straight to the agent: the reference.
  const mqtt = await connectMqtt(broker.port);
  await mqtt.subscribe('sightline/bench/ack');
  const ms = [];
  for (let i = 0; i < N; i++) {
    const id = `b${i}`;
    const started = performance.now();
    await mqtt.publish('sightline/bench/cmd', { id, type: 'get_state' });
    await mqtt.waitFor((m) => m.json().id === id);
    ms.push(performance.now() - started);
  }
  line('MQTT publish -> ack (reference, no relay), get_state', ms);
  await mqtt.close();
});
