// The relay's WebSocket framing: a client's frames into messages (masks,
// lengths, fragments, control frames, limits), and the relay's own frames.
#include "http/ws_frames.hpp"

#include <doctest/doctest.h>

#include "ws_client_frame.hpp"

#include <string>

using namespace sl::relay::ws;

namespace {

std::optional<Event> one(Decoder &d, const std::string &bytes) {
  d.feed(bytes.data(), bytes.size());
  return d.next();
}

}  // namespace

TEST_CASE("a masked text frame is one message, whatever the reads it arrives in") {
  const std::string frame = client_frame(0x81, R"({"type":"status"})");
  Decoder d(1024);
  for (size_t i = 0; i + 1 < frame.size(); ++i) {
    d.feed(&frame[i], 1);
    CHECK_FALSE(d.next());
  }
  d.feed(&frame.back(), 1);
  auto e = d.next();
  REQUIRE(e);
  CHECK(e->kind == Event::Kind::Text);
  CHECK(e->data == R"({"type":"status"})");
  CHECK(d.held() == 0);
}

TEST_CASE("16-bit and 64-bit lengths, and several frames in one read") {
  const std::string mid(300, 'a'), big(70000, 'b');
  Decoder d(100000);
  d.feed(client_frame(0x81, mid).data(), client_frame(0x81, mid).size());
  const std::string two = client_frame(0x81, big) + client_frame(0x81, "x");
  d.feed(two.data(), two.size());
  auto a = d.next(), b = d.next(), c = d.next();
  REQUIRE((a && b && c));
  CHECK(a->data == mid);
  CHECK(b->data == big);
  CHECK(c->data == "x");
  CHECK_FALSE(d.next());
}

TEST_CASE("fragments are joined, and a ping between them is answered on its own") {
  Decoder d(1024);
  const std::string bytes = client_frame(0x01, "hel") + client_frame(0x89, "p") + client_frame(0x80, "lo");
  d.feed(bytes.data(), bytes.size());
  auto ping = d.next();
  REQUIRE(ping);
  CHECK(ping->kind == Event::Kind::Ping);
  CHECK(ping->data == "p");
  auto text = d.next();
  REQUIRE(text);
  CHECK(text->kind == Event::Kind::Text);
  CHECK(text->data == "hello");
}

TEST_CASE("a close frame gives the peer's code and reason, and ends the decoding") {
  Decoder d(1024);
  auto e = one(d, client_frame(0x88, std::string("\x03\xe8", 2) + "bye") + client_frame(0x81, "late"));
  REQUIRE(e);
  CHECK(e->kind == Event::Kind::Close);
  CHECK(e->code == 1000);
  CHECK(e->data == "bye");
  CHECK_FALSE(d.next());
  Decoder empty(1024);
  auto none = one(empty, client_frame(0x88, ""));
  REQUIRE(none);
  CHECK(none->code == kNoStatus);
}

TEST_CASE("what breaks the protocol is an error with the code to close with") {
  struct Case {
    const char *what;
    std::string bytes;
    uint16_t code;
  };
  const Case cases[] = {
      {"unmasked", client_frame(0x81, "x", false), kProtocolError},
      {"reserved bits", client_frame(0xC1, "x"), kProtocolError},
      {"unknown data opcode", client_frame(0x83, "x"), kProtocolError},
      {"unknown control opcode", client_frame(0x8B, "x"), kProtocolError},
      {"fragmented ping", client_frame(0x09, "x"), kProtocolError},
      {"long ping", client_frame(0x89, std::string(126, 'p')), kProtocolError},
      {"continuation first", client_frame(0x80, "x"), kProtocolError},
      {"new message mid-way", client_frame(0x01, "a") + client_frame(0x81, "b"), kProtocolError},
      {"close of one byte", client_frame(0x88, "\x03"), kProtocolError},
      {"close code 999", client_frame(0x88, std::string("\x03\xe7", 2)), kProtocolError},
      {"close code 1005 sent", client_frame(0x88, std::string("\x03\xed", 2)), kProtocolError},
      {"text not UTF-8", client_frame(0x81, "\xff\xfe"), kBadData},
  };
  for (const auto &c : cases) {
    CAPTURE(c.what);
    Decoder d(1024);
    auto e = one(d, c.bytes);
    REQUIRE(e);
    CHECK(e->kind == Event::Kind::Error);
    CHECK(e->code == c.code);
    CHECK_FALSE(e->data.empty());
    CHECK_FALSE(d.next());
  }
}

TEST_CASE("an oversized message is refused from its header, before its payload is held") {
  Decoder d(1000);
  std::string header = client_frame(0x81, std::string(5000, 'z')).substr(0, 8);  // header and mask only
  auto e = one(d, header);
  REQUIRE(e);
  CHECK(e->kind == Event::Kind::Error);
  CHECK(e->code == kTooBig);
  CHECK(e->data.find("limit is 1000") != std::string::npos);
  CHECK(d.held() == 0);
  // Fragments count together.
  Decoder f(1000);
  auto frag = one(f, client_frame(0x01, std::string(600, 'a')) + client_frame(0x80, std::string(600, 'a')));
  REQUIRE(frag);
  CHECK(frag->code == kTooBig);
  // A message at the limit passes.
  Decoder at(1000);
  auto ok = one(at, client_frame(0x81, std::string(1000, 'a')));
  REQUIRE(ok);
  CHECK(ok->kind == Event::Kind::Text);
}

TEST_CASE("a binary message is reported as binary") {
  Decoder d(1024);
  auto e = one(d, client_frame(0x82, std::string("\x00\x01", 2)));
  REQUIRE(e);
  CHECK(e->kind == Event::Kind::Binary);
}

TEST_CASE("the relay's frames are unmasked with the shortest length") {
  CHECK(encode(Opcode::Text, "hi") == std::string("\x81\x02hi", 4));
  const std::string mid = encode(Opcode::Text, std::string(300, 'a'));
  CHECK(mid.substr(0, 4) == std::string("\x81\x7e\x01\x2c", 4));
  CHECK(mid.size() == 304);
  const std::string big = encode(Opcode::Binary, std::string(70000, 'a'));
  CHECK(big.substr(0, 10) == std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10));
  CHECK(encode(Opcode::Close, close_payload(1008, "message flood")) ==
        std::string("\x88\x0f\x03\xf0message flood", 17));
}

TEST_CASE("a close reason is cut to a control frame's size at a character's start") {
  std::string reason;
  for (int i = 0; i < 100; ++i) reason += "é";  // two bytes each
  const std::string payload = close_payload(1001, reason);
  CHECK(payload.size() <= 125);
  CHECK(payload.size() == 2 + 122);
  Decoder d(1024);
  auto e = one(d, client_frame(0x88, payload));
  REQUIRE(e);
  CHECK(e->kind == Event::Kind::Close);
  CHECK(e->code == 1001);
}
