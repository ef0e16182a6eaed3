// A small MQTT 3.1.1 client for the tests, on node:net with no dependencies:
// connect (with will, clean or persistent session), subscribe, publish QoS 0/1,
// and every PUBLISH received kept in `messages` so that a test can wait for one.
// Proved against a real mosquitto by mqtt.selftest.mjs.

import net from 'node:net';

const CONNECT = 1, CONNACK = 2, PUBLISH = 3, PUBACK = 4, SUBSCRIBE = 8, SUBACK = 9,
  PINGREQ = 12, DISCONNECT = 14;

const CONNACK_CODES = {
  1: 'unacceptable protocol version', 2: 'identifier rejected', 3: 'server unavailable',
  4: 'bad user name or password', 5: 'not authorized',
};

// Remaining length: 7 bits a byte, least significant first, high bit = more.
function varint(n) {
  const out = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

const u16 = (n) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
const bytes = (b) => Buffer.concat([u16(b.length), b]);   // length-prefixed binary
const str = (s) => bytes(Buffer.from(s));                  // length-prefixed UTF-8
const packet = (first, body = Buffer.alloc(0)) => Buffer.concat([Buffer.from([first]), varint(body.length), body]);
const asBuffer = (p) => (Buffer.isBuffer(p) ? p : Buffer.from(typeof p === 'string' ? p : JSON.stringify(p)));

class MqttClient {
  constructor(socket) {
    this.socket = socket;
    this.messages = [];
    this.buffer = Buffer.alloc(0);
    this.pending = new Map();   // packet id -> { resolve(bodyAfterId), reject(err) }
    this.watchers = new Set();  // waitFor calls still waiting: { predicate, resolve }
    this.nextId = 1;
    this.ping = null;
    this.onConnack = null;
    this.closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', () => {});  // the 'close' that follows is what matters
    socket.once('close', () => {
      clearInterval(this.ping);
      const err = new Error('MQTT connection closed');
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  newId() {
    const id = this.nextId;
    this.nextId = this.nextId >= 65535 ? 1 : this.nextId + 1;
    return id;
  }

  // Splits the byte stream into packets, however TCP chunked it.
  onData(chunk) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      let len = 0, mult = 1, i = 1, byte;
      do {
        if (i >= this.buffer.length) return;  // length not complete yet
        if (i > 4) { this.socket.destroy(new Error('MQTT: bad remaining length')); return; }
        byte = this.buffer[i++];
        len += (byte & 0x7f) * mult;
        mult *= 128;
      } while (byte & 0x80);
      if (this.buffer.length < i + len) return;  // body not complete yet
      const first = this.buffer[0];
      const body = this.buffer.subarray(i, i + len);
      this.buffer = this.buffer.subarray(i + len);
      this.onPacket(first >> 4, first & 0x0f, body);
    }
  }

  onPacket(type, flags, body) {
    if (type === CONNACK) {
      this.onConnack?.(body[1]);
    } else if (type === PUBACK || type === SUBACK) {
      const id = body.readUInt16BE(0);
      const p = this.pending.get(id);
      this.pending.delete(id);
      p?.resolve(body.subarray(2));
    } else if (type === PUBLISH) {
      const qos = (flags >> 1) & 3;
      const topicLen = body.readUInt16BE(0);
      const topic = body.subarray(2, 2 + topicLen).toString();
      let at = 2 + topicLen;
      if (qos > 0) {
        this.socket.write(packet(PUBACK << 4, u16(body.readUInt16BE(at))));
        at += 2;
      }
      const payload = Buffer.from(body.subarray(at));  // a copy, not a view of the read buffer
      const msg = {
        topic, payload, qos, retain: Boolean(flags & 1), at: performance.now(),
        text: () => payload.toString(), json: () => JSON.parse(payload.toString()),
      };
      this.messages.push(msg);
      for (const w of [...this.watchers]) {
        if (matches(w.predicate, msg)) { this.watchers.delete(w); w.resolve(msg); }
      }
    }
    // PINGRESP and anything else: nothing to do.
  }

  // Resolves on SUBACK; rejects if the broker refused the filter (0x80).
  subscribe(filter, qos = 1) {
    const id = this.newId();
    return new Promise((resolve, reject) => {
      this.pending.set(id, {
        resolve: (rest) => (rest[0] === 0x80 ? reject(new Error(`MQTT subscribe to ${filter} refused`)) : resolve(rest[0])),
        reject,
      });
      this.socket.write(packet((SUBSCRIBE << 4) | 2, Buffer.concat([u16(id), str(filter), Buffer.from([qos])])));
    });
  }

  // payload: string, Buffer, or anything else (sent as JSON). QoS 1 resolves on PUBACK, QoS 0 once written.
  publish(topic, payload, { qos = 1, retain = false } = {}) {
    const data = asBuffer(payload);
    const first = (PUBLISH << 4) | (qos << 1) | (retain ? 1 : 0);
    if (qos === 0) {
      return new Promise((resolve, reject) =>
        this.socket.write(packet(first, Buffer.concat([str(topic), data])), (err) => (err ? reject(err) : resolve())));
    }
    const id = this.newId();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: () => resolve(), reject });
      this.socket.write(packet(first, Buffer.concat([str(topic), u16(id), data])));
    });
  }

  // The first message (already received or still to come) that `predicate` accepts.
  // `what` only makes the timeout error readable.
  waitFor(predicate, { timeout = 10000, what = `a message matching ${predicate}` } = {}) {
    const found = this.messages.find((m) => matches(predicate, m));
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w = { predicate, resolve: (m) => { clearTimeout(timer); resolve(m); } };
      const timer = setTimeout(() => {
        this.watchers.delete(w);
        const topics = [...new Set(this.messages.map((m) => m.topic))].join(', ') || 'none';
        const state = this.socket.destroyed ? ', connection closed' : '';
        reject(new Error(`MQTT: timed out after ${timeout} ms waiting for ${what} ` +
          `(${this.messages.length} messages seen, topics: ${topics}${state})`));
      }, timeout);
      this.watchers.add(w);
    });
  }

  // A clean goodbye: DISCONNECT (so no will), then the socket ends.
  async close() {
    clearInterval(this.ping);
    if (!this.socket.destroyed) this.socket.end(packet(DISCONNECT << 4));
    await this.closed;
  }

  // Drops the connection without DISCONNECT: the broker publishes the will.
  end() {
    clearInterval(this.ping);
    this.socket.destroy();
  }
}

// A predicate that throws (say m.json() on a non-JSON payload) just does not match.
function matches(predicate, msg) {
  try { return Boolean(predicate(msg)); } catch { return false; }
}

export async function connectMqtt(port, {
  host = '127.0.0.1', clientId = `test-${Math.random().toString(36).slice(2, 10)}`,
  clean = true, keepalive = 30, username, password, will,
} = {}) {
  let flags = clean ? 0x02 : 0;
  const payload = [str(clientId)];
  if (will) {
    flags |= 0x04 | ((will.qos ?? 0) << 3) | (will.retain ? 0x20 : 0);
    payload.push(str(will.topic), bytes(asBuffer(will.payload ?? '')));
  }
  if (username !== undefined) { flags |= 0x80; payload.push(str(username)); }
  if (password !== undefined) { flags |= 0x40; payload.push(bytes(asBuffer(password))); }
  const header = Buffer.concat([str('MQTT'), Buffer.from([4, flags]), u16(keepalive)]);

  const socket = net.connect(port, host);
  socket.setNoDelay(true);
  const client = new MqttClient(socket);
  const where = `${host}:${port}`;
  await new Promise((resolve, reject) => {
    const fail = (err) => { clearTimeout(timer); socket.destroy(); reject(err); };
    const timer = setTimeout(() => fail(new Error(`MQTT connect to ${where} timed out after 5 s`)), 5000);
    socket.once('error', (e) => fail(new Error(`MQTT connect to ${where} failed: ${e.message}`)));
    socket.once('close', () => fail(new Error(`MQTT connection to ${where} closed before CONNACK`)));
    client.onConnack = (rc) => {
      if (rc === 0) { clearTimeout(timer); resolve(); return; }
      fail(new Error(`MQTT connect to ${where} refused: return code ${rc} (${CONNACK_CODES[rc] ?? 'unknown'})`));
    };
    socket.once('connect', () => socket.write(packet(CONNECT << 4, Buffer.concat([header, ...payload]))));
  });
  client.onConnack = null;

  if (keepalive > 0) {
    client.ping = setInterval(() => {
      if (!socket.destroyed) socket.write(packet(PINGREQ << 4));
    }, (keepalive * 1000) / 2);
    client.ping.unref();
  }
  return client;
}
