// The capture pipeline with a real (test) source and encoder: a branch linked
// to an RTP stream while the camera runs starts at a keyframe, whatever the GOP
// position, and gets nothing until its gate opens; then the frames held since
// that keyframe, in order, and the live ones after them, without a gap. Viewers
// of one format share one RTP stream, which goes with the last of them.
#include "capture/capture_pipeline.hpp"
#include "capture/encoding_switch.hpp"
#include "capture/media_clock.hpp"
#include "test_pipeline.hpp"

#include <doctest/doctest.h>
#include <gst/rtp/rtp.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <vector>

using namespace sl::agent;

namespace {

constexpr const char *kH264 =
    "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=102,"
    "packetization-mode=(string)1,profile-level-id=(string)42e01f,level-asymmetry-allowed=(string)1";
constexpr const char *kVp8 = "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=96";

// Whether an RTP packet begins a keyframe, read from its payload (not from the
// flags the stream sets): H.264 an SPS or IDR NAL unit, alone, first in a STAP-A
// or starting an FU-A; VP8 the start of a frame whose payload header says key.
bool starts_keyframe(GstBuffer *packet) {
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(packet, GST_MAP_READ, &rtp)) return false;
  uint8_t p[8] = {};  // the payload's first bytes: all that is read
  const guint n = std::min<guint>(gst_rtp_buffer_get_payload_len(&rtp), sizeof p);
  memcpy(p, gst_rtp_buffer_get_payload(&rtp), n);
  const guint8 pt = gst_rtp_buffer_get_payload_type(&rtp);
  gst_rtp_buffer_unmap(&rtp);
  if (n < 6) return false;
  if (pt == 96) {                                       // VP8 (RFC 7741): descriptor, then the payload header
    if (!(p[0] & 0x10) || (p[0] & 0x07)) return false;  // not the start of partition 0
    guint at = 1;
    if (p[0] & 0x80) {  // extensions
      const uint8_t x = p[at++];
      if (x & 0x80) at += (p[at] & 0x80) ? 2 : 1;  // picture id
      if (x & 0x40) at += 1;                       // TL0PICIDX
      if (x & 0x30) at += 1;                       // TID / KEYIDX
    }
    return at < n && !(p[at] & 0x01);  // P bit 0: a keyframe
  }
  auto key_nal = [](uint8_t type) { return type == 5 || type == 7; };
  const uint8_t type = p[0] & 0x1f;
  if (type == 24) return key_nal(p[3] & 0x1f);                   // STAP-A: its first unit
  if (type == 28) return (p[1] & 0x80) && key_nal(p[1] & 0x1f);  // FU-A start
  return key_nal(type);
}

struct Frame {
  GstClockTime pts;
  bool delta;  // the flag on its first packet, as the gate reads it
  bool key;    // what its packets' payloads say: an IDR slice or an SPS somewhere in the frame
  guint32 ssrc;
  guint16 seq;         // its first packet's
  bool playout_delay;  // its first packet carries header extension 6
  guint32 rtp_time;    // its first packet's timestamp
  gint64 seen_at_us;   // the wall clock when it reached the branch
};

// What reaches a branch: packets, grouped into frames by timestamp.
struct Seen {
  std::mutex mutex;
  std::vector<Frame> frames;
  size_t packets = 0;
  size_t lists = 0;                                  // pushes of several packets at once
  std::vector<std::pair<guint32, guint16>> numbers;  // every packet's SSRC and sequence number
  std::vector<std::vector<uint8_t>> key_payloads;    // the first packet of each keyframe: its payload (SPS first)
  void add(GstBuffer *packet) {
    std::lock_guard lock(mutex);
    ++packets;
    {
      GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
      if (gst_rtp_buffer_map(packet, GST_MAP_READ, &rtp)) {
        numbers.emplace_back(gst_rtp_buffer_get_ssrc(&rtp), gst_rtp_buffer_get_seq(&rtp));
        if (!GST_BUFFER_FLAG_IS_SET(packet, GST_BUFFER_FLAG_DELTA_UNIT)) {
          const auto *p = static_cast<const uint8_t *>(gst_rtp_buffer_get_payload(&rtp));
          key_payloads.emplace_back(p, p + std::min<guint>(gst_rtp_buffer_get_payload_len(&rtp), 64));
        }
        gst_rtp_buffer_unmap(&rtp);
      }
    }
    if (!frames.empty() && frames.back().pts == GST_BUFFER_PTS(packet)) {
      frames.back().key = frames.back().key || starts_keyframe(packet);
      return;
    }
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map(packet, GST_MAP_READ, &rtp)) return;  // (the streaming thread: no REQUIRE here)
    const guint32 ssrc = gst_rtp_buffer_get_ssrc(&rtp);
    const guint16 seq = gst_rtp_buffer_get_seq(&rtp);
    const guint32 rtp_time = gst_rtp_buffer_get_timestamp(&rtp);
    gpointer ext = nullptr;
    guint ext_size = 0;
    const bool playout_delay = gst_rtp_buffer_get_extension_onebyte_header(&rtp, 6, 0, &ext, &ext_size);
    gst_rtp_buffer_unmap(&rtp);
    frames.push_back({GST_BUFFER_PTS(packet), GST_BUFFER_FLAG_IS_SET(packet, GST_BUFFER_FLAG_DELTA_UNIT),
                      starts_keyframe(packet), ssrc, seq, playout_delay, rtp_time, g_get_real_time()});
  }
  size_t count() {
    std::lock_guard lock(mutex);
    return frames.size();
  }
  size_t packet_count() {
    std::lock_guard lock(mutex);
    return packets;
  }
};

// Runs the default main context until `done` or the deadline.
template <typename F>
bool spin_until(F done, int timeout_ms) {
  const gint64 deadline = g_get_monotonic_time() + gint64(timeout_ms) * 1000;
  while (!done() && g_get_monotonic_time() < deadline) g_main_context_iteration(nullptr, FALSE), g_usleep(1000);
  return done();
}

// Lets `n` more frames leave the encoder (delta frames, mid-GOP).
void let_frames_pass(const CapturePipeline &pipeline, uint64_t n) {
  const uint64_t until = pipeline.frames_out() + n;
  REQUIRE(spin_until([&] { return pipeline.frames_out() >= until; }, 5000));
}

// Records what the branch gets, and how many pushes came as buffer lists.
GstElement *recording_branch(Seen &seen) {
  GstElement *bin = testing::handoff_branch(seen);
  auto ghost = sl::adopt(gst_element_get_static_pad(bin, "sink"));
  auto pad = sl::adopt(gst_ghost_pad_get_target(GST_GHOST_PAD(ghost.get())));
  gst_pad_add_probe(
      pad.get(), GST_PAD_PROBE_TYPE_BUFFER_LIST,
      [](GstPad *, GstPadProbeInfo *, gpointer data) {
        auto *s = static_cast<Seen *>(data);
        std::lock_guard lock(s->mutex);
        ++s->lists;
        return GST_PAD_PROBE_OK;
      },
      &seen, nullptr);
  return bin;
}

// A pipeline whose first keyframe has passed, with some frames after it: the
// next frame out of the encoder is a delta frame.
std::unique_ptr<CapturePipeline> running_mid_gop(const char *encoder = "x264enc") {
  CameraSettings settings;
  settings.keyframe_interval_s = 10;  // no keyframe by schedule during the test
  auto pipeline = testing::test_pipeline(settings, encoder);
  if (!pipeline) return nullptr;
  REQUIRE(pipeline->play());
  REQUIRE(spin_until([&] { return pipeline->keyframes() >= 1; }, 5000));
  let_frames_pass(*pipeline, 6);
  return pipeline;
}

// A mid-GOP pipeline with a recording branch linked behind its gate to the RTP
// stream of `format`. Null pipeline when the encoder is missing (the test skips).
struct Linked {
  // Before the pipeline, so it outlives it: the branch hands it packets on the
  // camera's thread until the pipeline stops (a detach finishes later).
  Seen seen;
  std::unique_ptr<CapturePipeline> pipeline;
  std::shared_ptr<RtpStream> stream;
  GstElement *branch = nullptr;
  std::shared_ptr<BranchGate> gate;
  // What the pipeline reports once record_errors() is called: the camera's
  // failures, and the last branch that failed alone.
  std::vector<std::string> camera_errors;
  GstElement *failed = nullptr;
  void record_errors() {
    pipeline->set_error_handlers([this](const std::string &what) { camera_errors.push_back(what); },
                                 [this](GstElement *bin, const std::string &) { failed = bin; });
  }

  explicit Linked(const char *encoder = "x264enc", const char *format = kH264) : pipeline(running_mid_gop(encoder)) {
    if (!pipeline) return;
    auto made = pipeline->rtp_stream(RtpFormat{format});
    REQUIRE(made);
    stream = *made;
    branch = recording_branch(seen);
    REQUIRE(pipeline->add(branch));
    auto linked = pipeline->link(branch, *stream);
    REQUIRE(linked);
    gate = *linked;
  }
  // Opens the gate, waits for `frames` frames at the branch; the stream's SSRC.
  guint playing_ssrc(size_t frames) {
    gate->open();
    pipeline->force_keyframe();
    REQUIRE(spin_until([&] { return seen.count() >= frames; }, 5000));
    guint ssrc = 0;
    gst_structure_get_uint(gst_caps_get_structure(stream->rtp_caps(), 0), "ssrc", &ssrc);
    return ssrc;
  }
  // The stream's tee pad that feeds the branch (behind the ghost on the stream's bin).
  sl::Owned<GstPad> feeding_pad() {
    auto sink = sl::adopt(gst_element_get_static_pad(branch, "sink"));
    auto ghost = sl::adopt(gst_pad_get_peer(sink.get()));
    return sl::adopt(gst_ghost_pad_get_target(GST_GHOST_PAD(ghost.get())));
  }
  void detach() {
    auto held = sl::ref(branch);
    pipeline->detach(branch);
    stream.reset();
    // The detach finishes on the main loop: the branch leaves the pipeline.
    REQUIRE(spin_until([&] { return GST_OBJECT_PARENT(held.get()) == nullptr; }, 3000));
  }
  // Asks for a keyframe, takes the first frames the branch gets, and detaches:
  // whether the first of them is a delta frame (by flag, and by its payload).
  bool first_delivered_is_delta() {
    pipeline->force_keyframe();
    REQUIRE(spin_until([&] { return seen.count() >= 3; }, 5000));
    detach();
    std::lock_guard lock(seen.mutex);
    CHECK(seen.frames[0].key == !seen.frames[0].delta);
    return seen.frames[0].delta;
  }
};
struct LinkedVp8 : Linked {
  LinkedVp8() : Linked("vp8enc", kVp8) {}
};

// Elements of `factory` anywhere in the pipeline.
size_t count_elements(CapturePipeline &pipeline, const char *factory) {
  GstElement *top = GST_ELEMENT(gst_object_get_parent(GST_OBJECT(pipeline.source())));
  size_t n = 0;
  GstIterator *it = gst_bin_iterate_recurse(GST_BIN(top));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    GstElementFactory *f = gst_element_get_factory(GST_ELEMENT(g_value_get_object(&item)));
    if (f && g_strcmp0(GST_OBJECT_NAME(f), factory) == 0) ++n;
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  gst_object_unref(top);
  return n;
}

}  // namespace

TEST_CASE_FIXTURE(Linked, "a branch linked mid-GOP gets nothing before the next keyframe, nor before its gate opens") {
  if (!pipeline) return;  // x264enc missing: skipped
  let_frames_pass(*pipeline, 9);
  CHECK(gate->held() == 0);  // 9 delta frames went by: dropped, not held
  CHECK(seen.count() == 0);

  pipeline->force_keyframe();
  REQUIRE(spin_until([&] { return gate->held() >= 4; }, 5000));
  CHECK(seen.count() == 0);  // held at the gate, none delivered
  detach();
}

TEST_CASE_FIXTURE(Linked,
                  "an opened gate passes the held frames from the keyframe on, then the live ones, without a gap") {
  if (!pipeline) return;  // x264enc missing: skipped
  pipeline->force_keyframe();
  REQUIRE(spin_until([&] { return gate->held() >= 3; }, 5000));
  const size_t held = gate->held();
  CHECK(gate->open());
  CHECK(seen.packet_count() >= held);  // pushed by open(), on this thread
  REQUIRE(spin_until([&] { return seen.count() >= 12; }, 5000));
  detach();

  std::lock_guard lock(seen.mutex);
  REQUIRE(seen.frames.size() >= 12);
  CHECK_FALSE(seen.frames[0].delta);
  CHECK(seen.frames[0].key);
  const GstClockTime frame = GST_SECOND / 30;
  for (size_t i = 1; i < seen.frames.size(); ++i) {
    CAPTURE(i);
    const GstClockTime step = seen.frames[i].pts - seen.frames[i - 1].pts;
    CHECK(seen.frames[i].pts > seen.frames[i - 1].pts);  // in order, no frame twice
    CHECK(step < frame + frame / 2);                     // no frame missing
  }
}

TEST_CASE_FIXTURE(Linked, "an RTP stream's timestamps are its frames' wall-clock capture times (RFC 7273)") {
  if (!pipeline) return;                      // x264enc missing: skipped
  CHECK(!stream->reference_clock().empty());  // said in each answer (viewer_session.cpp)
  pipeline->force_keyframe();
  REQUIRE(spin_until([&] { return gate->held() >= 1; }, 5000));
  CHECK(gate->open());
  REQUIRE(spin_until([&] { return seen.count() >= 10; }, 5000));
  detach();
  std::lock_guard lock(seen.mutex);
  for (const Frame &f : seen.frames) {
    // Captured before it reached the branch: by the encoder's latency and the
    // frames the gate held (a few frame intervals), never after.
    const auto before_ms = double(int32_t(wall_clock_rtp_time(f.seen_at_us, 90000) - f.rtp_time)) / 90.0;
    CAPTURE(before_ms);
    CHECK(before_ms >= -1.0);
    CHECK(before_ms < 500.0);
  }
}

TEST_CASE("the pipeline says when its first frame after each start has passed") {
  CameraSettings settings;
  auto pipeline = testing::test_pipeline(settings, "x264enc");
  if (!pipeline) return;  // x264enc missing: skipped
  int firsts = 0;
  pipeline->on_first_frame([&] { ++firsts; });
  REQUIRE(pipeline->play());
  REQUIRE(spin_until([&] { return firsts == 1; }, 5000));
  let_frames_pass(*pipeline, 10);
  spin_until([] { return false; }, 100);  // what the frames posted runs
  CHECK(firsts == 1);
  pipeline->stop();
  REQUIRE(pipeline->play());
  REQUIRE(spin_until([&] { return firsts == 2; }, 5000));
  pipeline->stop();
}

TEST_CASE_FIXTURE(Linked, "a gate opened before any keyframe came still starts the branch at one") {
  if (!pipeline) return;      // x264enc missing: skipped
  CHECK_FALSE(gate->open());  // nothing held: the caller would ask for a keyframe
  let_frames_pass(*pipeline, 9);
  CHECK(seen.count() == 0);  // delta frames still kept out
  CHECK_FALSE(first_delivered_is_delta());
}

TEST_CASE_FIXTURE(Linked, "a gate held longer than its span drops what it held and waits for a keyframe again") {
  if (!pipeline) return;  // x264enc missing: skipped
  pipeline->force_keyframe();
  REQUIRE(spin_until([&] { return gate->held() >= 3; }, 5000));
  // Past kMaxHeldSpan (500 ms) of video: the held frames go, delta frames are kept out.
  REQUIRE(spin_until([&] { return gate->held() == 0; }, 3000));
  let_frames_pass(*pipeline, 3);
  CHECK(gate->held() == 0);
  CHECK_FALSE(gate->open());  // nothing held: the caller asks for a keyframe
  CHECK(seen.count() == 0);
  CHECK_FALSE(first_delivered_is_delta());
}

TEST_CASE_FIXTURE(LinkedVp8, "a VP8 stream marks its keyframes too: a branch linked mid-GOP starts at one") {
  if (!pipeline) return;      // vp8enc missing: skipped
  CHECK_FALSE(gate->open());  // no keyframe held yet
  let_frames_pass(*pipeline, 9);
  CHECK(seen.count() == 0);  // rtpvp8pay flags nothing itself: the stream's marks keep delta frames out
  CHECK_FALSE(first_delivered_is_delta());
}

TEST_CASE("viewers of one format share an RTP stream, which goes with the last of them") {
  Seen first, second, third;  // outlive the pipeline, which feeds them on its thread
  auto pipeline = running_mid_gop();
  if (!pipeline) return;  // x264enc missing: skipped
  const std::string other_pt = std::string(kH264).replace(std::string(kH264).find("payload=102"), 11, "payload=106");
  auto a = *pipeline->rtp_stream(RtpFormat{kH264});
  auto b = *pipeline->rtp_stream(RtpFormat{kH264});
  auto c = *pipeline->rtp_stream(RtpFormat{other_pt});
  auto d = *pipeline->rtp_stream(RtpFormat{kH264, 6, 0});  // with the playout-delay extension
  REQUIRE((a && b && c && d));
  CHECK(a == b);
  CHECK(a != c);
  CHECK(a != d);
  CHECK(pipeline->rtp_streams() == 3);
  CHECK(count_elements(*pipeline, "rtph264pay") == 3);
  CHECK(a->caps().find(",ssrc=(uint)") != std::string::npos);
  CHECK(d->caps().find("extmap-6=(string)http://www.webrtc.org/experiments/rtp-hdrext/playout-delay") !=
        std::string::npos);

  // Two branches on one stream get the same packets: one SSRC, one numbering;
  // a frame's packets as one list. A branch on the stream with the extension
  // gets it on its packets, the others do not.
  GstElement *branches[] = {recording_branch(first), recording_branch(second), recording_branch(third)};
  std::vector<std::shared_ptr<BranchGate>> gates;
  for (GstElement *branch : branches) {
    REQUIRE(pipeline->add(branch));
    gates.push_back(*pipeline->link(branch, branch == branches[2] ? *d : *a));
    REQUIRE(gates.back());
    gates.back()->open();
  }
  pipeline->force_keyframe();
  REQUIRE(spin_until([&] { return first.count() >= 5 && second.count() >= 5 && third.count() >= 5; }, 5000));
  for (GstElement *branch : branches) pipeline->detach(branch);
  {
    std::scoped_lock lock(first.mutex, second.mutex, third.mutex);
    CHECK(first.frames[0].key);
    CHECK(second.frames[0].key);
    CHECK(first.frames[0].ssrc == second.frames[0].ssrc);
    CHECK(first.frames[0].pts == second.frames[0].pts);  // both opened before the keyframe
    CHECK(first.frames[0].seq == second.frames[0].seq);
    CHECK(first.lists > 0);
    CHECK_FALSE(first.frames[0].playout_delay);
    CHECK(third.frames[0].playout_delay);
    CHECK(third.frames[0].ssrc != first.frames[0].ssrc);
  }

  b.reset();
  a.reset();
  CHECK(pipeline->rtp_streams() == 2);
  CHECK(spin_until([&] { return count_elements(*pipeline, "rtph264pay") == 2; }, 3000));  // its bin taken out
  c.reset();
  d.reset();
  CHECK(pipeline->rtp_streams() == 0);
  CHECK(spin_until([&] { return count_elements(*pipeline, "rtph264pay") == 0; }, 3000));
}

TEST_CASE_FIXTURE(
    Linked, "a viewer's keyframe request (webrtcbin's, on the browser's PLI) reaches the encoder through its stream") {
  if (!pipeline) return;  // x264enc missing: skipped
  const uint64_t before = pipeline->keyframes();
  let_frames_pass(*pipeline, 9);
  REQUIRE(pipeline->keyframes() == before);  // none by schedule meanwhile (10 s interval)
  // Sent up from the branch's sink, as webrtcbin sends it up from its own.
  auto ghost = sl::adopt(gst_element_get_static_pad(branch, "sink"));
  auto pad = sl::adopt(gst_ghost_pad_get_target(GST_GHOST_PAD(ghost.get())));
  CHECK(gst_pad_push_event(pad.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0)));
  CHECK(spin_until([&] { return pipeline->keyframes() > before; }, 3000));
  detach();
}

TEST_CASE_FIXTURE(Linked, "an error inside an RTP stream ends its viewers, not the camera") {
  if (!pipeline) return;  // x264enc missing: skipped
  record_errors();
  // As the payloader would post it.
  GstIterator *it = gst_bin_iterate_elements(GST_BIN(stream->bin()));
  GValue item = G_VALUE_INIT;
  GstElement *payloader = nullptr;
  while (!payloader && gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto *e = GST_ELEMENT(g_value_get_object(&item));
    if (GST_IS_RTP_BASE_PAYLOAD(e)) payloader = GST_ELEMENT(gst_object_ref(e));
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  REQUIRE(payloader);
  GError *error = g_error_new_literal(GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED, "test: payloading failed");
  gst_element_post_message(payloader, gst_message_new_error(GST_OBJECT(payloader), error, nullptr));
  g_error_free(error);
  gst_object_unref(payloader);
  CHECK(spin_until([&] { return failed != nullptr; }, 3000));
  CHECK(failed == stream->bin());
  CHECK(camera_errors.empty());
  detach();
}

// A branch that refuses what it is given (as webrtcbin's send path may, while it is
// being connected): its refusals reach the send thread through the tees, which
// would end the encoder and every other viewer. They end that branch only.
TEST_CASE_FIXTURE(Linked, "a branch that refuses events and data ends itself, not the camera nor other viewers") {
  if (!pipeline) return;  // x264enc missing: skipped
  record_errors();
  GstElement *bad = gst_bin_new("refusing-branch");
  GstElement *sink = gst_element_factory_make("fakesink", nullptr);
  g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
  gst_bin_add(GST_BIN(bad), sink);
  auto pad = sl::adopt(gst_element_get_static_pad(sink, "sink"));
  gst_pad_set_chain_function(
      pad.get(), +[](GstPad *, GstObject *, GstBuffer *b) {
        gst_buffer_unref(b);
        return GST_FLOW_ERROR;
      });
  gst_pad_set_event_function(
      pad.get(), +[](GstPad *, GstObject *, GstEvent *e) -> gboolean {
        gst_event_unref(e);
        return FALSE;  // stream-start, caps, segment: all refused
      });
  gst_element_add_pad(bad, gst_ghost_pad_new("sink", pad.get()));
  auto held = sl::ref(bad);
  REQUIRE(pipeline->add(bad));
  auto bad_gate = pipeline->link(bad, *stream);
  REQUIRE(bad_gate);
  CHECK_FALSE(gate->open());
  CHECK_FALSE((*bad_gate)->open());
  pipeline->force_keyframe();
  REQUIRE(spin_until([&] { return failed != nullptr; }, 5000));
  CHECK(failed == bad);
  // The other viewer and the camera go on.
  const size_t before = seen.count();
  let_frames_pass(*pipeline, 10);
  CHECK(spin_until([&] { return seen.count() >= before + 8; }, 5000));
  CHECK(camera_errors.empty());
  pipeline->detach(bad);
  REQUIRE(spin_until([&] { return GST_OBJECT_PARENT(held.get()) == nullptr; }, 3000));
  detach();
}

TEST_CASE_FIXTURE(Linked, "viewers' keyframe requests are coalesced and rate-limited on their way to the encoder") {
  if (!pipeline) return;
  // Requests as webrtcbin sends them for a viewer's PLI: up from the branch.
  auto branch_sink = sl::adopt(gst_element_get_static_pad(branch, "sink"));
  auto up = sl::adopt(gst_pad_get_peer(branch_sink.get()));
  REQUIRE(up);
  auto ask = [&] {
    gst_pad_send_event(up.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
  };
  REQUIRE(spin_until([&] { return pipeline->keyframes() > 0; }, 5000));
  spin_until([] { return false; }, 600);  // clear of the first keyframe's interval
  const uint64_t keyframes_before = pipeline->keyframes();
  for (int i = 0; i < 20; ++i) ask();  // twenty viewers lose the same packet
  for (int i = 0; i < 10; ++i) {       // then one asks every 100 ms for a second
    spin_until([] { return false; }, 100);
    ask();
  }
  spin_until([] { return false; }, 700);
  const auto [received, forwarded] = pipeline->keyframe_requests();
  const uint64_t made = pipeline->keyframes() - keyframes_before;
  MESSAGE(received, " keyframe requests, ", forwarded, " passed on, ", made, " keyframes made");
  CHECK(received == 30);
  CHECK(forwarded >= 2);  // the first at once; one held back goes once its interval passed
  CHECK(forwarded <= 5);  // at most one per 500 ms after the first
  CHECK(made <= 5);       // without coalescing: about one per request, 11 or more
}

// Issue 20: a viewer moved to the camera's lower encoding and back on the same
// session sees one RTP stream (the full stream's SSRC, sequence numbers one after
// the other), switched at a keyframe of the encoding it goes to; the lower
// encoding is made for it and taken out when nobody is on it.
TEST_CASE_FIXTURE(Linked, "a viewer moved to the lower encoding and back gets one stream, switched at keyframes") {
  if (!pipeline) return;
  const guint full_ssrc = playing_ssrc(5);
  std::vector<EncodingSwitch::Encoding> switches;
  auto encoding = EncodingSwitch::install(feeding_pad().get(), full_ssrc, [&](auto now) { switches.push_back(now); });
  REQUIRE(encoding);

  auto lower = pipeline->lower_rtp_stream(RtpFormat{kH264}, 100);
  REQUIRE(lower);
  REQUIRE(pipeline->lower());
  CHECK(pipeline->lower()->width == 160);
  CHECK(pipeline->lower()->height == 120);
  size_t before = 0;
  {
    std::lock_guard lock(seen.mutex);
    before = seen.key_payloads.size();
  }
  encoding->to_lower(*lower, pipeline->lower_keyframe_request());
  REQUIRE(spin_until([&] { return switches.size() == 1; }, 5000));
  CHECK(switches[0] == EncodingSwitch::Lower);
  CHECK(encoding->active() == EncodingSwitch::Lower);
  let_frames_pass(*pipeline, 10);
  // Back to the full one at its next keyframe.
  encoding->to_full();
  pipeline->force_keyframe();
  REQUIRE(spin_until([&] { return switches.size() == 2; }, 5000));
  CHECK(switches[1] == EncodingSwitch::Full);
  encoding->to_full();  // lets go of the lower stream, as a session does when told
  lower->reset();
  let_frames_pass(*pipeline, 5);
  CHECK(pipeline->drop_lower_if_unused());
  CHECK_FALSE(pipeline->lower());
  let_frames_pass(*pipeline, 3);

  std::lock_guard lock(seen.mutex);
  // One SSRC, and every sequence number the one after the last: nothing lost, nothing twice.
  for (size_t i = 1; i < seen.numbers.size(); ++i) {
    CHECK(seen.numbers[i].first == full_ssrc);
    if (seen.numbers[i].second != guint16(seen.numbers[i - 1].second + 1)) {
      FAIL_CHECK("packet " << i << ": sequence number " << seen.numbers[i].second << " after "
                           << seen.numbers[i - 1].second);
      break;
    }
  }
  // Keyframes of two encodings: the lower one's parameter sets (its size) differ
  // from the full one's, and the full one's come back after the move back.
  REQUIRE(seen.key_payloads.size() >= before + 2);
  const auto &full_key = seen.key_payloads[before - 1];
  const auto &lower_key = seen.key_payloads[before];
  CHECK(lower_key != full_key);
  CHECK(seen.key_payloads.back() == full_key);
}

// The viewer's requests to resend packets of the encoding it has left are dropped
// before webrtcbin's retransmission sender; those of the one it is on go through.
TEST_CASE_FIXTURE(Linked, "requests to resend the encoding left behind are dropped") {
  if (!pipeline) return;
  const guint full_ssrc = playing_ssrc(3);
  bool moved = false;
  auto encoding = EncodingSwitch::install(feeding_pad().get(), full_ssrc, [&](auto) { moved = true; });
  // A stand-in for the retransmission sender: requests reaching its sink pad went through.
  auto sender = sl::sink(gst_element_factory_make("identity", nullptr));
  auto sender_src = sl::adopt(gst_element_get_static_pad(sender.get(), "src"));
  auto sender_sink = sl::adopt(gst_element_get_static_pad(sender.get(), "sink"));
  auto session = sl::sink(gst_pad_new("session", GST_PAD_SINK));
  REQUIRE(gst_pad_link(sender_src.get(), session.get()) == GST_PAD_LINK_OK);
  gst_pad_set_active(session.get(), TRUE);
  gst_element_set_state(sender.get(), GST_STATE_PLAYING);
  std::vector<guint> passed;
  gst_pad_add_probe(
      sender_sink.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
      [](GstPad *, GstPadProbeInfo *info, gpointer data) {
        guint seq = 0;
        if (auto *s = gst_event_get_structure(GST_PAD_PROBE_INFO_EVENT(info));
            s && gst_structure_get_uint(s, "seqnum", &seq))
          static_cast<std::vector<guint> *>(data)->push_back(seq);
        return GST_PAD_PROBE_DROP;
      },
      &passed, nullptr);
  encoding->guard_retransmissions(sender.get());
  const auto ask = [&](guint seq) {
    gst_pad_push_event(session.get(),
                       gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM,
                                            gst_structure_new("GstRTPRetransmissionRequest", "seqnum", G_TYPE_UINT, seq,
                                                              "ssrc", G_TYPE_UINT, full_ssrc, nullptr)));
  };
  guint16 last_full = 0;
  {
    std::lock_guard lock(seen.mutex);
    last_full = seen.numbers.back().second;
  }
  ask(last_full);  // not moved yet: resent
  auto lower = pipeline->lower_rtp_stream(RtpFormat{kH264}, 100);
  REQUIRE(lower);
  encoding->to_lower(*lower, pipeline->lower_keyframe_request());
  REQUIRE(spin_until([&] { return moved; }, 5000));
  let_frames_pass(*pipeline, 3);
  guint16 now = 0;
  {
    std::lock_guard lock(seen.mutex);
    now = seen.numbers.back().second;
  }
  ask(guint16(now - 200));  // long before the move: the full encoding's
  ask(now);                 // the lower encoding's
  CHECK(passed == std::vector<guint>{last_full, now});
  encoding.reset();
  gst_element_set_state(sender.get(), GST_STATE_NULL);
}

// The lower encoding's failure is its viewers' alone: it reaches the branch
// handler as the lower encoding's (the sessions move its viewers back to the full
// one), never the camera's.
TEST_CASE_FIXTURE(Linked, "an error inside the lower encoding is its own, not the camera's") {
  if (!pipeline) return;
  record_errors();
  auto lower = pipeline->lower_rtp_stream(RtpFormat{kH264}, 100);
  REQUIRE(lower);
  let_frames_pass(*pipeline, 3);
  GstElement *top = GST_ELEMENT(gst_object_get_parent(GST_OBJECT(pipeline->source())));
  auto lower_bin = sl::adopt(gst_bin_get_by_name(GST_BIN(top), "lower-encoding"));
  gst_object_unref(top);
  REQUIRE(lower_bin);
  auto encoder = sl::adopt(gst_bin_get_by_name(GST_BIN(lower_bin.get()), "lowencoder"));
  REQUIRE(encoder);
  GError *error = g_error_new_literal(GST_STREAM_ERROR, GST_STREAM_ERROR_ENCODE, "test: encoding failed");
  gst_element_post_message(encoder.get(), gst_message_new_error(GST_OBJECT(encoder.get()), error, nullptr));
  g_error_free(error);
  CHECK(spin_until([&] { return failed != nullptr; }, 3000));
  CHECK(failed == lower_bin.get());
  CHECK(pipeline->is_lower(failed));
  CHECK_FALSE(pipeline->is_lower(branch));
  CHECK(pipeline->is_lower((*lower)->bin()));
  CHECK(camera_errors.empty());
  lower->reset();
  CHECK(pipeline->drop_lower_if_unused());
}

namespace {
// A camera that sends its own H.264 (the stand-in on the V4L2 path: x264 High,
// no B-frames, a keyframe every 15 frames), passed through as it is. Null when
// x264enc (the stand-in's and the lower encoding's) is missing: the test skips.
std::unique_ptr<CapturePipeline> passed_through() {
  CameraSettings settings;
  settings.id = "cam";
  settings.fps = 30;
  auto pipeline = testing::test_pipeline(settings, "x264enc", "emulate:h264-high");
  if (!pipeline) return nullptr;
  REQUIRE(pipeline->passthrough());
  REQUIRE(pipeline->play());
  REQUIRE(spin_until([&] { return pipeline->keyframes() >= 1; }, 5000));
  return pipeline;
}

// The element named `name` inside the lower encoding's bin; null when there is none.
sl::Owned<GstElement> in_lower_encoding(CapturePipeline &pipeline, const char *name) {
  auto top = sl::adopt(GST_ELEMENT(gst_object_get_parent(GST_OBJECT(pipeline.source()))));
  auto lower_bin = sl::adopt(gst_bin_get_by_name(GST_BIN(top.get()), "lower-encoding"));
  if (!lower_bin) return nullptr;
  return sl::adopt(gst_bin_get_by_name(GST_BIN(lower_bin.get()), name));
}
}  // namespace

// Issue 20: a camera whose own H.264 is passed through gets its lower encoding by
// decoding that H.264 and encoding it again, at half its size, only while a
// viewer is on it; the camera's own stream goes on untouched.
TEST_CASE("a camera passed through makes its lower encoding by decoding its H.264, only while it is used") {
  Seen seen;  // outlives the pipeline: its branch hands it packets until the pipeline stops
  auto pipeline = passed_through();
  if (!pipeline) return;
  CHECK_FALSE(pipeline->lower());
  CHECK(count_elements(*pipeline, "avdec_h264") + count_elements(*pipeline, "v4l2h264dec") == 0);

  auto lower = pipeline->lower_rtp_stream(RtpFormat{kH264}, 150);
  REQUIRE(lower);
  REQUIRE(pipeline->lower());
  CHECK(pipeline->lower()->width == 160);
  CHECK(pipeline->lower()->height == 120);
  CHECK(pipeline->lower()->kbps == 150);
  CHECK(count_elements(*pipeline, "avdec_h264") + count_elements(*pipeline, "v4l2h264dec") == 1);
  CHECK(count_elements(*pipeline, "x264enc") == 2);  // the stand-in camera's, and the lower encoding's
  GstElement *branch = recording_branch(seen);
  REQUIRE(pipeline->add(branch));
  auto gate = pipeline->link(branch, **lower);
  REQUIRE(gate);
  (*gate)->open();
  pipeline->lower_keyframe_request()();
  REQUIRE(spin_until([&] { return seen.count() >= 15; }, 5000));

  // What the lower encoder makes: H.264 pictures of half the camera's size.
  auto encoder = in_lower_encoding(*pipeline, "lowencoder");
  REQUIRE(encoder);
  auto out = sl::adopt(gst_element_get_static_pad(encoder.get(), "src"));
  auto caps = sl::adopt(gst_pad_get_current_caps(out.get()));
  REQUIRE(caps);
  const GstStructure *st = gst_caps_get_structure(caps.get(), 0);
  int width = 0, height = 0;
  CHECK(gst_structure_has_name(st, "video/x-h264"));
  CHECK((gst_structure_get_int(st, "width", &width) && width == 160));
  CHECK((gst_structure_get_int(st, "height", &height) && height == 120));
  CHECK(pipeline->video().width == 320);  // the camera's own stream, as it was
  {
    std::lock_guard lock(seen.mutex);
    CHECK(seen.frames.front().key);  // the lower encoding's viewers start at a keyframe
    for (const auto &frame : seen.frames) CHECK(frame.ssrc == seen.frames.front().ssrc);
  }
  let_frames_pass(*pipeline, 5);  // the camera's own stream goes on meanwhile

  // Unused: taken out, decoder and all.
  CHECK_FALSE(pipeline->drop_lower_if_unused());  // still used
  auto held = sl::ref(branch);
  pipeline->detach(branch);
  lower->reset();
  REQUIRE(spin_until([&] { return GST_OBJECT_PARENT(held.get()) == nullptr; }, 3000));
  CHECK(pipeline->drop_lower_if_unused());
  CHECK_FALSE(pipeline->lower());
  CHECK(spin_until(
      [&] { return count_elements(*pipeline, "avdec_h264") + count_elements(*pipeline, "v4l2h264dec") == 0; }, 3000));
  CHECK(count_elements(*pipeline, "x264enc") == 1);
  let_frames_pass(*pipeline, 5);
  pipeline->stop();
}

// A decoder that fails is the lower encoding's failure, as its encoder's is: it
// reaches the branch handler as the lower encoding's (the sessions move its
// viewers back to the full stream, Sessions::end_for_branch), never the camera's.
TEST_CASE("a failing decoder of a camera passed through is the lower encoding's, not the camera's") {
  auto pipeline = passed_through();
  if (!pipeline) return;
  std::vector<std::string> camera_errors;
  GstElement *failed = nullptr;
  pipeline->set_error_handlers([&](const std::string &what) { camera_errors.push_back(what); },
                               [&](GstElement *bin, const std::string &) { failed = bin; });
  auto lower = pipeline->lower_rtp_stream(RtpFormat{kH264}, 100);
  REQUIRE(lower);
  let_frames_pass(*pipeline, 3);
  auto decoder = in_lower_encoding(*pipeline, "lowdecoder");
  REQUIRE(decoder);
  GError *error = g_error_new_literal(GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE, "test: decoding failed");
  gst_element_post_message(decoder.get(), gst_message_new_error(GST_OBJECT(decoder.get()), error, nullptr));
  g_error_free(error);
  REQUIRE(spin_until([&] { return failed != nullptr; }, 3000));
  CHECK(pipeline->is_lower(failed));
  CHECK(camera_errors.empty());
  lower->reset();
  CHECK(pipeline->drop_lower_if_unused());
  let_frames_pass(*pipeline, 5);  // the camera goes on
  CHECK(pipeline->running());
  pipeline->stop();
}

// Viewers' congestion feedback is read for every camera (a thin path is seen, and
// gets the lower encoding) except a fan-out worker's WHEP source (docs/fanout.md).
TEST_CASE("congestion feedback is read except for a fan-out worker's WHEP source") {
  gst_init(nullptr, nullptr);
  CameraSettings settings;
  settings.id = "cam";
  settings.source = "whep:http://127.0.0.1:9/whep/cam";
  auto worker = CapturePipeline::create(settings);
  REQUIRE(worker);
  CHECK((*worker)->passthrough());
  CHECK_FALSE((*worker)->reads_congestion_feedback());
  if (auto camera = passed_through()) {
    CHECK(camera->reads_congestion_feedback());
    camera->stop();
  }
  if (auto own = testing::test_pipeline(CameraSettings{})) CHECK(own->reads_congestion_feedback());
}
