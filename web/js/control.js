// The control panel of `/view/<id>`: the camera's published state, one form per
// command, and the answer to every command (success and error alike), sent
// through the relay's WebSocket ({type:'command'} -> {type:'command_result'}).
// Hooks for tests: form[data-command], #command-log li[data-status],
// window.sightline.control.log.

const TIMEOUT_MS = 15000;

const FORMS = [
  { command: 'set_video', title: 'Video', button: 'Apply',
    fields: [['width', 'width'], ['height', 'height'], ['fps', 'fps'], ['bitrate', 'kbit/s']] },
  { command: 'force_keyframe', title: 'Keyframe', button: 'Force keyframe' },
  { command: 'snapshot', title: 'Snapshot', button: 'Take snapshot' },
  { command: 'restart_pipeline', title: 'Pipeline', button: 'Restart pipeline' },
  { command: 'set_controls', title: 'Camera controls', button: 'Set', text: 'controls',
    placeholder: 'brightness=10, contrast=5' },
  { command: 'get_state', title: 'State', button: 'Refresh state' },
];

export function startControlPanel({ relay, camera, container }) {
  const control = { log: [] };
  window.sightline = window.sightline || {};
  window.sightline.control = control;
  const pending = new Map();  // ref -> { command, form, started, timer, item }
  let counter = 0;

  const panel = el('section', { id: 'control', className: 'control' });
  const stateBox = el('dl', { className: 'camera-state' });
  const forms = el('div', { className: 'command-forms' });
  const snapshot = el('img', { id: 'snapshot', alt: `snapshot of ${camera}`, hidden: true });
  const log = el('ol', { id: 'command-log', className: 'command-log' });
  panel.append(el('h2', { textContent: 'Camera' }), stateBox, el('h2', { textContent: 'Commands' }), forms,
    snapshot, el('h2', { textContent: 'Results' }), log);
  container.append(panel);
  for (const spec of FORMS) forms.append(makeForm(spec));
  // The camera list may have come before this panel listened.
  renderState((relay.cameras || []).find((c) => c.id === camera)?.state || null);

  for (const type of ['welcome', 'cameras']) {
    relay.addEventListener(type, ({ detail }) => {
      const cam = (detail.cameras || []).find((c) => c.id === camera);
      renderState(cam?.state || null);
    });
  }
  relay.addEventListener('command_result', ({ detail }) => finish(detail.ref, detail.ack));

  function makeForm(spec) {
    const form = el('form', { className: 'command' });
    form.dataset.command = spec.command;
    form.append(el('span', { className: 'command-title', textContent: spec.title }));
    for (const [name, label] of spec.fields || []) {
      const input = el('input', { name, type: 'number', placeholder: label, title: label });
      input.step = '1';
      form.append(input);
    }
    if (spec.text) form.append(el('input', { name: spec.text, type: 'text', placeholder: spec.placeholder }));
    form.append(el('button', { type: 'submit', textContent: spec.button }));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      send(spec.command, paramsOf(spec, form), form);
    });
    return form;
  }

  // Only what the user typed; the camera checks the values and says what is wrong.
  function paramsOf(spec, form) {
    const params = {};
    for (const [name] of spec.fields || []) {
      const value = form.elements[name].value.trim();
      if (value !== '') params[name] = Number(value);
    }
    if (spec.text) {
      for (const pair of form.elements[spec.text].value.split(',')) {
        const [name, value] = pair.split('=').map((s) => s?.trim());
        if (name) params[name] = value === undefined || value === '' || Number.isNaN(Number(value)) ? value : Number(value);
      }
    }
    return params;
  }

  function send(command, params, form) {
    const ref = `c${++counter}`;
    const item = el('li');
    Object.assign(item.dataset, { ref, command, status: 'pending' });
    item.textContent = `${command} ${JSON.stringify(params)} …`;
    log.prepend(item);
    form.querySelector('button').disabled = true;
    const timer = setTimeout(() => finish(ref, { status: 'error', code: 'timeout', type: command,
      message: `no answer within ${TIMEOUT_MS / 1000} s` }), TIMEOUT_MS);
    pending.set(ref, { command, form, started: performance.now(), timer, item });
    relay.send({ type: 'command', ref, camera, command, params });
  }

  function finish(ref, ack) {
    const p = pending.get(ref);
    if (!p) return;
    pending.delete(ref);
    clearTimeout(p.timer);
    p.form.querySelector('button').disabled = false;
    const rttMs = Math.round(performance.now() - p.started);
    const ok = ack.status === 'ok';
    p.item.dataset.status = ok ? 'ok' : 'error';
    if (!ok) p.item.dataset.code = ack.code;
    p.item.textContent = '';
    p.item.append(
      el('span', { className: 'command-name', textContent: p.command }),
      el('span', { className: `command-status ${ok ? 'ok' : 'error'}`, textContent: ok ? 'ok' : `error: ${ack.code}` }),
      el('span', { className: 'command-rtt', textContent: `${rttMs} ms` }),
      el('span', { className: 'command-detail', textContent: ok ? JSON.stringify(ack.result ?? {})
        : `${ack.message || ''}${ack.param ? ` (parameter: ${ack.param})` : ''}` }));
    control.log.push({ ref, command: p.command, status: ok ? 'ok' : 'error', code: ack.code, ack, rttMs });
    if (ok && p.command === 'snapshot' && ack.result?.url) {
      snapshot.src = `${ack.result.url}${ack.result.url.includes('?') ? '&' : '?'}t=${Date.now()}`;
      snapshot.hidden = false;
    }
    if (ok && p.command === 'get_state') renderState(ack.result);
  }

  function renderState(s) {
    stateBox.textContent = '';
    if (!s) {
      stateBox.append(el('dd', { className: 'dim', textContent: 'no control plane state (is an MQTT broker configured?)' }));
      return;
    }
    const rows = s.online ? [
      ['state', s.pipeline], ['picture', `${s.width}×${s.height}`],
      ['fps', `${s.fps} (target ${s.fps_target})`], ['bitrate', `${s.bitrate_kbps} kbit/s (target ${s.bitrate_target_kbps})`],
      ['encoder', `${s.encoder} (${s.codec})`], ['source', s.source], ['viewers', s.viewers],
      ['uptime', `${s.uptime_s} s`], ['keyframes', s.keyframes], ['restarts', s.restarts],
      ...(s.controls || []).map((c) => [c.name, `${c.value} (${c.min}…${c.max})`]),
    ] : [['state', 'offline']];
    for (const [k, v] of rows) stateBox.append(el('dt', { textContent: k }), el('dd', { textContent: String(v) }));
    // Prefill the video form once, from what the camera does now.
    const video = forms.querySelector('form[data-command="set_video"]');
    if (s.online && !video.dataset.filled) {
      video.dataset.filled = '1';
      video.elements.width.placeholder = s.width;
      video.elements.height.placeholder = s.height;
      video.elements.fps.placeholder = s.fps_target;
      video.elements.bitrate.placeholder = s.bitrate_target_kbps;
    }
  }
}

function el(tag, props = {}) {
  return Object.assign(document.createElement(tag), props);
}
