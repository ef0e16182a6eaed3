// A WHEP server as a source: the plan passes H.264 through, watches for a
// stall, and starts even when the server does not answer (retried later).
#include "capture/whep_source.hpp"

#include <doctest/doctest.h>
#include <gst/gst.h>

using namespace sl::agent;

TEST_CASE("a WHEP source that cannot be reached still plans a pass-through source, and says why") {
  gst_init(nullptr, nullptr);
  CameraSettings s;
  s.id = "cam";
  s.source = "whep:http://127.0.0.1:1/whep/cam";  // nothing listens on port 1
  auto plan = plan_whep_source(s);
  REQUIRE(plan);
  CHECK(plan->h264_passthrough);
  CHECK(plan->stall_timeout_ms > 0);
  CHECK(plan->description.find("capsfilter name=src") == 0);
  CHECK(plan->description.find("rtph264depay") != std::string::npos);
  CHECK(plan->description.find("config-interval=-1") != std::string::npos);
  CHECK(plan->unreachable.find("Cannot reach the WHEP server at http://127.0.0.1:1/whep/cam") == 0);
  CHECK(plan->summary.find("sound is not taken") != std::string::npos);
  CHECK(plan->start);
  CHECK(plan->stop);
  // The description builds, with the WHEP client's session added at start.
  GError *error = nullptr;
  GstElement *pipeline = gst_parse_launch((plan->description + " ! fakesink").c_str(), &error);
  CHECK(error == nullptr);
  if (pipeline) gst_object_unref(pipeline);
}

TEST_CASE("a setting that is not a WHEP URL is refused") {
  CameraSettings s;
  s.source = "whep:ftp://127.0.0.1/cam";
  CHECK_FALSE(plan_whep_source(s));
}
