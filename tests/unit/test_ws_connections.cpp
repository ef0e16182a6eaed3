// WebSocket connections on the relay's epoll set, over a socketpair: what a
// client sends reaches the handlers as messages, pings are answered, closes are
// a handshake, a vanished peer is noticed, a slow reader's bytes wait in the
// connection and go once it reads, and handlers never run inside send or close.
#include "http/ws_connections.hpp"

#include <doctest/doctest.h>

#include "ws_client_frame.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

using namespace sl::relay;

namespace {

// Runs the default main context until `done` or 2 s.
template <typename F>
bool spin_until(F done) {
  const gint64 end = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
  for (;;) {
    if (done()) return true;  // asked once a round: `done` may consume what it looks at
    if (g_get_monotonic_time() >= end) return false;
    g_main_context_iteration(nullptr, FALSE);
    g_usleep(500);
  }
}

// What the client end reads, decoded from the server's unmasked frames.
struct ClientEnd {
  int fd;
  std::string bytes;
  void pump() {
    char buf[65536];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) bytes.append(buf, size_t(n));
  }
  // The next frame: opcode and payload, if whole.
  bool next(uint8_t &opcode, std::string &payload) {
    pump();
    if (bytes.size() < 2) return false;
    size_t n = uint8_t(bytes[1]) & 0x7F, header = 2;
    if (n == 126) {
      if (bytes.size() < 4) return false;
      n = (size_t(uint8_t(bytes[2])) << 8) | uint8_t(bytes[3]);
      header = 4;
    } else if (n == 127) {
      if (bytes.size() < 10) return false;
      n = 0;
      for (int i = 0; i < 8; ++i) n = (n << 8) | uint8_t(bytes[2 + i]);
      header = 10;
    }
    if (bytes.size() < header + n) return false;
    opcode = uint8_t(bytes[0]) & 0x0F;
    payload = bytes.substr(header, n);
    bytes.erase(0, header + n);
    return true;
  }
  void send(const std::string &frame) const { REQUIRE(write(fd, frame.data(), frame.size()) == ssize_t(frame.size())); }
};

struct Fixture {
  WsConnections connections;
  ClientEnd client{-1};
  WsConnection *conn = nullptr;
  std::vector<std::string> texts, refusals;
  int binaries = 0, closed = 0;
  uint16_t closed_code = 0;  // the connection's close code, read in its closed handler

  explicit Fixture(size_t max_message = 4096) {
    int fds[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    client.fd = fds[1];
    GSocket *socket = g_socket_new_from_fd(fds[0], nullptr);
    REQUIRE(socket);
    GSocketConnection *stream = g_socket_connection_factory_create_connection(socket);
    g_object_unref(socket);
    WsConnection::Handlers h;
    h.text = [this](std::string &&t) { texts.push_back(std::move(t)); };
    h.binary = [this] { ++binaries; };
    h.refused = [this](const std::string &why) { refusals.push_back(why); };
    h.closed = [this] {
      ++closed;
      closed_code = conn->close_code();
      conn = nullptr;
    };
    conn = &connections.adopt(G_IO_STREAM(stream), fds[0], max_message, std::move(h));
  }
  ~Fixture() {
    if (client.fd >= 0) close(client.fd);
  }
};

}  // namespace

TEST_CASE("messages arrive as text, and what is sent arrives as frames") {
  Fixture f;
  f.client.send(client_frame(0x81, "one") + client_frame(0x01, "tw") + client_frame(0x80, "o"));
  REQUIRE(spin_until([&] { return f.texts.size() == 2; }));
  CHECK(f.texts[0] == "one");
  CHECK(f.texts[1] == "two");
  f.client.send(client_frame(0x82, "bin"));
  REQUIRE(spin_until([&] { return f.binaries == 1; }));
  f.conn->send_text(std::string(300, 'x'));
  uint8_t op = 0;
  std::string payload;
  REQUIRE(spin_until([&] { return f.client.next(op, payload); }));
  CHECK(op == 0x1);
  CHECK(payload == std::string(300, 'x'));
  CHECK(f.closed == 0);
}

TEST_CASE("a ping gets a pong with its payload") {
  Fixture f;
  f.client.send(client_frame(0x89, "are you there"));
  uint8_t op = 0;
  std::string payload;
  REQUIRE(spin_until([&] { return f.client.next(op, payload); }));
  CHECK(op == 0xA);
  CHECK(payload == "are you there");
}

TEST_CASE("the peer's close is answered with its code, then the connection is gone") {
  Fixture f;
  f.client.send(client_frame(0x88, std::string("\x0f\xa0", 2) + "done"));  // 4000
  REQUIRE(spin_until([&] { return f.closed == 1; }));
  CHECK(f.closed_code == 4000);
  uint8_t op = 0;
  std::string payload;
  REQUIRE(f.client.next(op, payload));
  CHECK(op == 0x8);
  CHECK(payload == std::string("\x0f\xa0", 2));
  CHECK(f.connections.size() == 0);
  // The socket is closed: the client reads its end.
  char c;
  CHECK(recv(f.client.fd, &c, 1, 0) == 0);
}

TEST_CASE("our close waits for the peer's answer, and handlers never run inside close") {
  Fixture f;
  WsConnection &conn = *f.conn;
  conn.close(4001, "policy");
  CHECK(f.closed == 0);
  CHECK(conn.state() == WsConnection::State::Closing);
  conn.send_text("ignored once closing");
  uint8_t op = 0;
  std::string payload;
  REQUIRE(spin_until([&] { return f.client.next(op, payload); }));
  CHECK(op == 0x8);
  CHECK(payload == std::string("\x0f\xa1policy", 8));
  CHECK_FALSE(f.client.next(op, payload));  // nothing after the close
  f.client.send(client_frame(0x88, std::string("\x0f\xa1", 2)));
  REQUIRE(spin_until([&] { return f.closed == 1; }));
}

TEST_CASE("a peer that vanishes is noticed, with code 1006") {
  Fixture f;
  shutdown(f.client.fd, SHUT_RDWR);
  REQUIRE(spin_until([&] { return f.closed == 1; }));
  CHECK(f.closed_code == 1006);
  CHECK(f.connections.size() == 0);
}

TEST_CASE("an oversized message is refused with 1009 and the connection closed") {
  Fixture f(100);
  f.client.send(client_frame(0x81, std::string(200, 'a')));
  REQUIRE(spin_until([&] { return !f.refusals.empty(); }));
  CHECK(f.refusals[0].find("limit is 100") != std::string::npos);
  CHECK(f.texts.empty());
  uint8_t op = 0;
  std::string payload;
  REQUIRE(spin_until([&] { return f.client.next(op, payload); }));
  CHECK(op == 0x8);
  CHECK(payload.substr(0, 2) == std::string("\x03\xf1", 2));  // 1009
  REQUIRE(spin_until([&] { return f.closed == 1; }));
}

TEST_CASE("a reader that does not keep up: bytes wait in the connection and go when it reads") {
  Fixture f(1 << 20);
  const std::string chunk(60000, 'q');
  for (int i = 0; i < 40; ++i) f.conn->send_text(chunk);  // 2.4 MB, more than the socket holds
  const size_t waiting = f.conn->queued();
  CHECK(waiting > 1000000);
  int frames = 0;
  uint8_t op = 0;
  std::string payload;
  REQUIRE(spin_until([&] {
    while (f.client.next(op, payload)) {
      CHECK(payload.size() == chunk.size());
      ++frames;
    }
    return frames == 40;
  }));
  REQUIRE(spin_until([&] { return f.conn->queued() == 0; }));
  CHECK(f.closed == 0);
}

TEST_CASE("a write that fails finishes the connection on the next pass, not inside send") {
  Fixture f;
  close(f.client.fd);
  f.client.fd = -1;
  f.conn->send_text("to nobody");
  f.conn->send_text("again");
  CHECK(f.closed == 0);
  REQUIRE(spin_until([&] { return f.closed == 1; }));
  CHECK(f.closed_code == 1006);
}
