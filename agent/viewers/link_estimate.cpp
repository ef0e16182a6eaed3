#include "link_estimate.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <tuple>

GST_DEBUG_CATEGORY_STATIC(sl_link_debug);
#define GST_CAT_DEFAULT sl_link_debug

namespace sl::agent {

namespace {
// Targets closer than this to the last one said are not said again.
constexpr double kTargetStep = 0.02;
// The window over which the retransmissions' share of what was sent is taken.
constexpr int64_t kShareWindowUs = 1'000'000;
constexpr double kMinMediaShare = 0.5;
}  // namespace

std::optional<std::vector<TwccPacket>> read_twcc_event(GstEvent *event) {
  if (GST_EVENT_TYPE(event) != GST_EVENT_CUSTOM_UPSTREAM) return std::nullopt;
  const GstStructure *s = gst_event_get_structure(event);
  if (!s || !gst_structure_has_name(s, "RTPTWCCPackets")) return std::nullopt;
  std::vector<TwccPacket> out;
  const GValue *list = gst_structure_get_value(s, "packets");
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS  // rtpsession hands the packets as a GValueArray
      GValueArray *array =
          list && G_VALUE_HOLDS(list, g_value_array_get_type()) ? static_cast<GValueArray *>(g_value_get_boxed(list))
                                                                : nullptr;
  for (guint i = 0; array && i < array->n_values; ++i) {
    const GValue *v = g_value_array_get_nth(array, i);
    if (!GST_VALUE_HOLDS_STRUCTURE(v)) continue;
    const GstStructure *p = gst_value_get_structure(v);
    guint seq = 0, size = 0;
    guchar pt = 0;
    guint64 local = GST_CLOCK_TIME_NONE, remote = GST_CLOCK_TIME_NONE;
    gboolean lost = FALSE;
    if (!gst_structure_get_uint(p, "seqnum", &seq)) continue;
    gst_structure_get_uint64(p, "local-ts", &local);
    gst_structure_get_uint64(p, "remote-ts", &remote);
    gst_structure_get_uint(p, "size", &size);
    gst_structure_get_boolean(p, "lost", &lost);
    TwccPacket packet;
    packet.seq = uint16_t(seq);
    if (const GValue *type = gst_structure_get_value(p, "payload-type"); type && G_VALUE_HOLDS_UCHAR(type)) {
      pt = g_value_get_uchar(type);
      packet.payload_type = pt;
    }
    if (GST_CLOCK_TIME_IS_VALID(local)) packet.sent_us = int64_t(local / 1000);
    if (!lost && GST_CLOCK_TIME_IS_VALID(remote)) packet.arrived_us = int64_t(remote / 1000);
    packet.payload_bytes = size;
    out.push_back(packet);
  }
  G_GNUC_END_IGNORE_DEPRECATIONS
  return out;
}

struct LinkEstimate::State {
  State(GccEstimator::Limits limits, int pt, std::function<void(int)> said)
      : estimator(limits), media_pt(pt), on_target(std::move(said)) {}
  // The camera's packets get at least kMinMediaShare of the target: retransmissions
  // that took more (after a burst of loss, or after a move to another encoding, of
  // packets the viewer no longer needs) would otherwise lower the encoder, so that
  // they took a still larger share, down to nothing (measured: 77 kbit/s to 1 in 1.8 s).
  int media_target() const {
    const double share = media_bytes >= sent_bytes ? 1.0 : double(media_bytes) / double(sent_bytes);
    return int(double(estimator.target_bps()) * std::max(share, kMinMediaShare));
  }
  std::mutex mutex;
  GccEstimator estimator;
  SeqUnwrapper unwrapper;
  int media_pt;
  std::function<void(int)> on_target;
  int said_bps = 0;
  // Packets reported over the last kShareWindowUs: (sent µs, bytes, the camera's own).
  std::deque<std::tuple<int64_t, size_t, bool>> recent;
  size_t sent_bytes = 0, media_bytes = 0;
};

LinkEstimate::LinkEstimate(GccEstimator::Limits limits, int media_pt, std::function<void(int bps)> on_target)
    : state_(std::make_shared<State>(limits, media_pt, std::move(on_target))) {
  static const bool category = [] {
    GST_DEBUG_CATEGORY_INIT(sl_link_debug, "sightline-link", 0, "Sightline: each viewer's path estimated");
    return true;
  }();
  (void)category;
}

LinkEstimate::~LinkEstimate() {
  if (pad_ && probe_) gst_pad_remove_probe(pad_.get(), probe_);
}

void LinkEstimate::watch(GstPad *pad) {
  pad_ = ref(pad);
  // The probe keeps the state alive while it may still run on the RTCP thread.
  probe_ = gst_pad_add_probe(
      pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
      [](GstPad *, GstPadProbeInfo *info, gpointer data) -> GstPadProbeReturn {
        auto packets = read_twcc_event(GST_PAD_PROBE_INFO_EVENT(info));
        if (!packets) return GST_PAD_PROBE_OK;
        auto &state = *static_cast<std::shared_ptr<State> *>(data);
        LinkEstimate::feed(*state, g_get_monotonic_time(), *packets);
        return GST_PAD_PROBE_DROP;
      },
      new std::shared_ptr<State>(state_), [](gpointer d) { delete static_cast<std::shared_ptr<State> *>(d); });
}

void LinkEstimate::feedback(int64_t now_us, const std::vector<TwccPacket> &packets) { feed(*state_, now_us, packets); }

void LinkEstimate::feed(State &state, int64_t now_us, const std::vector<TwccPacket> &packets) {
  int said = 0;
  {
    std::lock_guard lock(state.mutex);
    std::vector<PacketArrival> arrivals;
    arrivals.reserve(packets.size());
    for (const auto &p : packets) {
      const int64_t seq = state.unwrapper.unwrap(p.seq);
      // Sent and reported at once: rtpsession kept the send times.
      if (p.sent_us) {
        const size_t bytes = p.payload_bytes + kPacketOverheadBytes;
        state.estimator.sent(seq, *p.sent_us, bytes);
        const bool media = p.payload_type < 0 || p.payload_type == state.media_pt;
        state.recent.emplace_back(*p.sent_us, bytes, media);
        state.sent_bytes += bytes;
        state.media_bytes += media ? bytes : 0;
      }
      arrivals.push_back(PacketArrival{seq, p.arrived_us});
    }
    while (!state.recent.empty() &&
           std::get<0>(state.recent.front()) < std::get<0>(state.recent.back()) - kShareWindowUs) {
      const auto &[sent, bytes, media] = state.recent.front();
      state.sent_bytes -= bytes;
      state.media_bytes -= media ? bytes : 0;
      state.recent.pop_front();
    }
    state.estimator.feedback(now_us, arrivals);
    const int target = state.media_target();
    const auto &e = state.estimator;
    GST_LOG(
        "%zu packets (%zu lost): received %d kbit/s, loss %.1f%%, delay-based %d, loss-based %d kbit/s, "
        "media %.0f%% of what was sent, %s",
        packets.size(), size_t(std::count_if(packets.begin(), packets.end(), [](auto &p) { return !p.arrived_us; })),
        e.acked_bps() / 1000, e.loss_fraction() * 100, e.delay_based_bps() / 1000, e.loss_based_bps() / 1000,
        state.sent_bytes ? 100.0 * double(state.media_bytes) / double(state.sent_bytes) : 100.0,
        e.usage() == BandwidthUsage::Overusing    ? "overuse"
        : e.usage() == BandwidthUsage::Underusing ? "underuse"
                                                  : "normal");
    if (state.said_bps == 0 || std::abs(target - state.said_bps) >= kTargetStep * state.said_bps) {
      state.said_bps = target;
      said = target;
    }
  }
  if (said && state.on_target) state.on_target(said);
}

void LinkEstimate::set_max_bps(int bps) {
  std::lock_guard lock(state_->mutex);
  state_->estimator.set_max_bps(bps);
}

int LinkEstimate::target_bps() const {
  std::lock_guard lock(state_->mutex);
  return state_->estimator.target_bps();
}

int LinkEstimate::media_target_bps() const {
  std::lock_guard lock(state_->mutex);
  return state_->media_target();
}

int LinkEstimate::acked_bps() const {
  std::lock_guard lock(state_->mutex);
  return state_->estimator.acked_bps();
}

}  // namespace sl::agent
