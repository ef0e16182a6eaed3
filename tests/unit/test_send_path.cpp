// send_path::trim on the layout webrtcbin 1.22 builds behind a sink pad (a ghost
// pad onto clocksync, then a bin of rtpulpfecenc ! rtpredenc, then the funnel), made
// here from the same elements: trimmed only when all of it passes packets through
// unchanged, and then packets, buffer lists whole, go straight to the funnel.
#include "viewers/send_path.hpp"

#include "gobj.hpp"

#include <doctest/doctest.h>
#include <gst/rtp/rtp.h>

#include <atomic>

using namespace sl;

namespace {

struct Arrivals {
  std::atomic<int> buffers{0};
  std::atomic<int> lists{0};
};

// webrtc (a bin) with sink_0 -> clocksync -> fec bin -> funnel -> fakesink.
struct Layout {
  Owned<GstElement> pipeline;
  GstElement *webrtc = nullptr;
  GstElement *ulpfec = nullptr;
  GstElement *red = nullptr;
  GstPad *sink = nullptr;  // webrtc's sink_0
  Arrivals arrivals;

  explicit Layout(bool connected = true) {
    gst_init(nullptr, nullptr);
    pipeline = sl::sink(gst_pipeline_new(nullptr));
    webrtc = gst_bin_new("webrtc");
    gst_bin_add(GST_BIN(pipeline.get()), webrtc);
    GstElement *clocksync = gst_element_factory_make("clocksync", nullptr);
    g_object_set(clocksync, "sync", FALSE, nullptr);
    GstElement *fec = gst_bin_new(nullptr);
    ulpfec = gst_element_factory_make("rtpulpfecenc", nullptr);
    red = gst_element_factory_make("rtpredenc", nullptr);
    REQUIRE(clocksync);
    REQUIRE(ulpfec);
    REQUIRE(red);
    // What webrtcbin sets when neither FEC nor RED is negotiated (pt 255 is
    // rtpulpfecenc's default).
    g_object_set(red, "pt", 0, "allow-no-red-blocks", FALSE, nullptr);
    gst_bin_add_many(GST_BIN(fec), ulpfec, red, nullptr);
    REQUIRE(gst_element_link(ulpfec, red));
    add_ghost(fec, ulpfec, "sink");
    add_ghost(fec, red, "src");
    GstElement *funnel = gst_element_factory_make("funnel", nullptr);
    GstElement *out = gst_element_factory_make("fakesink", nullptr);
    g_object_set(out, "sync", FALSE, nullptr);
    gst_bin_add_many(GST_BIN(webrtc), clocksync, fec, funnel, out, nullptr);
    REQUIRE(gst_element_link_many(clocksync, fec, funnel, out, nullptr));
    auto target = adopt(gst_element_get_static_pad(clocksync, "sink"));
    sink = gst_ghost_pad_new_no_target("sink_0", GST_PAD_SINK);
    if (connected) gst_ghost_pad_set_target(GST_GHOST_PAD(sink), target.get());
    gst_element_add_pad(webrtc, sink);
    auto counted = adopt(gst_element_get_static_pad(out, "sink"));
    gst_pad_add_probe(
        counted.get(), GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
        [](GstPad *, GstPadProbeInfo *info, gpointer data) {
          auto *a = static_cast<Arrivals *>(data);
          (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST ? a->lists : a->buffers)++;
          return GST_PAD_PROBE_OK;
        },
        &arrivals, nullptr);
    REQUIRE(gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  }
  ~Layout() { gst_element_set_state(pipeline.get(), GST_STATE_NULL); }

  static void add_ghost(GstElement *bin, GstElement *inner, const char *name) {
    auto pad = adopt(gst_element_get_static_pad(inner, name));
    gst_element_add_pad(bin, gst_ghost_pad_new(name, pad.get()));
  }

  bool has(const char *factory) const {
    bool found = false;
    GstIterator *it = gst_bin_iterate_recurse(GST_BIN(webrtc));
    GValue v = G_VALUE_INIT;
    while (gst_iterator_next(it, &v) == GST_ITERATOR_OK) {
      GstElementFactory *f = gst_element_get_factory(GST_ELEMENT(g_value_get_object(&v)));
      found = found || (f && g_strcmp0(GST_OBJECT_NAME(f), factory) == 0);
      g_value_reset(&v);
    }
    gst_iterator_free(it);
    return found;
  }

  // Three RTP packets of one frame, in one list, the way a payloader pushes them.
  GstFlowReturn push_frame() {
    static guint16 seq = 0;
    GstBufferList *list = gst_buffer_list_new();
    for (int i = 0; i < 3; i++) {
      GstBuffer *b = gst_rtp_buffer_new_allocate(100, 0, 0);
      GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
      gst_rtp_buffer_map(b, GST_MAP_WRITE, &rtp);
      gst_rtp_buffer_set_payload_type(&rtp, 96);
      gst_rtp_buffer_set_ssrc(&rtp, 1234);
      gst_rtp_buffer_set_seq(&rtp, seq++);
      gst_rtp_buffer_set_marker(&rtp, i == 2);
      gst_rtp_buffer_unmap(&rtp);
      GST_BUFFER_PTS(b) = 0;
      gst_buffer_list_add(list, b);
    }
    return gst_pad_chain_list(sink, list);
  }

  void start_stream() {
    gst_pad_send_event(sink, gst_event_new_stream_start("test"));
    GstCaps *caps =
        gst_caps_from_string("application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000");
    gst_pad_send_event(sink, gst_event_new_caps(caps));
    gst_caps_unref(caps);
    GstSegment segment;
    gst_segment_init(&segment, GST_FORMAT_TIME);
    gst_pad_send_event(sink, gst_event_new_segment(&segment));
  }
};

}  // namespace

TEST_CASE("a pass-through path is trimmed, and a frame's packets then reach the funnel as one list") {
  Layout l;
  l.start_stream();
  // As webrtcbin made it: rtpulpfecenc takes packets one by one.
  REQUIRE(l.push_frame() == GST_FLOW_OK);
  CHECK(l.arrivals.buffers.load() == 3);
  CHECK(l.arrivals.lists.load() == 0);

  CHECK(sl::agent::send_path::trim(l.webrtc, 0));
  CHECK_FALSE(l.has("clocksync"));
  CHECK_FALSE(l.has("rtpulpfecenc"));
  CHECK_FALSE(l.has("rtpredenc"));
  REQUIRE(l.push_frame() == GST_FLOW_OK);
  CHECK(l.arrivals.buffers.load() == 3);
  CHECK(l.arrivals.lists.load() == 1);
  CHECK_FALSE(sl::agent::send_path::trim(l.webrtc, 0));  // nothing left to take out
}

TEST_CASE("a path with FEC or RED at work, or not connected yet, is left as it is") {
  SUBCASE("FEC negotiated") {
    Layout l;
    g_object_set(l.ulpfec, "pt", 100u, "percentage", 20u, nullptr);
    CHECK_FALSE(sl::agent::send_path::trim(l.webrtc, 0));
    CHECK(l.has("rtpulpfecenc"));
    CHECK(l.has("clocksync"));
  }
  SUBCASE("RED negotiated") {
    Layout l;
    g_object_set(l.red, "pt", 101, "allow-no-red-blocks", TRUE, nullptr);
    CHECK_FALSE(sl::agent::send_path::trim(l.webrtc, 0));
    CHECK(l.has("rtpredenc"));
  }
  SUBCASE("the pad not connected to the RTP session yet") {
    Layout l(false);
    CHECK_FALSE(sl::agent::send_path::trim(l.webrtc, 0));
    CHECK(l.has("clocksync"));
  }
  SUBCASE("another m-line") {
    Layout l;
    CHECK_FALSE(sl::agent::send_path::trim(l.webrtc, 1));
    CHECK(l.has("clocksync"));
  }
}

TEST_CASE("announce_input gives the pad its stream-start and caps before any data") {
  Layout l;
  GstCaps *caps = gst_caps_from_string("application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000");
  sl::agent::send_path::announce_input(l.webrtc, 0, "sightline-test", caps);
  gst_caps_unref(caps);
  GstCaps *current = gst_pad_get_current_caps(l.sink);
  REQUIRE(current);
  CHECK(gst_structure_has_name(gst_caps_get_structure(current, 0), "application/x-rtp"));
  gst_caps_unref(current);
  GstEvent *start = gst_pad_get_sticky_event(l.sink, GST_EVENT_STREAM_START, 0);
  REQUIRE(start);
  const gchar *id = nullptr;
  gst_event_parse_stream_start(start, &id);
  CHECK(std::string(id) == "sightline-test");
  gst_event_unref(start);
}
