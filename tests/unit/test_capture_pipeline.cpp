// The capture pipeline with a real (test) source and encoder: a branch linked
// while the camera runs starts at a keyframe, whatever the GOP position, and
// gets nothing until its gate opens; then the frames held since that keyframe,
// in order, and the live ones after them, without a gap.
#include "capture_pipeline.hpp"
#include "test_pipeline.hpp"

#include <doctest/doctest.h>

#include <mutex>
#include <vector>

using namespace sl::agent;

namespace {

struct Frame {
  GstClockTime pts;
  bool delta;
};

struct Seen {
  std::mutex mutex;
  std::vector<Frame> frames;
  size_t count() {
    std::lock_guard lock(mutex);
    return frames.size();
  }
};

// Runs the default main context until `done` or the deadline.
template <typename F>
bool spin_until(F done, int timeout_ms) {
  const gint64 deadline = g_get_monotonic_time() + gint64(timeout_ms) * 1000;
  while (!done() && g_get_monotonic_time() < deadline) g_main_context_iteration(nullptr, FALSE), g_usleep(1000);
  return done();
}

GstElement *recording_branch(Seen &seen) {
  GstElement *bin = gst_bin_new(nullptr);
  GstElement *sink = gst_element_factory_make("fakesink", nullptr);
  g_object_set(sink, "signal-handoffs", TRUE, "sync", FALSE, "async", FALSE, nullptr);
  g_signal_connect(sink, "handoff", G_CALLBACK(+[](GstElement *, GstBuffer *buffer, GstPad *, gpointer data) {
                     auto *s = static_cast<Seen *>(data);
                     std::lock_guard lock(s->mutex);
                     s->frames.push_back({GST_BUFFER_PTS(buffer), GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT)});
                   }),
                   &seen);
  gst_bin_add(GST_BIN(bin), sink);
  GstPad *pad = gst_element_get_static_pad(sink, "sink");
  gst_element_add_pad(bin, gst_ghost_pad_new("sink", pad));
  gst_object_unref(pad);
  return bin;
}

// A pipeline whose first keyframe has passed, with some frames after it: the
// next frame out of the encoder is a delta frame.
std::unique_ptr<CapturePipeline> running_mid_gop() {
  AgentSettings settings;
  settings.keyframe_interval_s = 10;  // no keyframe by schedule during the test
  auto pipeline = testing::test_pipeline(settings);
  if (!pipeline) return nullptr;
  std::string error;
  REQUIRE(pipeline->play(error));
  REQUIRE(spin_until([&] { return pipeline->keyframes() >= 1; }, 5000));
  g_usleep(200 * 1000);
  return pipeline;
}

// A mid-GOP pipeline with a recording branch linked behind its gate. Null
// pipeline when x264enc is missing (the test skips).
struct Linked {
  std::unique_ptr<CapturePipeline> pipeline = running_mid_gop();
  Seen seen;
  GstElement *branch = nullptr;
  std::shared_ptr<BranchGate> gate;

  Linked() {
    if (!pipeline) return;
    std::string error;
    branch = recording_branch(seen);
    REQUIRE(pipeline->add(branch, error));
    gate = pipeline->link(branch, error);
    REQUIRE(gate);
  }
  void detach() {
    pipeline->detach(branch);
    spin_until([] { return false; }, 100);  // lets the detach finish on the main loop
  }
  // Asks for a keyframe, takes the first frames the branch gets, and detaches:
  // whether the first of them is a delta frame.
  bool first_delivered_is_delta() {
    pipeline->force_keyframe();
    REQUIRE(spin_until([&] { return seen.count() >= 3; }, 5000));
    detach();
    std::lock_guard lock(seen.mutex);
    return seen.frames[0].delta;
  }
};

}  // namespace

TEST_CASE_FIXTURE(Linked, "a branch linked mid-GOP gets nothing before the next keyframe, nor before its gate opens") {
  if (!pipeline) return;  // x264enc missing: skipped
  g_usleep(300 * 1000);
  CHECK(gate->held() == 0);  // ~9 delta frames went by: dropped, not held
  CHECK(seen.count() == 0);

  pipeline->force_keyframe();
  REQUIRE(spin_until([&] { return gate->held() >= 4; }, 5000));
  CHECK(seen.count() == 0);  // held at the gate, none delivered
  detach();
}

TEST_CASE_FIXTURE(Linked, "an opened gate passes the held frames from the keyframe on, then the live ones, without a gap") {
  if (!pipeline) return;  // x264enc missing: skipped
  pipeline->force_keyframe();
  REQUIRE(spin_until([&] { return gate->held() >= 3; }, 5000));
  const size_t held = gate->held();
  CHECK(gate->open());
  CHECK(seen.count() >= held);  // pushed by open(), on this thread
  REQUIRE(spin_until([&] { return seen.count() >= held + 10; }, 5000));
  detach();

  std::lock_guard lock(seen.mutex);
  REQUIRE(seen.frames.size() >= held + 10);
  CHECK_FALSE(seen.frames[0].delta);
  const GstClockTime frame = GST_SECOND / 30;
  for (size_t i = 1; i < seen.frames.size(); ++i) {
    CAPTURE(i);
    const GstClockTime step = seen.frames[i].pts - seen.frames[i - 1].pts;
    CHECK(seen.frames[i].pts > seen.frames[i - 1].pts);  // in order, no frame twice
    CHECK(step < frame + frame / 2);                      // no frame missing
  }
}

TEST_CASE_FIXTURE(Linked, "a gate opened before any keyframe came still starts the branch at one") {
  if (!pipeline) return;  // x264enc missing: skipped
  CHECK_FALSE(gate->open());  // nothing held: the caller would ask for a keyframe
  g_usleep(300 * 1000);
  CHECK(seen.count() == 0);  // delta frames still kept out
  CHECK_FALSE(first_delivered_is_delta());
}

TEST_CASE_FIXTURE(Linked, "a gate held longer than its span drops what it held and waits for a keyframe again") {
  if (!pipeline) return;  // x264enc missing: skipped
  pipeline->force_keyframe();
  REQUIRE(spin_until([&] { return gate->held() >= 3; }, 5000));
  // Past kMaxHeldSpan (500 ms) of video: the held frames go, delta frames are kept out.
  REQUIRE(spin_until([&] { return gate->held() == 0; }, 3000));
  g_usleep(100 * 1000);
  CHECK(gate->held() == 0);
  CHECK_FALSE(gate->open());  // nothing held: the caller asks for a keyframe
  CHECK(seen.count() == 0);
  CHECK_FALSE(first_delivered_is_delta());
}
