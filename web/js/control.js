// The control panel of `/view/<id>`: the camera's published state, one form per
// command, and the answer to every command (success and error alike), sent
// through the relay's WebSocket ({type:'command'} -> {type:'command_result'},
// docs/protocol.md, docs/control.md).
// Hooks for tests: form[data-command], #command-log li[data-status][data-code],
// #snapshot, window.sightline.control.log.

import { withToken } from './auth.js';

const TIMEOUT_MS = 15000;  // the relay answers `timeout` itself well before this
const LOG_ITEMS = 200;     // shown; window.sightline.control.log keeps everything

const FORMS = [
  { command: 'set_video', title: 'Video', button: 'Apply',
    numbers: [['width', 'width'], ['height', 'height'], ['fps', 'fps'], ['bitrate', 'kbit/s']] },
  { command: 'force_keyframe', title: 'Keyframe', button: 'Force keyframe' },
  { command: 'snapshot', title: 'Snapshot', button: 'Take snapshot' },
  { command: 'restart_pipeline', title: 'Pipeline', button: 'Restart pipeline' },
  { command: 'get_state', title: 'State', button: 'Refresh state' },
  { command: 'set_controls', title: 'Controls', button: 'Set', text: 'controls',
    placeholder: 'brightness=10, contrast=5' },
];

const LABELS = { fps: 'fps now / target', bitrate: 'kbit/s now / target / configured' };

export function startControlPanel({ relay, camera, container }) {
  const control = { log: [] };
  if (window.sightline) window.sightline.control = control;
  else window.sightline = { control };
  const pending = new Map();  // ref -> { command, form, started, timer, item }
  let counter = 0;

  const stateBox = el('dl', { className: 'camera-state' });
  const forms = el('div', { className: 'command-forms' });
  const ranges = el('p', { className: 'control-ranges', hidden: true });
  const snapshot = el('img', { id: 'snapshot', alt: `snapshot of ${camera}`, hidden: true });
  const log = el('ol', { id: 'command-log', className: 'command-log' });
  for (const spec of FORMS) forms.append(makeForm(spec));
  container.append(el('h2', { textContent: 'Camera' }), stateBox,
    el('h2', { textContent: 'Commands' }), forms, ranges, snapshot,
    el('h2', { textContent: 'Results' }), log);

  // Normally the first 'welcome' comes after this point; the relay's copy covers a late start.
  // The page subscribes to this camera (js/app.js): the answer ('cameras') says
  // what the relay knows of it, 'camera_update' when that changes. A welcome's
  // first page of the list, or an update about others, says nothing about it.
  renderState(stateOf(relay.cameras));
  relay.addEventListener('cameras', () => renderState(stateOf(relay.cameras)));
  for (const type of ['welcome', 'camera_update']) {
    relay.addEventListener(type, ({ detail }) => {
      if ((detail.cameras || []).some((c) => c.id === camera)) renderState(stateOf(relay.cameras));
    });
  }
  relay.addEventListener('command_result', ({ detail }) => finish(detail.ref, detail.ack
    || { status: 'error', code: 'bad_message', message: 'command_result without an ack' }));

  // `cameras`: the relay connection's latest entries (a Map by id), or a list.
  function stateOf(cameras) {
    const entry = cameras instanceof Map ? cameras.get(camera) : (cameras || []).find((c) => c.id === camera);
    return entry?.state || null;
  }

  function makeForm(spec) {
    const form = el('form', { className: 'command', noValidate: true });  // the camera validates
    form.dataset.command = spec.command;
    form.append(el('span', { className: 'command-title', textContent: spec.title }));
    for (const [name, label] of spec.numbers || []) {
      const field = el('label', { className: 'field' });
      field.append(el('span', { textContent: label }), el('input', { name, type: 'number', step: 'any' }));
      form.append(field);
    }
    if (spec.text) {
      const field = el('label', { className: 'field' });
      field.append(el('span', { className: 'visually-hidden', textContent: `${spec.title}: name=value, name=value` }),
        el('input', { name: spec.text, type: 'text', placeholder: spec.placeholder, title: 'name=value, name=value' }));
      form.append(field);
    }
    form.append(el('button', { type: 'submit', textContent: spec.button }));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!form.querySelector('button').disabled) send(spec.command, paramsOf(spec, form), form);
    });
    return form;
  }

  function send(command, params, form) {
    const ref = `c${++counter}`;
    const item = el('li');
    Object.assign(item.dataset, { ref, command, status: 'pending' });
    item.append(
      el('span', { className: 'command-name', textContent: command }),
      el('span', { className: 'command-status', textContent: 'pending' }),
      el('span', { className: 'command-rtt', textContent: '…' }),
      el('span', { className: 'command-detail', textContent: JSON.stringify(params) }));
    log.prepend(item);
    while (log.children.length > LOG_ITEMS) log.lastElementChild.remove();
    form.querySelector('button').disabled = true;
    // A lost socket or relay never answers: give up, so the form is usable again.
    const timer = setTimeout(() => finish(ref, { type: command, status: 'error', code: 'timeout',
      message: `no answer within ${TIMEOUT_MS / 1000} s (page)` }), TIMEOUT_MS);
    pending.set(ref, { command, form, started: performance.now(), timer, item });
    relay.send({ type: 'command', ref, camera, command, params });
  }

  function finish(ref, ack) {
    const p = pending.get(ref);
    if (!p) return;  // not ours, or already timed out
    const rttMs = Math.round(performance.now() - p.started);
    pending.delete(ref);
    clearTimeout(p.timer);
    p.form.querySelector('button').disabled = false;
    const status = ack.status === 'ok' ? 'ok' : 'error';
    const code = status === 'error' ? ack.code || 'error' : null;
    p.item.dataset.status = status;
    if (code) p.item.dataset.code = code;
    const [, statusText, rttText, detailText] = p.item.children;
    statusText.textContent = code ? `error: ${code}` : 'ok';
    statusText.className = `command-status ${status}`;
    rttText.textContent = `${rttMs} ms`;
    detailText.textContent = code ? errorText(ack) : JSON.stringify(ack.result ?? {});
    control.log.push({ ref, command: p.command, status, code, ack, rttMs });
    if (code) return;
    if (p.command === 'snapshot' && ack.result?.url) showSnapshot(ack.result);
    if (p.command === 'get_state') renderState(ack.result);
  }

  function showSnapshot({ url, width, height, bytes, taken_at: takenAt }) {
    // The url names the latest snapshot; the query part makes the browser fetch this one.
    snapshot.src = withToken(`${url}${url.includes('?') ? '&' : '?'}t=${Date.now()}`);
    snapshot.title = `${width}×${height}, ${Math.round(bytes / 1024)} KiB`
      + (takenAt ? `, taken ${new Date(takenAt).toLocaleTimeString()}` : '');
    snapshot.hidden = false;
  }

  function renderState(s) {
    stateBox.textContent = '';
    stateBox.dataset.online = s ? String(!!s.online) : 'unknown';
    if (!s) {
      stateBox.append(el('dd', { className: 'dim', textContent: 'no control plane state (no MQTT broker configured, or the camera never published)' }));
      showRanges([]);
      return;
    }
    const rows = s.online ? [
      ['pipeline', s.pipeline],
      ['resolution', `${s.width}×${s.height}`],
      ['fps', `${round1(s.fps)} / ${s.fps_target}`],
      // target: what the encoder is asked for (under the configured one while adapting);
      // an older agent's state has only the configured one (bitrate_target_kbps).
      ['bitrate', `${s.bitrate_kbps} / ${s.target_kbps || s.bitrate_target_kbps} / ${s.configured_kbps || s.bitrate_target_kbps}`],
      // The camera's second, lower encoding for viewers on thin paths, while one is live.
      ...(s.lower_kbps ? [['lower encoding',
        `${s.lower_width}×${s.lower_height} at ${s.lower_kbps} kbit/s, ${s.lower_viewers} viewer(s)`]] : []),
      ['encoder', s.codec ? `${s.encoder} (${s.codec})` : s.encoder],
      ['source', s.source],
      ['viewers', s.viewers],
      ['uptime', duration(s.uptime_s)],
      ['keyframes', s.keyframes],
      ['restarts', s.restarts],
      ['updated', s.updated_at ? new Date(s.updated_at).toLocaleTimeString() : undefined],
    ] : [['pipeline', 'offline']];
    for (const [name, value] of rows) {
      const dd = el('dd', { textContent: value ?? '–' });
      dd.dataset.field = name;
      const pair = el('div');  // keeps name and value together in the grid
      pair.append(el('dt', { textContent: LABELS[name] || name }), dd);
      stateBox.append(pair);
    }
    if (s.online) stateBox.querySelector('dd[data-field="pipeline"]').dataset.pipeline = s.pipeline;
    showRanges(s.online ? s.controls || [] : []);
    hintVideo(s);
  }

  // What the camera does now, as placeholders: a field left empty is not sent.
  function hintVideo(s) {
    if (!s.online) return;
    const f = forms.querySelector('form[data-command="set_video"]').elements;
    f.width.placeholder = s.width ?? '';
    f.height.placeholder = s.height ?? '';
    f.fps.placeholder = s.fps_target ?? '';
    f.bitrate.placeholder = s.bitrate_target_kbps ?? '';
  }

  function showRanges(controls) {
    ranges.hidden = controls.length === 0;
    ranges.textContent = controls.length ? `Controls: ${controls.map((c) =>
      `${c.name} = ${c.value} (${c.min}…${c.max}${c.step > 1 ? `, step ${c.step}` : ''})`).join(' · ')}` : '';
  }
}

// Only what the user typed, numbers as numbers; anything else goes as typed and
// the camera says what is wrong with it.
function paramsOf(spec, form) {
  const params = {};
  for (const [name] of spec.numbers || []) {
    const value = form.elements[name].value.trim();
    if (value !== '') params[name] = Number(value);
  }
  if (spec.text) {
    for (const pair of form.elements[spec.text].value.split(',')) {
      if (!pair.trim()) continue;
      const at = pair.indexOf('=');
      const name = (at < 0 ? pair : pair.slice(0, at)).trim();
      const value = at < 0 ? '' : pair.slice(at + 1).trim();
      params[name] = value !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
    }
  }
  return params;
}

function errorText(ack) {
  return [ack.message, ack.param && `(parameter: ${ack.param})`].filter(Boolean).join(' ');
}

function duration(s) {
  if (typeof s !== 'number') return undefined;
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

function round1(x) {
  return typeof x === 'number' ? Math.round(x * 10) / 10 : x;
}

function el(tag, props = {}) {
  return Object.assign(document.createElement(tag), props);
}
