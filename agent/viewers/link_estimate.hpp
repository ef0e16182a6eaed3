// What one viewer's path carries, estimated while it plays: the browser's
// transport-wide congestion control feedback (negotiated in the answer: the
// transport-cc header extension and RTCP feedback) goes through webrtcbin's RTP
// session, which stamps each packet with the viewer's own transport-wide sequence
// number, records when it left, reads the browser's reports and sends them up the
// viewer's sink pad as "RTPTWCCPackets" events (what gst-plugins-rs's rtpgccbwe
// reads too). This takes those events off the pad, feeds them to the estimator
// (congestion/gcc_estimator.hpp) and says each new target (docs/adaptation.md).
#pragma once

#include "congestion/gcc_estimator.hpp"
#include "congestion/twcc_feedback.hpp"
#include "gobj.hpp"

#include <gst/gst.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace sl::agent {

// The encoder's share of what a path carries: the rest for the sound, the
// retransmissions and the packets' headers beyond the ones counted.
inline constexpr double kEncoderShare = 0.9;
// The most a viewer's path is estimated at: what the configured bitrate needs
// with its share of the rest, so a path that carries everything leaves the
// encoder at the configured bitrate (viewers/sessions.cpp), not 10% under it.
inline int path_ceiling_bps(int configured_kbps) { return int(configured_kbps * 1000 / kEncoderShare); }

// One packet of an "RTPTWCCPackets" event: its 16-bit transport-wide sequence
// number, when it left (the session's running time, µs) and arrived (the
// browser's clock, µs), each unknown or lost when absent, and its payload size.
struct TwccPacket {
  uint16_t seq = 0;
  int payload_type = -1;
  std::optional<int64_t> sent_us;
  std::optional<int64_t> arrived_us;
  size_t payload_bytes = 0;
};

// The packets of `event` when it is rtpsession's "RTPTWCCPackets", else nullopt.
std::optional<std::vector<TwccPacket>> read_twcc_event(GstEvent *event);

// What each packet costs on the wire beyond its payload: RTP (12) with the
// extensions (~12), SRTP's tag (10), UDP (8), IPv4 (20).
inline constexpr size_t kPacketOverheadBytes = 62;

class LinkEstimate {
 public:
  // `on_target` is called on the thread that carries the viewer's RTCP, with each
  // media target that differs by 2% or more from the last one said: the path's
  // target less what retransmissions took of it lately. The camera's packets are
  // of `media_pt`; the others reported (of the RTX payload type) are resent ones.
  LinkEstimate(GccEstimator::Limits limits, int media_pt, std::function<void(int bps)> on_target);
  ~LinkEstimate();
  LinkEstimate(const LinkEstimate &) = delete;
  LinkEstimate &operator=(const LinkEstimate &) = delete;

  // Starts reading the events leaving `pad` upstream (webrtcbin's sink pad of
  // the viewer's video) and drops them there: they are of this viewer only.
  void watch(GstPad *pad);
  // One report; `now_us` on the monotonic clock. Public for the unit test.
  void feedback(int64_t now_us, const std::vector<TwccPacket> &packets);
  // The camera's configured bitrate changed (set_video): the new ceiling.
  void set_max_bps(int bps);
  int target_bps() const;        // for everything sent to the viewer (bit/s on the wire)
  int media_target_bps() const;  // for the camera's own packets
  int acked_bps() const;

 private:
  struct State;
  static void feed(State &state, int64_t now_us, const std::vector<TwccPacket> &packets);
  std::shared_ptr<State> state_;
  Owned<GstPad> pad_;
  gulong probe_ = 0;
};

}  // namespace sl::agent
