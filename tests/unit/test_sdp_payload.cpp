// Payload type choice from a browser's offer.
#include "viewers/sdp_payload.hpp"

#include <doctest/doctest.h>

using namespace sl::agent;

namespace {
// Trimmed from a Chromium recvonly offer.
const std::string kOffer =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 106 108\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\n"
    "a=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
    "a=rtpmap:102 H264/90000\r\na=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"
    "a=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n"
    "a=rtpmap:104 H264/90000\r\na=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f\r\n"
    "a=rtpmap:106 H264/90000\r\na=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:108 H264/90000\r\na=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640032\r\n";

PayloadChoice chosen(const sl::Result<PayloadChoice> &v) {
  if (!v) FAIL(v.error());
  return *v;
}
}  // namespace

TEST_CASE("constrained baseline with packetization-mode 1 is chosen over plain baseline and mode 0") {
  auto c = chosen(choose_payload(kOffer, Codec::H264));
  CHECK(c.pt == 106);
  CHECK(c.mline == 0);
  CHECK(c.rtp_caps.find("payload=106") != std::string::npos);
  CHECK(c.rtp_caps.find("packetization-mode=(string)1") != std::string::npos);
}

TEST_CASE("plain baseline is accepted when nothing better is offered") {
  std::string offer = kOffer;
  offer.replace(offer.find("a=rtpmap:106"), std::string("a=rtpmap:106 H264/90000\r\n").size(), "");
  CHECK(chosen(choose_payload(offer, Codec::H264)).pt == 102);
}

TEST_CASE("VP8 is found for the VP8 encoder") { CHECK(chosen(choose_payload(kOffer, Codec::VP8)).pt == 96); }

TEST_CASE("offers we cannot serve are refused with a reason") {
  const std::string audio_only =
      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 "
      "opus/48000/2\r\n";
  auto v = choose_payload(audio_only, Codec::H264);
  REQUIRE_FALSE(v.ok());
  CHECK(v.error().find("no video") != std::string::npos);
  // A browser that decodes constrained baseline only (Firefox's OpenH264) and a
  // camera's High profile passed through: refused, with the profile named.
  const std::string baseline_only =
      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 97\r\na=rtpmap:97 "
      "H264/90000\r\n"
      "a=fmtp:97 packetization-mode=1;profile-level-id=42e01f\r\n";
  auto high = choose_payload(baseline_only, Codec::H264, ProfileLevel{0x64, 0x00, 0x1f});
  REQUIRE_FALSE(high.ok());
  CHECK(high.error().find("high") != std::string::npos);
  CHECK_FALSE(choose_payload("garbage", Codec::H264).ok());
}

TEST_CASE("the offer's id for the playout-delay extension is found, 0 without one") {
  CHECK(chosen(choose_payload(kOffer, Codec::H264)).playout_delay_id == 0);
  std::string offer = kOffer;
  offer.insert(offer.find("a=rtpmap:96"),
               "a=extmap:4 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
               "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n");
  CHECK(chosen(choose_payload(offer, Codec::H264)).playout_delay_id == 5);
  // With a direction, and an id out of range.
  std::string directed = kOffer;
  directed.insert(directed.find("a=rtpmap:96"),
                  "a=extmap:12/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n");
  CHECK(chosen(choose_payload(directed, Codec::VP8)).playout_delay_id == 12);
  std::string bad = kOffer;
  bad.insert(bad.find("a=rtpmap:96"), "a=extmap:300 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n");
  CHECK(chosen(choose_payload(bad, Codec::H264)).playout_delay_id == 0);
}
