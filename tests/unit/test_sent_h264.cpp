// What a viewer's browser receives, read from the RTP H.264 payloads the
// agent's RTP stream sends (no depayloader that could put anything back):
// every IDR comes with SPS and PPS before it, in the same frame (what Safari
// needs to start and to recover), and the profile-level-id the answer names is
// the one of the SPS really sent. For the agent's own encoder, a camera's H.264
// passed through (main; high on Chromium's payload type 41, below the
// payloader's range) and a camera's B-frames encoded again.
#include "capture/capture_pipeline.hpp"
#include "capture/h264_bitstream.hpp"
#include "capture/h264_profile.hpp"
#include "test_pipeline.hpp"
#include "viewers/sdp_payload.hpp"

#include <doctest/doctest.h>
#include <gst/rtp/rtp.h>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

using namespace sl::agent;

namespace {

// Chromium's H.264 payloads as it offers them (see test_sdp_payload.cpp).
const std::string kOffer =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 102 108 116 41\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\n"
    "a=rtpmap:102 H264/90000\r\na=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"
    "a=rtpmap:108 H264/90000\r\na=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:116 H264/90000\r\na=fmtp:116 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f\r\n"
    "a=rtpmap:41 H264/90000\r\na=fmtp:41 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=f4001f\r\n";

// One frame as the packets carry it: its NAL units in order (type, and the
// SPS's first bytes).
struct Frame {
  std::vector<int> types;
  std::vector<uint8_t> sps;
};

// The packets a branch gets, grouped into frames by RTP timestamp.
struct Received {
  std::mutex mutex;
  std::map<uint32_t, Frame> frames;  // by timestamp (no wrap in a test's seconds)
  std::set<int> payload_types;

  void add(GstBuffer *packet) {
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map(packet, GST_MAP_READ, &rtp)) return;
    const auto *p = static_cast<const uint8_t *>(gst_rtp_buffer_get_payload(&rtp));
    const guint n = gst_rtp_buffer_get_payload_len(&rtp);
    std::lock_guard lock(mutex);
    payload_types.insert(gst_rtp_buffer_get_payload_type(&rtp));
    Frame &f = frames[gst_rtp_buffer_get_timestamp(&rtp)];
    auto unit = [&](const uint8_t *nal, guint size) {
      if (!size) return;
      f.types.push_back(nal[0] & 0x1f);
      if ((nal[0] & 0x1f) == nal::kSps) f.sps.assign(nal, nal + size);
    };
    if (n > 0) {
      const int type = p[0] & 0x1f;
      if (type == 24) {  // STAP-A: 16-bit sizes, then the units
        for (guint at = 1; at + 2 <= n;) {
          const guint size = (p[at] << 8) | p[at + 1];
          if (at + 2 + size > n) break;
          unit(p + at + 2, size);
          at += 2 + size;
        }
      } else if (type == 28 && n > 1) {  // FU-A: the unit's type, once, at its start
        if (p[1] & 0x80) f.types.push_back(p[1] & 0x1f);
      } else {
        unit(p, n);
      }
    }
    gst_rtp_buffer_unmap(&rtp);
  }
};

// A branch of `received`, fed (gate open) by the pipeline's RTP stream for `caps`.
struct Receiving {
  std::shared_ptr<RtpStream> stream;
  GstElement *branch = nullptr;
};
Receiving receive(CapturePipeline &pipeline, const std::string &caps, Received &received) {
  auto stream = pipeline.rtp_stream(RtpFormat{caps});
  REQUIRE(stream);
  GstElement *branch = testing::handoff_branch(received);
  REQUIRE(pipeline.add(branch));
  auto gate = pipeline.link(branch, **stream);
  REQUIRE(gate);
  (*gate)->open();
  return {*stream, branch};
}

template <typename F>
bool spin_until(F done, int timeout_ms) {
  const gint64 deadline = g_get_monotonic_time() + gint64(timeout_ms) * 1000;
  while (!done() && g_get_monotonic_time() < deadline) g_main_context_iteration(nullptr, FALSE), g_usleep(1000);
  return done();
}

struct Case {
  const char *source;
  const char *path;     // what the agent does with it
  int payload_type;     // chosen from kOffer
  uint8_t profile_idc;  // of the SPS sent
};

}  // namespace

TEST_CASE("what viewers receive: SPS and PPS before every IDR, and the SPS the answer names") {
  gst_init(nullptr, nullptr);
  for (const char *needed : {"x264enc", "avdec_h264"})
    if (!gst_registry_check_feature_version(gst_registry_get(), needed, 1, 0, 0)) {
      MESSAGE(needed << " not installed: skipped");
      return;
    }
  const Case cases[] = {
      {"test", "x264enc", 108, 66},
      {"emulate:h264-main", "passthrough", 116, 77},
      {"emulate:h264-high", "passthrough", 41, 100},
      {"emulate:h264-high-bframes", "x264enc", 108, 66},
  };
  for (const auto &c : cases) {
    CAPTURE(c.source);
    // Before the pipeline: the branch hands packets to it on the camera's thread
    // until the pipeline stops (a detach finishes later, on the main loop).
    Received received;
    CameraSettings settings;
    settings.id = "cam";
    settings.source = c.source;
    settings.pattern = "smpte";
    settings.width = 320;
    settings.height = 240;
    settings.fps = 30;
    settings.encoder = "x264enc";
    settings.keyframe_interval_s = 1;
    auto created = CapturePipeline::create(settings);
    if (!created) FAIL(created.error());
    auto &pipeline = **created;
    CHECK(pipeline.info().encoder == c.path);
    REQUIRE(pipeline.play());
    REQUIRE(spin_until([&] { return pipeline.keyframes() >= 1; }, 5000));
    const auto sent = pipeline.sent_profile();
    REQUIRE(sent);
    CHECK(sent->profile_idc == c.profile_idc);

    auto choice = choose_payload(kOffer, Codec::H264, *sent);
    if (!choice) FAIL(choice.error());
    CHECK(choice->pt == c.payload_type);
    auto [stream, branch] = receive(pipeline, choice->rtp_caps, received);

    // Three keyframes or more, asked for or on schedule.
    auto keyframes = [&] {
      std::lock_guard lock(received.mutex);
      int n = 0;
      for (const auto &[ts, f] : received.frames)
        n += std::count(f.types.begin(), f.types.end(), int(nal::kIdrSlice)) > 0;
      return n;
    };
    REQUIRE(spin_until(
        [&] {
          if (keyframes() < 3) pipeline.force_keyframe();
          return keyframes() >= 3;
        },
        8000));
    pipeline.detach(branch);
    stream.reset();

    std::lock_guard lock(received.mutex);
    CHECK(received.payload_types == std::set<int>{c.payload_type});
    for (const auto &[ts, f] : received.frames) {
      const auto idr = std::find(f.types.begin(), f.types.end(), int(nal::kIdrSlice));
      if (idr == f.types.end()) continue;
      const auto sps = std::find(f.types.begin(), idr, int(nal::kSps));
      const auto pps = std::find(f.types.begin(), idr, int(nal::kPps));
      CHECK_MESSAGE(sps != idr, "an IDR without an SPS before it, at RTP time " << ts);
      CHECK_MESSAGE(pps != idr, "an IDR without a PPS before it, at RTP time " << ts);
      // The answer's profile-level-id is this SPS's.
      auto parsed = parse_sps(f.sps);
      REQUIRE(parsed);
      CHECK(choice->rtp_caps.find("profile-level-id=(string)" + parsed->profile.hex()) != std::string::npos);
    }
  }
}

TEST_CASE("a viewer's stream outlives a larger size, whose SPS says a higher level") {
  gst_init(nullptr, nullptr);
  if (!gst_registry_check_feature_version(gst_registry_get(), "x264enc", 1, 0, 0)) return;
  Received received;  // outlives the pipeline, which feeds it on its own thread
  CameraSettings settings;
  settings.id = "cam";
  settings.source = "test";
  settings.pattern = "smpte";
  settings.width = 320;
  settings.height = 240;
  settings.encoder = "x264enc";
  std::string failed;  // outlives the pipeline too: its handler writes here
  auto created = CapturePipeline::create(settings);
  if (!created) FAIL(created.error());
  auto &pipeline = **created;
  pipeline.set_error_handlers([&](const std::string &what) { failed = what; }, nullptr);
  REQUIRE(pipeline.play());
  REQUIRE(spin_until([&] { return pipeline.sent_profile().has_value(); }, 5000));
  const ProfileLevel before = *pipeline.sent_profile();
  auto choice = choose_payload(kOffer, Codec::H264, before);
  REQUIRE(choice);
  auto [stream, branch] = receive(pipeline, choice->rtp_caps, received);

  REQUIRE(pipeline.reconfigure(1280, 720, 30));
  // The branch gets keyframes whose SPS says the new level, and the camera runs on.
  auto raised = [&] {
    pipeline.force_keyframe();
    std::lock_guard lock(received.mutex);
    for (const auto &[ts, f] : received.frames)
      if (auto sps = parse_sps(f.sps); sps && level_rank(sps->profile) > level_rank(before)) return true;
    return false;
  };
  CHECK(spin_until(raised, 8000));
  CHECK(failed.empty());
  CHECK(pipeline.running());
  pipeline.detach(branch);
  stream.reset();
}
