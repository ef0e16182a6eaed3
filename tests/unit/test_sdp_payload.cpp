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

TEST_CASE("congestion feedback is taken when the offer has both the extension and transport-cc for the payload") {
  const std::string ext = "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n";
  CHECK(chosen(choose_payload(kOffer, Codec::H264)).twcc_id == 0);  // neither
  std::string both = kOffer;
  both.insert(both.find("a=rtpmap:96"), ext);
  both += "a=rtcp-fb:106 transport-cc\r\n";
  CHECK(chosen(choose_payload(both, Codec::H264)).twcc_id == 3);
  // Feedback for another payload only, or the extension without feedback: not taken.
  std::string other = kOffer;
  other.insert(other.find("a=rtpmap:96"), ext);
  other += "a=rtcp-fb:96 transport-cc\r\n";
  CHECK(chosen(choose_payload(other, Codec::H264)).twcc_id == 0);
  CHECK(chosen(choose_payload(other, Codec::VP8)).twcc_id == 3);
  std::string no_feedback = kOffer;
  no_feedback.insert(no_feedback.find("a=rtpmap:96"), ext);
  CHECK(chosen(choose_payload(no_feedback, Codec::H264)).twcc_id == 0);
  // "*" stands for every payload.
  std::string wildcard = no_feedback + "a=rtcp-fb:* transport-cc\r\n";
  CHECK(chosen(choose_payload(wildcard, Codec::H264)).twcc_id == 3);
}

// ---- Safari and iPhones (docs/cameras.md): the answer names what is sent ----
namespace {

// The video part of a Safari 17 offer (macOS and iOS share it), written from
// the offers Safari publishes in its WebRTC logs: constrained high first, then
// constrained baseline, both with level-asymmetry-allowed, then H.265 and VP8.
// `high` is its constrained-high profile-level-id: 640c1f, or a higher level
// (640c34) as Safari offers on devices whose decoder goes further.
std::string safari_offer(const std::string &high = "640c1f",
                         const std::string &asymmetry = "level-asymmetry-allowed=1;") {
  return "v=0\r\no=- 8056345473542164935 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
         "a=extmap-allow-mixed\r\na=msid-semantic: WMS\r\n"
         "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 127 125 104 105 106\r\nc=IN IP4 0.0.0.0\r\n"
         "a=rtcp:9 IN IP4 "
         "0.0.0.0\r\na=ice-ufrag:Gq2w\r\na=ice-pwd:0y8sQp1cZw5uVz0u0XWqfR7j\r\na=ice-options:trickle\r\n"
         "a=fingerprint:sha-256 "
         "3C:1E:4D:0A:9B:58:7F:21:66:C4:12:DE:80:5A:3B:97:E2:04:7C:19:8D:B0:5F:63:AA:21:0E:C7:94:38:FB:16\r\n"
         "a=setup:actpass\r\na=mid:0\r\n"
         "a=extmap:1 urn:ietf:params:rtp-hdrext:toffset\r\n"
         "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
         "a=extmap:3 urn:3gpp:video-orientation\r\n"
         "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
         "a=recvonly\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
         "a=rtpmap:96 H264/90000\r\na=rtcp-fb:96 goog-remb\r\na=rtcp-fb:96 transport-cc\r\na=rtcp-fb:96 ccm fir\r\n"
         "a=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"
         "a=fmtp:96 " +
         asymmetry + "packetization-mode=1;profile-level-id=" + high +
         "\r\n"
         "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
         "a=rtpmap:98 H264/90000\r\na=rtcp-fb:98 goog-remb\r\na=rtcp-fb:98 transport-cc\r\na=rtcp-fb:98 ccm fir\r\n"
         "a=rtcp-fb:98 nack\r\na=rtcp-fb:98 nack pli\r\n"
         "a=fmtp:98 " +
         asymmetry +
         "packetization-mode=1;profile-level-id=42e01f\r\n"
         "a=rtpmap:99 rtx/90000\r\na=fmtp:99 apt=98\r\n"
         "a=rtpmap:100 H265/90000\r\na=rtcp-fb:100 nack pli\r\n"
         "a=fmtp:100 level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST\r\n"
         "a=rtpmap:101 rtx/90000\r\na=fmtp:101 apt=100\r\n"
         "a=rtpmap:127 VP8/90000\r\na=rtcp-fb:127 nack pli\r\n"
         "a=rtpmap:125 rtx/90000\r\na=fmtp:125 apt=127\r\n"
         "a=rtpmap:104 red/90000\r\na=rtpmap:105 rtx/90000\r\na=fmtp:105 apt=104\r\n"
         "a=rtpmap:106 ulpfec/90000\r\n";
}

// Chromium 156's H.264 payloads as it offers them here (recorded by
// tests/integration/every_camera_format_plays' browser): High only as High
// 4:4:4 Predictive (f4001f), on a payload type below 96.
const std::string kChromiumOffer =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 102 104 108 114 116 39 41 43\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtpmap:102 H264/90000\r\na=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"
    "a=rtpmap:104 H264/90000\r\na=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f\r\n"
    "a=rtpmap:108 H264/90000\r\na=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:114 H264/90000\r\na=fmtp:114 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f\r\n"
    "a=rtpmap:116 H264/90000\r\na=fmtp:116 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f\r\n"
    "a=rtpmap:39 H264/90000\r\na=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f\r\n"
    "a=rtpmap:41 H264/90000\r\na=fmtp:41 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=f4001f\r\n"
    "a=rtpmap:43 H264/90000\r\na=fmtp:43 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=f4001f\r\n";

// The fmtp the answer gets from the chosen caps: "key=value" present, or absent.
bool has(const PayloadChoice &c, const std::string &field) { return c.rtp_caps.find(field) != std::string::npos; }

constexpr ProfileLevel kX264At720p{0x42, 0xc0, 0x1f};  // what the agent's x264 sends at 1280x720@30
constexpr ProfileLevel kHigh1080p{0x64, 0x00, 0x28};   // a camera's High, level 4 (1080p30)
constexpr ProfileLevel kMain720p{0x4d, 0x40, 0x1f};

}  // namespace

TEST_CASE("Safari: the agent's constrained baseline goes on Safari's 42e01f, answered with the SPS sent") {
  auto c = chosen(choose_payload(safari_offer(), Codec::H264, kX264At720p));
  CHECK(c.pt == 98);
  CHECK(has(c, "profile-level-id=(string)42c01f"));  // x264's SPS, not a fixed 42e01f
  CHECK(has(c, "packetization-mode=(string)1"));
  CHECK(has(c, "level-asymmetry-allowed=(string)1"));  // Safari offered it
  CHECK(c.note.empty());
  CHECK(c.playout_delay_id == 5);
}

TEST_CASE("Safari: a camera's High passed through goes on constrained high; a level it offers is preferred") {
  // 640c1f (level 3.1) only: the stream's level 4 is above it; said, not refused.
  auto low = chosen(choose_payload(safari_offer("640c1f"), Codec::H264, kHigh1080p));
  CHECK(low.pt == 96);
  CHECK(has(low, "profile-level-id=(string)640028"));
  CHECK(low.note.find("level 4.0") != std::string::npos);
  // Safari offering High up to level 5.2 (640c34): the stream fits, nothing to say.
  auto high = chosen(choose_payload(safari_offer("640c34"), Codec::H264, kHigh1080p));
  CHECK(high.pt == 96);
  CHECK(has(high, "profile-level-id=(string)640028"));
  CHECK(has(high, "level-asymmetry-allowed=(string)1"));
  CHECK(high.note.empty());
  // A main-profile camera: constrained high takes it (no B-frames are ever sent).
  auto main = chosen(choose_payload(safari_offer("640c34"), Codec::H264, kMain720p));
  CHECK(main.pt == 96);
  CHECK(has(main, "profile-level-id=(string)4d401f"));
}

TEST_CASE("level-asymmetry-allowed is answered only when offered") {
  auto c = chosen(choose_payload(safari_offer("640c1f", ""), Codec::H264, kX264At720p));
  CHECK(c.pt == 98);
  CHECK_FALSE(has(c, "level-asymmetry-allowed"));
  CHECK(has(c, "profile-level-id=(string)42c01f"));
  // Without it the level is the lower of the two: a stream above the offer is said.
  auto above = chosen(choose_payload(safari_offer("640c1f", ""), Codec::H264, kHigh1080p));
  CHECK_FALSE(has(above, "level-asymmetry-allowed"));
  CHECK(above.note.find("above the level this viewer offered (640c1f)") != std::string::npos);
}

TEST_CASE("packetization-mode 1 only: an offer with mode 0 alone is refused") {
  std::string offer = safari_offer();
  for (size_t at; (at = offer.find("packetization-mode=1")) != std::string::npos;)
    offer.replace(at, std::string("packetization-mode=1").size(), "packetization-mode=0");
  CHECK_FALSE(choose_payload(offer, Codec::H264, kX264At720p).ok());
}

TEST_CASE(
    "Chromium: a camera's High goes on High 4:4:4 Predictive (pt 41), main on main, ours on constrained baseline") {
  auto high = chosen(choose_payload(kChromiumOffer, Codec::H264, kHigh1080p));
  CHECK(high.pt == 41);
  CHECK(has(high, "profile-level-id=(string)640028"));
  auto main = chosen(choose_payload(kChromiumOffer, Codec::H264, kMain720p));
  CHECK(main.pt == 116);
  auto ours = chosen(choose_payload(kChromiumOffer, Codec::H264, kX264At720p));
  CHECK(ours.pt == 108);  // constrained baseline, not the plain baseline of 102
}

TEST_CASE("the offer's Opus m-line is taken, also bundle-only at port 0, not when refused") {
  const std::string video =
      "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\na=rtpmap:96 H264/90000\r\n"
      "a=fmtp:96 packetization-mode=1;profile-level-id=42e01f\r\n";
  const auto audio = [&](const std::string &port, const std::string &extra) {
    return video + "m=audio " + port + " UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n" + extra +
           "a=recvonly\r\na=rtpmap:111 OPUS/48000/2\r\n";
  };
  auto browser = sl::agent::choose_audio_payload(audio("9", ""));
  REQUIRE(browser);
  CHECK(browser->mline == 1);
  CHECK(browser->pt == 111);
  // webrtcbin with max-bundle (a WHEP source, the relay's fan-out worker): port 0, bundle-only.
  auto bundled = sl::agent::choose_audio_payload(audio("0", "a=bundle-only\r\n"));
  REQUIRE(bundled);
  CHECK(bundled->mline == 1);
  CHECK_FALSE(sl::agent::choose_audio_payload(audio("0", "")));  // refused
  CHECK_FALSE(sl::agent::choose_audio_payload(video));           // none offered
}
