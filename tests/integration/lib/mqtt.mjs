// A small MQTT 3.1.1 client for the tests, on node:net with no dependencies:
// connect (with will, clean or persistent session), subscribe, publish QoS 0/1,
// and every PUBLISH received kept in `messages` so that a test can wait for one.

import net from 'node:net';

const CONNECT = 1, CONNACK = 2, PUBLISH = 3, PUBACK = 4, SUBSCRIBE = 8, SUBACK = 9, PINGREQ = 12, DISCONNECT = 14;

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

const str = (s) => {
  const b = Buffer.from(s);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
};
const u16 = (n) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
const packet = (first, body) => Buffer.concat([Buffer.from([first]), varint(body.length), body]);
const asBuffer = (p) => (Buffer.isBuffer(p) ? p : Buffer.from(typeof p === 'string' ? p : JSON.stringify(p)));

class MqttClient {
  constructor(socket) {
    this.socket = socket;
    this.messages = [];
    this.buffer = Buffer.alloc(0);
    this.waiting = new Map();  // packet id -> resolve
    this.watchers = new Set(); // { predicate, resolve }
    this.nextId = 1;
    this.closed = new Promise((resolve) => socket.on('close', resolve));
    socket.on('data', (d) => this.onData(d));
    socket.on('error', () => {});
  }

  id() {
    const id = this.nextId;
    this.nextId = this.nextId >= 65535 ? 1 : this.nextId + 1;
    return id;
  }

  onData(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) return;
      let len = 0, mult = 1, i = 1, byte;
      do {
        if (i >= this.buffer.length) return;
        byte = this.buffer[i++];
        len += (byte & 0x7f) * mult;
        mult *= 128;
      } while (byte & 0x80);
      if (this.buffer.length < i + len) return;
      const first = this.buffer[0];
      const body = this.buffer.subarray(i, i + len);
      this.buffer = this.buffer.subarray(i + len);
      this.onPacket(first >> 4, first & 0x0f, body);
    }
  }

  onPacket(type, flags, body) {
    if (type === CONNACK) this.onConnack?.(body[1]);
    else if (type === PUBACK || type === SUBACK) {
      const id = body.readUInt16BE(0);
      this.waiting.get(id)?.(body.subarray(2));
      this.waiting.delete(id);
    } else if (type === PUBLISH) {
      const qos = (flags >> 1) & 3;
      const topicLen = body.readUInt16BE(0);
      const topic = body.subarray(2, 2 + topicLen).toString();
      let at = 2 + topicLen;
      if (qos > 0) {
        this.socket.write(packet(PUBACK << 4, u16(body.readUInt16BE(at))));
        at += 2;
      }
      const payload = Buffer.from(body.subarray(at));
      const msg = { topic, payload, qos, retain: Boolean(flags & 1), at: performance.now(),
        text: () => payload.toString(), json: () => JSON.parse(payload.toString()) };
      this.messages.push(msg);
      for (const w of [...this.watchers]) {
        if (w.predicate(msg)) { this.watchers.delete(w); w.resolve(msg); }
      }
    }
  }

  subscribe(filter, qos = 1) {
    const id = this.id();
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (rest) => (rest[0] === 0x80 ? reject(new Error(`subscribe ${filter} refused`)) : resolve()));
      this.socket.write(packet((SUBSCRIBE << 4) | 2, Buffer.concat([u16(id), str(filter), Buffer.from([qos])])));
    });
  }

  publish(topic, payload, { qos = 1, retain = false } = {}) {
    const data = asBuffer(payload);
    const first = (PUBLISH << 4) | (qos << 1) | (retain ? 1 : 0);
    if (qos === 0) {
      return new Promise((resolve) => this.socket.write(packet(first, Buffer.concat([str(topic), data])), resolve));
    }
    const id = this.id();
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.socket.write(packet(first, Buffer.concat([str(topic), u16(id), data])));
    });
  }

  // The first message (already received or still to come) that `predicate` accepts.
  waitFor(predicate, { timeout = 10000, what = 'a matching message' } = {}) {
    const found = this.messages.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w = { predicate, resolve: (m) => { clearTimeout(timer); resolve(m); } };
      const timer = setTimeout(() => {
        this.watchers.delete(w);
        const topics = [...new Set(this.messages.map((m) => m.topic))].join(', ');
        reject(new Error(`timed out after ${timeout} ms waiting for ${what} (topics seen: ${topics})`));
      }, timeout);
      this.watchers.add(w);
    });
  }

  async close() {
    clearInterval(this.ping);
    if (!this.socket.destroyed) this.socket.end(packet(DISCONNECT << 4, Buffer.alloc(0)));
    await this.closed;
  }

  // Drops the connection without DISCONNECT: the broker publishes the will.
  end() {
    clearInterval(this.ping);
    this.socket.destroy();
  }
}

export async function connectMqtt(port, { host = '127.0.0.1', clientId = `test-${Math.random().toString(36).slice(2, 10)}`,
  clean = true, keepalive = 30, username, password, will } = {}) {
  const socket = net.connect(port, host);
  socket.setNoDelay(true);
  const client = new MqttClient(socket);
  let flags = clean ? 0x02 : 0;
  const payload = [str(clientId)];
  if (will) {
    flags |= 0x04 | ((will.qos ?? 0) << 3) | (will.retain ? 0x20 : 0);
    payload.push(str(will.topic), u16(asBuffer(will.payload).length), asBuffer(will.payload));
  }
  if (username !== undefined) { flags |= 0x80; payload.push(str(username)); }
  if (password !== undefined) { flags |= 0x40; payload.push(str(password)); }
  const header = Buffer.concat([str('MQTT'), Buffer.from([4, flags]), u16(keepalive)]);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('MQTT connect timed out')); }, 5000);
    socket.once('error', (e) => { clearTimeout(timer); reject(e); });
    client.onConnack = (rc) => {
      clearTimeout(timer);
      if (rc === 0) resolve();
      else { socket.destroy(); reject(new Error(`MQTT connect refused, return code ${rc}`)); }
    };
    socket.once('connect', () => socket.write(packet(CONNECT << 4, Buffer.concat([header, ...payload]))));
  });
  client.ping = setInterval(() => {
    if (!socket.destroyed) socket.write(packet(PINGREQ << 4, Buffer.alloc(0)));
  }, (keepalive * 1000) / 2);
  client.ping.unref();
  return client;
}
