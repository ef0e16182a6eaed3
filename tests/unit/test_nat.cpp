// NAT traversal pieces of the relay: coturn REST credentials, per-session ICE
// servers handed to both ends, session lifetime, and the built-in STUN responder.
#include "nat/stun_responder.hpp"
#include "nat/turn.hpp"
#include "sessions/session_table.hpp"

#include <doctest/doctest.h>

using namespace sl;
using namespace sl::relay;

TEST_CASE("TURN credentials follow coturn's REST scheme") {
  // Checked with Python: base64(hmac.new(b'north', b'1800000000:s1', sha1).digest())
  const auto c = turn_credentials("north", "s1", 1800000000);
  CHECK(c.username == "1800000000:s1");
  CHECK(c.password == "OocqsECCiYJgFPT3a3M6TFB2/mQ=");
  CHECK(turn_servers({}, "north", "s1", 1).empty());
  const auto servers =
      turn_servers({"turn:198.51.100.7:3478", "turn:198.51.100.7:3478?transport=tcp"}, "north", "s1", 1800000000);
  REQUIRE(servers.size() == 1);
  CHECK(servers[0].urls.size() == 2);
  CHECK(servers[0].username == "1800000000:s1");
}

namespace {
template <typename T, typename V>
std::vector<T> of(const Actions &a, PeerId peer) {
  std::vector<T> out;
  for (const auto &s : a.sends)
    if (s.peer == peer)
      if (auto *v = std::get_if<V>(&s.message))
        if (auto *m = std::get_if<T>(v)) out.push_back(*m);
  return out;
}
}  // namespace

TEST_CASE("each session gets its own TURN credentials, the same at both ends, and ends with its lifetime") {
  int next = 0;
  std::vector<std::pair<std::string, int64_t>> minted;
  SessionTable table(
      {proto::IceServer{{"stun:198.51.100.7:3478"}, "", ""}}, 10000, Limits{16, 64, 4, 60000},
      [&] { return "s" + std::to_string(++next); },
      [&](const std::string &session, int64_t valid_for_s, int64_t not_after_s) {
        minted.emplace_back(session, valid_for_s);
        CHECK(not_after_s == 0);  // a token that never expires (insecure-dev)
        return turn_servers({"turn:198.51.100.7:3478"}, "north", session, 1800000000);
      });
  table.agent_hello(1, proto::Hello{1, "cam", {proto::CameraInfo{"cam", 640, 480, 30, "H264", "test", "x"}}});
  table.viewer_joined(10);
  auto a = table.viewer_message(10, proto::Watch{"r1", "cam", "sdp"}, 1000);
  auto started = of<proto::SessionStarted, proto::RelayToViewer>(a, 10);
  auto offers = of<proto::Offer, proto::RelayToAgent>(a, 1);
  REQUIRE(started.size() == 1);
  REQUIRE(offers.size() == 1);
  CHECK(started[0].ice_servers == offers[0].ice_servers);
  REQUIRE(started[0].ice_servers.size() == 2);  // the relay's STUN, and TURN for this session
  CHECK(started[0].ice_servers[1].username == "1800000000:s1");
  REQUIRE(minted.size() == 1);
  CHECK(minted[0] == std::pair<std::string, int64_t>{"s1", 60});

  auto b = table.viewer_message(10, proto::Watch{"r2", "cam", "sdp"}, 2000);
  CHECK(of<proto::SessionStarted, proto::RelayToViewer>(b, 10)[0].ice_servers[1].username == "1800000000:s2");

  // Answered sessions live until their lifetime, then both ends are told.
  table.agent_message(1, proto::Answer{"s1", "answer"});
  table.agent_message(1, proto::Answer{"s2", "answer"});
  CHECK(of<proto::SessionEnd, proto::RelayToViewer>(table.tick(50000), 10).empty());
  auto ended = table.tick(61500);
  auto ends = of<proto::SessionEnd, proto::RelayToViewer>(ended, 10);
  REQUIRE(ends.size() == 1);
  CHECK(ends[0].session == "s1");
  CHECK(ends[0].reason == "lifetime");
}

TEST_CASE("TURN credentials never outlive the token that asked for them") {
  // The session's lifetime when the token lasts longer, the token's expiry when it ends sooner.
  CHECK(turn_expiry_s(1000, 3600, 0) == 4600);
  CHECK(turn_expiry_s(1000, 3600, 9000) == 4600);
  CHECK(turn_expiry_s(1000, 3600, 1600) == 1600);
  CHECK(turn_expiry_s(1000, 86400, 1001) == 1001);

  // The session table hands the viewer's token expiry to the minting, for pages
  // and WHEP sessions (virtual viewers) alike.
  std::vector<int64_t> not_after;
  SessionTable table(
      {}, 10000, Limits{16, 64, 4, 0}, [] { return std::string("s"); },
      [&](const std::string &session, int64_t valid_for_s, int64_t not_after_s) {
        CHECK(valid_for_s == 24 * 3600);  // no session lifetime set: a day
        not_after.push_back(not_after_s);
        return turn_servers({"turn:198.51.100.7:3478"}, "north", session,
                            turn_expiry_s(1'700'000'000, valid_for_s, not_after_s));
      });
  table.agent_hello(1, proto::Hello{1, "cam", {proto::CameraInfo{"cam", 640, 480, 30, "H264", "test", "x"}}});
  table.viewer_joined(10, {}, "page", auth::Role::Viewer, 1'700'000'600);
  auto a = table.viewer_message(10, proto::Watch{"r1", "cam", "sdp"}, 1000);
  auto started = of<proto::SessionStarted, proto::RelayToViewer>(a, 10);
  REQUIRE(started.size() == 1);
  REQUIRE(started[0].ice_servers.size() == 1);
  CHECK(started[0].ice_servers[0].username == "1700000600:s");  // the token's expiry, not a day
  table.viewer_joined(11, {}, "whep", auth::Role::Viewer, 1'700'000'060, SessionTable::ViewerKind::Whep);
  auto b = table.viewer_message(11, proto::Watch{"whep", "cam", "sdp"}, 1000);
  REQUIRE(of<proto::SessionStarted, proto::RelayToViewer>(b, 11).size() == 1);
  CHECK(of<proto::SessionStarted, proto::RelayToViewer>(b, 11)[0].ice_servers[0].username == "1700000060:s");
  CHECK(not_after == std::vector<int64_t>{1'700'000'600, 1'700'000'060});
}

TEST_CASE("a viewer that does not list (a WHEP session) gets no camera list nor totals") {
  SessionTable table({}, 10000, Limits{}, [] { return std::string("s1"); });
  table.agent_hello(1, proto::Hello{1, "cam", {proto::CameraInfo{"cam", 640, 480, 30, "H264", "test", "x"}}});
  CHECK(table.viewer_joined(11, {}, "whep", auth::Role::Viewer, 0, SessionTable::ViewerKind::Whep).sends.empty());
  CHECK(table.subscription_count() == 0);
  CHECK(table.viewer_count() == 0);  // pages only
  table.viewer_joined(12);
  CHECK(table.viewer_count() == 1);
  auto a = table.viewer_message(11, proto::Watch{"whep", "cam", "sdp"}, 1000);
  REQUIRE(of<proto::SessionStarted, proto::RelayToViewer>(a, 11).size() == 1);
  auto t = table.tick(2000);
  CHECK(of<proto::TotalsUpdate, proto::RelayToViewer>(t, 11).empty());
  CHECK(of<proto::CameraUpdate, proto::RelayToViewer>(t, 11).empty());
  REQUIRE(table.camera("cam"));
  CHECK(table.camera("cam")->viewers == 1);
  CHECK(table.camera("nope") == nullptr);
  table.viewer_gone(11);
  table.viewer_gone(12);
  CHECK(table.viewer_count() == 0);
  CHECK(table.camera("cam")->viewers == 0);
}

TEST_CASE("a viewer may have only a few unanswered sessions at once") {
  int next = 0;
  SessionTable table({}, 10000, Limits{16, 64, 2, 0}, [&] { return "s" + std::to_string(++next); });
  table.agent_hello(1, proto::Hello{1, "cam", {proto::CameraInfo{"cam", 640, 480, 30, "H264", "test", "x"}}});
  table.viewer_joined(10);
  table.viewer_message(10, proto::Watch{"r1", "cam", "sdp"}, 0);
  table.viewer_message(10, proto::Watch{"r2", "cam", "sdp"}, 0);
  auto third = table.viewer_message(10, proto::Watch{"r3", "cam", "sdp"}, 0);
  auto errors = of<proto::Error, proto::RelayToViewer>(third, 10);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code == "too_many_pending");  // a matter of time: the page asks again
  CHECK(errors[0].ref == "r3");
}

TEST_CASE("sessions per client count across all of its sockets") {
  int next = 0;
  SessionTable table({}, 10000, Limits{16, 64, 16, 0, 3}, [&] { return "s" + std::to_string(++next); });
  table.agent_hello(1, proto::Hello{1, "cam", {proto::CameraInfo{"cam", 640, 480, 30, "H264", "test", "x"}}});
  table.viewer_joined(10, {}, "198.51.100.20");
  table.viewer_joined(11, {}, "198.51.100.20");
  table.viewer_joined(12, {}, "198.51.100.99");
  table.viewer_message(10, proto::Watch{"a", "cam", "sdp"}, 0);
  table.viewer_message(10, proto::Watch{"b", "cam", "sdp"}, 0);
  table.viewer_message(11, proto::Watch{"c", "cam", "sdp"}, 0);
  auto fourth = table.viewer_message(11, proto::Watch{"d", "cam", "sdp"}, 0);
  auto errors = of<proto::Error, proto::RelayToViewer>(fourth, 11);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code == "too_many_sessions");
  // Another client is not affected; a client that leaves frees its share.
  CHECK(
      of<proto::SessionStarted, proto::RelayToViewer>(table.viewer_message(12, proto::Watch{"e", "cam", "sdp"}, 0), 12)
          .size() == 1);
  table.viewer_gone(10);
  CHECK(
      of<proto::SessionStarted, proto::RelayToViewer>(table.viewer_message(11, proto::Watch{"f", "cam", "sdp"}, 0), 11)
          .size() == 1);
}

TEST_CASE("the STUN responder answers a Binding request with the XOR-mapped source") {
  // A Binding request: type, length 0, magic cookie, transaction id 1..12.
  std::string request = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, (char)0xA4, 0x42};
  for (char i = 1; i <= 12; ++i) request += i;
  auto from = adopt(G_INET_SOCKET_ADDRESS(g_inet_socket_address_new_from_string("203.0.113.9", 40000)));
  auto reply = stun_binding_response(request, from.get());
  REQUIRE(reply);
  const auto &r = *reply;
  auto u16 = [&](size_t at) { return (uint8_t(r[at]) << 8) | uint8_t(r[at + 1]); };
  CHECK(u16(0) == 0x0101);
  CHECK(size_t(u16(2)) + 20 == r.size());
  CHECK(r.substr(4, 16) == request.substr(4, 16));
  CHECK(u16(20) == 0x0020);    // XOR-MAPPED-ADDRESS first
  CHECK(uint8_t(r[25]) == 1);  // IPv4
  CHECK((u16(26) ^ 0x2112) == 40000);
  CHECK((uint8_t(r[28]) ^ 0x21) == 203);
  CHECK((uint8_t(r[29]) ^ 0x12) == 0);
  CHECK((uint8_t(r[30]) ^ 0xA4) == 113);
  CHECK((uint8_t(r[31]) ^ 0x42) == 9);
  CHECK(u16(r.size() - 8) == 0x8028);  // FINGERPRINT last

  CHECK_FALSE(stun_binding_response("GET / HTTP/1.1\r\n\r\n", from.get()));

  // An RFC 3489 request (no magic cookie; libnice discovers that way): MAPPED-ADDRESS, in clear.
  std::string classic = {0x00, 0x01, 0x00, 0x00};
  for (char i = 1; i <= 16; ++i) classic += i;
  auto plain = stun_binding_response(classic, from.get());
  REQUIRE(plain);
  CHECK(plain->size() == 32);
  CHECK(plain->substr(4, 16) == classic.substr(4, 16));
  CHECK(((uint8_t((*plain)[20]) << 8) | uint8_t((*plain)[21])) == 0x0001);
  CHECK(((uint8_t((*plain)[26]) << 8) | uint8_t((*plain)[27])) == 40000);
  CHECK(uint8_t((*plain)[28]) == 203);
  CHECK(uint8_t((*plain)[31]) == 9);
  std::string response = request;
  response[1] = 0x01;  // a Binding success response, not a request
  response[0] = 0x01;
  CHECK_FALSE(stun_binding_response(response, from.get()));
  CHECK_FALSE(stun_binding_response(request.substr(0, 19), from.get()));
}
