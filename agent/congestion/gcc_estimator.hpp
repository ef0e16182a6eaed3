// What a viewer's path carries, estimated at the sender from the browser's
// transport-wide congestion control feedback, in the manner of Google Congestion
// Control (draft-ietf-rmcat-gcc-02): a delay-based part (the trend of one-way
// delay variation between groups of packets: a queue building up means the path
// is full) and a loss-based part, the target being the lower of the two. Plain
// logic, no sockets and no clock of its own: packets sent and feedback go in with
// their times, the target bitrate comes out (docs/adaptation.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

namespace sl::agent {

// One packet as the feedback reports it: its transport-wide sequence number
// (unwrapped) and when it arrived at the browser, on the browser's clock
// (nullopt: reported lost).
struct PacketArrival {
  int64_t seq = 0;
  std::optional<int64_t> arrival_us;
};

enum class BandwidthUsage { Normal, Overusing, Underusing };

// The delay-based detector: packets grouped by send time (5 ms bursts), the delay
// variation between consecutive groups accumulated and smoothed, its trend over
// the last 20 groups (least squares), compared with an adaptive threshold.
class TrendlineDetector {
 public:
  // A complete group: send and arrival time of its last packet, and when it arrived here.
  BandwidthUsage update(double send_delta_ms, double arrival_delta_ms, double arrival_ms);
  BandwidthUsage state() const { return state_; }
  double threshold_ms() const { return threshold_; }

 private:
  void adapt_threshold(double modified_trend, double arrival_ms);

  double accumulated_ = 0;
  double smoothed_ = 0;
  std::optional<double> first_arrival_ms_;
  std::deque<std::pair<double, double>> window_;  // (arrival ms since the first, smoothed delay)
  size_t samples_ = 0;
  double threshold_ = 12.5;
  std::optional<double> last_threshold_update_ms_;
  double time_overusing_ms_ = -1;
  int overuse_count_ = 0;
  double previous_trend_ = 0;
  double previous_arrival_ms_ = 0;
  BandwidthUsage state_ = BandwidthUsage::Normal;
};

class GccEstimator {
 public:
  struct Limits {
    int min_bps = 100'000;
    int max_bps = 2'000'000;  // the camera's configured bitrate: never more
    int start_bps = 1'000'000;
  };
  explicit GccEstimator(Limits limits);

  // A packet that left, by transport-wide sequence number (unwrapped), with its size.
  void sent(int64_t seq, int64_t send_us, size_t bytes);
  // One feedback report, received at `now_us` (the sender's clock).
  void feedback(int64_t now_us, const std::vector<PacketArrival> &packets);

  int target_bps() const;
  // A new ceiling (the camera's configured bitrate changed).
  void set_max_bps(int bps) { limits_.max_bps = bps > limits_.min_bps ? bps : limits_.min_bps; }
  int delay_based_bps() const { return int(delay_target_); }
  int loss_based_bps() const { return int(loss_target_); }
  // What the browser received lately (bit/s), from the feedback; 0 until known.
  int acked_bps() const { return int(acked_bps_); }
  double loss_fraction() const { return loss_fraction_; }
  BandwidthUsage usage() const { return detector_.state(); }

 private:
  struct Sent {
    int64_t send_us = 0;
    size_t bytes = 0;
  };
  struct Group {
    int64_t first_send_us = 0;
    int64_t last_send_us = 0;
    int64_t last_arrival_us = 0;
  };
  void on_arrival(int64_t send_us, int64_t arrival_us, int64_t now_us);
  void update_acked(int64_t arrival_us, size_t bytes);
  void update_delay_based(int64_t now_us, BandwidthUsage usage);
  void update_loss_based(int64_t now_us, int lost, int total);

  Limits limits_;
  std::map<int64_t, Sent> history_;  // packets sent and not yet reported, oldest first
  std::optional<Group> group_, previous_group_;
  TrendlineDetector detector_;

  // The acked bitrate: received bytes by arrival time over a sliding window.
  std::deque<std::pair<int64_t, size_t>> received_;
  size_t received_bytes_ = 0;
  double acked_bps_ = 0;

  // Delay-based rate control (AIMD): increase while normal, hold while the
  // queue drains, decrease below what was received on overuse.
  enum class Control { Hold, Increase, Decrease };
  Control control_ = Control::Increase;
  double delay_target_;
  std::optional<int64_t> last_control_us_;
  std::optional<int64_t> last_decrease_us_;
  double link_capacity_kbps_ = -1;  // average received at decreases (-1: unknown)
  double link_capacity_var_ = 0.4;

  // Loss-based control.
  double loss_target_;
  double loss_fraction_ = 0;
  int loss_lost_ = 0, loss_total_ = 0;
  std::optional<int64_t> loss_since_us_;  // the start of the loss interval being counted
  std::optional<int64_t> last_loss_update_us_;
};

}  // namespace sl::agent
