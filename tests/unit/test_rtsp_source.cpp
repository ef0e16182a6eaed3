// IP cameras' sources: which streams pass through to browsers, the errors a
// user reads, and a camera that cannot be reached at start-up.
#include "capture/rtsp_source.hpp"
#include "gst_owned.hpp"

#include <doctest/doctest.h>
#include <gst/gst.h>

using namespace sl;
using namespace sl::agent;

namespace {
struct GstReady {
  GstReady() { gst_init(nullptr, nullptr); }
};

CameraSettings camera_at(const std::string &url) {
  CameraSettings s;
  s.id = "ipcam";
  s.source = url;
  s.rtsp_user = "viewer";
  s.rtsp_password = "hunter2";
  return s;
}
}  // namespace

TEST_CASE("H.264 baseline passes through; other profiles and codecs are encoded again") {
  CHECK(decide_passthrough({"H264", "constrained-baseline", 640, 360, 30}).passthrough);
  CHECK(decide_passthrough({"H264", "baseline", 640, 360, 30}).passthrough);
  for (const char *profile : {"main", "high", "high-4:2:2", ""}) {
    const auto d = decide_passthrough({"H264", profile, 1920, 1080, 25});
    CHECK_FALSE(d.passthrough);
    CHECK(d.reason.find("B-frames") != std::string::npos);
  }
  const auto h265 = decide_passthrough({"H265", "main", 1920, 1080, 25});
  CHECK_FALSE(h265.passthrough);
  CHECK(h265.reason.find("decoded") != std::string::npos);
}

TEST_CASE("GStreamer's RTSP errors read as what to do, without credentials") {
  const std::string url = "rtsp://admin:pw@10.0.0.9/x";
  Owned<GError> denied(g_error_new_literal(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED, "Unauthorized"));
  const std::string refused = describe_rtsp_error(denied.get(), url, true);
  CHECK(refused.find("rtsp-credentials-file") != std::string::npos);
  CHECK(refused.find("refused") != std::string::npos);
  CHECK(refused.find("pw@") == std::string::npos);
  // None sent: the camera asks for them.
  CHECK(describe_rtsp_error(denied.get(), url, false).find("asks for a user name and password") != std::string::npos);
  Owned<GError> gone(g_error_new_literal(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE, "Could not open"));
  CHECK(describe_rtsp_error(gone.get(), url, true).find("Cannot reach") != std::string::npos);
  Owned<GError> path(g_error_new_literal(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, "Not found"));
  CHECK(describe_rtsp_error(path.get(), url, true).find("path") != std::string::npos);
}

TEST_CASE_FIXTURE(GstReady, "a camera that cannot be reached is said so quickly") {
  const gint64 started = g_get_monotonic_time();
  auto offer = probe_rtsp(camera_at("rtsp://127.0.0.1:1/cam"), 3000);
  REQUIRE_FALSE(offer);
  CHECK(offer.error().find("Cannot reach") != std::string::npos);
  CHECK(g_get_monotonic_time() - started < 3'500'000);
}

TEST_CASE_FIXTURE(GstReady,
                  "unreachable at start-up: planned to decode either codec, credentials only on the element") {
  auto plan = plan_rtsp_source(camera_at("rtsp://127.0.0.1:1/cam"));
  REQUIRE(plan);
  CHECK_FALSE(plan->h264_passthrough);
  CHECK(plan->description.find("rtph264depay") != std::string::npos);
  CHECK(plan->description.find("rtph265depay") != std::string::npos);
  CHECK(plan->description.find("hunter2") == std::string::npos);
  CHECK(plan->description.find("viewer") == std::string::npos);
  CHECK(plan->summary.find("retrying") != std::string::npos);

  // The description builds, and the credentials reach rtspsrc as properties.
  GError *raw = nullptr;
  auto pipeline = sink(gst_parse_launch((plan->description + " ! fakesink").c_str(), &raw));
  Owned<GError> error(raw);
  REQUIRE(pipeline);
  REQUIRE_FALSE(error);
  REQUIRE(plan->configure);
  plan->configure(pipeline.get());
  auto src = adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "src"));
  gchar *user = nullptr, *password = nullptr;
  g_object_get(src.get(), "user-id", &user, "user-pw", &password, nullptr);
  CHECK(std::string(user ? user : "") == "viewer");
  CHECK(std::string(password ? password : "") == "hunter2");
  g_free(user);
  g_free(password);
}

TEST_CASE_FIXTURE(GstReady, "unreachable at start-up with audio = camera: whatever sound comes is promised") {
  CameraSettings s = camera_at("rtsp://127.0.0.1:1/cam");
  auto without = plan_rtsp_source(s);
  REQUIRE(without);
  CHECK(without->audio.empty());
  CHECK(without->audio_note.empty());

  s.audio = "camera";
  auto plan = plan_rtsp_source(s);
  REQUIRE(plan);
  CHECK(plan->audio.find("decodebin name=audiodecode") != std::string::npos);
  CHECK(plan->audio_note.find("not known until it answers") != std::string::npos);
  // The video's description and the sound's build together.
  GError *raw = nullptr;
  auto pipeline =
      sink(gst_parse_launch((plan->description + " ! fakesink " + plan->audio + " ! fakesink").c_str(), &raw));
  Owned<GError> error(raw);
  REQUIRE(pipeline);
  REQUIRE_FALSE(error);
  plan->configure(pipeline.get());
}
