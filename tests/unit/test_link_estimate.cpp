// A viewer's path estimated from rtpsession's "RTPTWCCPackets" events
// (viewers/link_estimate.hpp): the event read as rtpsession writes it, and the
// estimate following what the reports say of the path.
#include "viewers/link_estimate.hpp"

#include <gst/gst.h>

#include <doctest/doctest.h>

#include <vector>

using namespace sl::agent;

namespace {

struct Reported {
  guint seq;
  GstClockTime local, remote;
  guint size;
};

// An upstream event as gstrtpsession sends it (rtptwcc.c: a GValueArray of
// "RTPTWCCPacket" structures under "packets").
GstEvent *twcc_event(const std::vector<Reported> &packets) {
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  GValueArray *array = g_value_array_new(guint(packets.size()));
  for (const auto &p : packets) {
    GValue v = G_VALUE_INIT;
    g_value_init(&v, GST_TYPE_STRUCTURE);
    GstStructure *s =
        gst_structure_new("RTPTWCCPacket", "seqnum", G_TYPE_UINT, p.seq, "local-ts", G_TYPE_UINT64, p.local,
                          "remote-ts", G_TYPE_UINT64, p.remote, "payload-type", G_TYPE_UCHAR, guchar(96), "size",
                          G_TYPE_UINT, p.size, "lost", G_TYPE_BOOLEAN, !GST_CLOCK_TIME_IS_VALID(p.remote), nullptr);
    gst_value_set_structure(&v, s);
    gst_structure_free(s);
    g_value_array_append(array, &v);
    g_value_unset(&v);
  }
  GstStructure *s = gst_structure_new_empty("RTPTWCCPackets");
  GValue list = G_VALUE_INIT;
  g_value_init(&list, g_value_array_get_type());
  g_value_take_boxed(&list, array);
  gst_structure_take_value(s, "packets", &list);
  G_GNUC_END_IGNORE_DEPRECATIONS
  return gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, s);
}

// A path of `capacity_bps` fed at `send_bps` in 1200-byte packets, 30 frames a
// second, reported every 100 ms: the queue grows by what the path cannot carry.
struct Path {
  double capacity_bps;
  guint seq = 65500;  // wraps within the test
  double queue_s = 0;
  int64_t clock_us = 0;
  std::vector<TwccPacket> next_report(double send_bps) {
    std::vector<TwccPacket> out;
    const double frame_s = 1.0 / 30;
    for (int f = 0; f < 3; ++f) {
      const int packets = std::max(1, int(send_bps * frame_s / 8 / 1200));
      for (int i = 0; i < packets; ++i) {
        const int64_t sent = clock_us + i * 100;
        queue_s = std::max(0.0, queue_s - 100e-6) + 1262 * 8 / capacity_bps;
        TwccPacket p;
        p.seq = uint16_t(seq++);
        p.sent_us = sent;
        p.arrived_us = sent + 20000 + int64_t(queue_s * 1e6);
        p.payload_bytes = 1200;
        out.push_back(p);
      }
      queue_s = std::max(0.0, queue_s - (frame_s - packets * 100e-6));
      clock_us += int64_t(frame_s * 1e6);
    }
    return out;
  }
};

}  // namespace

TEST_CASE("rtpsession's TWCC event is read: sent and arrival times, lost packets, sizes") {
  gst_init(nullptr, nullptr);
  GstEvent *event = twcc_event({{7, 2 * GST_MSECOND, 50 * GST_MSECOND, 1100},
                                {8, 3 * GST_MSECOND, GST_CLOCK_TIME_NONE, 900},
                                {9, GST_CLOCK_TIME_NONE, 52 * GST_MSECOND, 800}});
  auto read = read_twcc_event(event);
  gst_event_unref(event);
  REQUIRE(read);
  REQUIRE(read->size() == 3);
  CHECK((*read)[0].seq == 7);
  CHECK((*read)[0].sent_us == 2000);
  CHECK((*read)[0].arrived_us == 50000);
  CHECK((*read)[0].payload_bytes == 1100);
  CHECK_FALSE((*read)[1].arrived_us);  // lost
  CHECK_FALSE((*read)[2].sent_us);     // not known as sent
  // Other events pass untouched.
  GstEvent *other = gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, gst_structure_new_empty("GstForceKeyUnit"));
  CHECK_FALSE(read_twcc_event(other));
  gst_event_unref(other);
  GstEvent *eos = gst_event_new_eos();
  CHECK_FALSE(read_twcc_event(eos));
  gst_event_unref(eos);
}

TEST_CASE("the estimate falls under a path that carries less, and says each clear change once") {
  std::vector<int> said;
  GccEstimator::Limits limits;
  limits.max_bps = 2'000'000;
  limits.start_bps = 2'000'000;
  LinkEstimate link(limits, 96, [&](int bps) { said.push_back(bps); });
  Path path{1'000'000};
  int64_t now = 0;
  double targets = 0, acked = 0;
  for (int i = 0; i < 150; ++i) {  // 15 s of reports, sending what the estimate says
    now += 100000;
    link.feedback(now, path.next_report(link.target_bps()));
    if (i >= 100) targets += link.target_bps() / 50.0, acked += link.acked_bps() / 50.0;
  }
  // The last 5 s: around what the path carries (the AIMD saw-tooth), the queue kept short.
  CHECK(targets < 1'100'000);
  CHECK(targets > 700'000);
  CHECK(acked > 700'000);
  CHECK(path.queue_s < 0.3);
  REQUIRE(said.size() >= 2);
  CHECK(said.front() == 2'000'000);
  for (size_t i = 1; i < said.size(); ++i)  // nothing said twice, no step under 2%
    CHECK(std::abs(said[i] - said[i - 1]) >= 0.02 * said[i - 1]);
  CHECK(std::abs(said.back() - link.target_bps()) < 0.02 * said.back());
}

TEST_CASE("the estimate stays at the ceiling on a path that carries it, and follows a new ceiling") {
  GccEstimator::Limits limits;
  limits.max_bps = 2'000'000;
  limits.start_bps = 2'000'000;
  LinkEstimate link(limits, 96, [](int) {});
  Path path{20'000'000};
  int64_t now = 0;
  for (int i = 0; i < 50; ++i) {
    now += 100000;
    link.feedback(now, path.next_report(link.target_bps()));
  }
  CHECK(link.target_bps() == 2'000'000);
  link.set_max_bps(1'000'000);  // set_video lowered the camera's bitrate
  CHECK(link.target_bps() == 1'000'000);
}
