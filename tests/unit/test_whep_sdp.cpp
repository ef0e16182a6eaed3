// WHEP's text: which offers are brokered, trickled fragments, the answer with
// the agent's candidates, the Link headers for ICE servers.
#include "http/whep_sdp.hpp"

#include <doctest/doctest.h>

using namespace sl;
using namespace sl::relay;
using namespace sl::relay::whep;

namespace {
// What Chromium offers for a recvonly video and audio transceiver (shortened).
const std::string kOffer =
    "v=0\r\n"
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 102\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Ab3x\r\n"
    "a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
    "a=mid:0\r\n"
    "a=recvonly\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtpmap:102 H264/90000\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Ab3x\r\n"
    "a=mid:1\r\n"
    "a=rtpmap:111 opus/48000/2\r\n";
}  // namespace

TEST_CASE("an offer is brokered when its video has the camera's codec") {
  auto facts = check_offer(kOffer, "H264");
  REQUIRE(facts);
  CHECK(facts->mids == std::vector<std::string>{"0", "1"});
  CHECK(facts->ice_ufrag == "Ab3x");
  CHECK(check_offer(kOffer, "vp8"));  // codec names compare without case
  CHECK(mline_of(*facts, "1") == 1);
  CHECK(mline_of(*facts, "0") == 0);
  CHECK(mline_of(*facts, "9") == 0);
}

TEST_CASE("offers that cannot be brokered say why") {
  auto reason = [](const std::string &sdp, const std::string &codec) {
    auto r = check_offer(sdp, codec);
    REQUIRE_FALSE(r);
    return r.error();
  };
  CHECK(reason("", "H264").find("v=0") != std::string::npos);
  CHECK(reason("hello", "H264").find("v=0") != std::string::npos);
  CHECK(reason("v=0\r\nthis is not sdp\r\n", "H264").find("line 2") != std::string::npos);
  CHECK(reason(std::string("v=0\r\ns=\x01\r\n"), "H264").find("control character") != std::string::npos);
  const std::string audio_only =
      "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:x\r\na=rtpmap:111 opus/48000/2\r\n";
  CHECK(reason(audio_only, "H264").find("no video") != std::string::npos);
  // The codec only in the audio section does not count.
  const std::string wrong =
      "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=ice-ufrag:x\r\na=rtpmap:96 VP9/90000\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 102\r\na=rtpmap:102 H264/90000\r\n";
  CHECK(reason(wrong, "H264").find("needs H264") != std::string::npos);
  CHECK(reason("v=0\nm=video 9 UDP/TLS/RTP/SAVPF 96\na=rtpmap:96 H264/90000\n", "H264").find("ice-ufrag") !=
        std::string::npos);
}

TEST_CASE("a trickle-ice-sdpfrag gives its credentials, candidates by mid, and the end") {
  const std::string frag =
      "a=ice-ufrag:Ab3x\r\n"
      "a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 0\r\n"
      "a=mid:0\r\n"
      "a=candidate:1 1 udp 2122260223 127.0.0.1 51000 typ host generation 0\r\n"
      "a=candidate:2 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active\r\n"
      "a=end-of-candidates\r\n";
  auto f = parse_fragment(frag);
  REQUIRE(f);
  CHECK(f->ice_ufrag == "Ab3x");
  CHECK(f->ice_pwd == "abcdefghijklmnopqrstuvwx");
  REQUIRE(f->candidates.size() == 2);
  CHECK(f->candidates[0].mid == "0");
  CHECK(f->candidates[0].candidate == "candidate:1 1 udp 2122260223 127.0.0.1 51000 typ host generation 0");
  CHECK(f->end_of_candidates);
  auto empty = parse_fragment("");
  REQUIRE(empty);
  CHECK(empty->candidates.empty());
  CHECK_FALSE(empty->end_of_candidates);
  CHECK_FALSE(parse_fragment("a=ice-ufrag:x\r\ngarbage\r\n"));
}

TEST_CASE("the answer carries the agent's candidates in their m-sections") {
  const std::string answer =
      "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 102\r\na=mid:0\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\n";
  const std::string with = answer_with_candidates(
      answer,
      {{0, "candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host"}, {1, "candidate:2 1 UDP 1 127.0.0.1 1 typ host"}},
      true);
  CHECK(with ==
        "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 102\r\na=mid:0\r\n"
        "a=candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host\r\na=end-of-candidates\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\n"
        "a=candidate:2 1 UDP 1 127.0.0.1 1 typ host\r\na=end-of-candidates\r\n");
  // Not all gathered: no end marker, and LF-only answers come out as CRLF.
  CHECK(answer_with_candidates("v=0\nm=video 9 X 1\na=mid:0\n", {{0, "candidate:c"}}, false) ==
        "v=0\r\nm=video 9 X 1\r\na=mid:0\r\na=candidate:c\r\n");
}

TEST_CASE("ICE servers become one Link header per URL, TURN with its credentials") {
  CHECK(link_headers(proto::IceServer{{"stun:198.51.100.7:3478"}, "", ""}) ==
        std::vector<std::string>{"<stun:198.51.100.7:3478>; rel=\"ice-server\""});
  const auto turn = link_headers(proto::IceServer{{"turn:198.51.100.7:3478", "turn:198.51.100.7:3478?transport=tcp"},
                                                  "1700000600:s1",
                                                  "OocqsECCiYJgFPT3a3M6TFB2/mQ="});
  REQUIRE(turn.size() == 2);
  CHECK(turn[0] ==
        "<turn:198.51.100.7:3478>; rel=\"ice-server\"; username=\"1700000600:s1\"; "
        "credential=\"OocqsECCiYJgFPT3a3M6TFB2/mQ=\"; credential-type=\"password\"");
  CHECK(turn[1].rfind("<turn:198.51.100.7:3478?transport=tcp>; rel=\"ice-server\"", 0) == 0);
}
