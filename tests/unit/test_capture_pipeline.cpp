// The capture pipeline with a real (test) source and encoder: a branch linked
// while the camera runs starts at a keyframe, whatever the GOP position.
#include "capture_pipeline.hpp"
#include "test_pipeline.hpp"

#include <doctest/doctest.h>

#include <atomic>

using namespace sl::agent;

namespace {

struct Seen {
  std::atomic<int> buffers{0};
  std::atomic<int> first_is_delta{-1};  // -1: nothing yet
};

// Runs the default main context until `done` or the deadline.
template <typename F>
bool spin_until(F done, int timeout_ms) {
  const gint64 deadline = g_get_monotonic_time() + gint64(timeout_ms) * 1000;
  while (!done() && g_get_monotonic_time() < deadline) g_main_context_iteration(nullptr, FALSE), g_usleep(1000);
  return done();
}

GstElement *counting_branch(Seen &seen) {
  GstElement *bin = gst_bin_new(nullptr);
  GstElement *sink = gst_element_factory_make("fakesink", nullptr);
  g_object_set(sink, "signal-handoffs", TRUE, "sync", FALSE, "async", FALSE, nullptr);
  g_signal_connect(sink, "handoff", G_CALLBACK(+[](GstElement *, GstBuffer *buffer, GstPad *, gpointer data) {
                     auto *s = static_cast<Seen *>(data);
                     if (s->buffers.fetch_add(1) == 0)
                       s->first_is_delta = GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT) ? 1 : 0;
                   }),
                   &seen);
  gst_bin_add(GST_BIN(bin), sink);
  GstPad *pad = gst_element_get_static_pad(sink, "sink");
  gst_element_add_pad(bin, gst_ghost_pad_new("sink", pad));
  gst_object_unref(pad);
  return bin;
}

}  // namespace

TEST_CASE("a branch linked mid-GOP receives nothing before the next keyframe") {
  AgentSettings settings;
  settings.keyframe_interval_s = 10;  // no keyframe by schedule during the test
  auto pipeline = testing::test_pipeline(settings);
  if (!pipeline) return;
  std::string error;
  REQUIRE(pipeline->play(error));
  // The stream's first keyframe has passed, and some frames after it: the next
  // frame out of the encoder is a delta frame.
  REQUIRE(spin_until([&] { return pipeline->keyframes() >= 1 && pipeline->take_figures().fps >= 0; }, 5000));
  g_usleep(200 * 1000);

  Seen seen;
  GstElement *branch = counting_branch(seen);
  REQUIRE(pipeline->add(branch, error));
  REQUIRE(pipeline->link(branch, error));
  g_usleep(300 * 1000);
  CHECK(seen.buffers.load() == 0);  // ~9 delta frames went by, none reached the branch

  pipeline->force_keyframe();
  REQUIRE(spin_until([&] { return seen.buffers.load() >= 3; }, 5000));
  CHECK(seen.first_is_delta.load() == 0);
  pipeline->detach(branch);
  spin_until([] { return false; }, 100);  // lets the detach finish on the main loop
}
