#include "gcc_estimator.hpp"

#include <algorithm>
#include <cmath>

namespace sl::agent {

namespace {
// The draft's and libwebrtc's constants.
constexpr int64_t kBurstUs = 5000;            // packets sent within 5 ms form one group
constexpr size_t kTrendWindow = 20;           // groups in the trend's regression
constexpr double kSmoothing = 0.9;            // of the accumulated delay
constexpr double kTrendGain = 4;              // the trend, scaled before it meets the threshold
constexpr double kOveruseTimeMs = 10;         // over the threshold this long: overuse
constexpr double kThresholdUp = 0.0087;       // the threshold follows the trend up slowly...
constexpr double kThresholdDown = 0.039;      // ...and down faster
constexpr double kBeta = 0.85;                // on overuse: this share of what was received
constexpr int64_t kDecreaseEveryUs = 200000;  // at most one decrease per round trip or so
constexpr int64_t kAckedWindowUs = 500000;
constexpr int64_t kHistoryUs = 10'000'000;   // a packet never reported is forgotten after this
constexpr int kLossPackets = 20;             // the loss fraction is judged over at least this many packets
constexpr int64_t kLossIntervalUs = 500000;  // and this long: a few packets more or less lost is noise
constexpr double kLossLow = 0.02, kLossHigh = 0.10;
constexpr double kPacketBits = 1200 * 8;
constexpr double kResponseMs = 200;  // a round trip and the feedback interval
// The capacity last seen is believed this long after the last decrease; then the
// search is multiplicative again. libwebrtc finds a widened path by probing
// (bursts paced above the target); an encoder cannot burst on demand, so a path
// that has stayed clear this long is searched for again instead.
constexpr int64_t kCapacityMemoryUs = 4'000'000;
// How fast the delay-based target grows while no capacity is known: 12% a second
// (libwebrtc: 8%, with probes to find a widened path at once), so that a path
// that widens is filled again within the 15 s issue 20 allows.
constexpr double kSearchGrowth = 1.12;

double slope(const std::deque<std::pair<double, double>> &points) {
  double mean_x = 0, mean_y = 0;
  for (const auto &[x, y] : points) {
    mean_x += x;
    mean_y += y;
  }
  mean_x /= double(points.size());
  mean_y /= double(points.size());
  double num = 0, den = 0;
  for (const auto &[x, y] : points) {
    num += (x - mean_x) * (y - mean_y);
    den += (x - mean_x) * (x - mean_x);
  }
  return den == 0 ? 0 : num / den;
}
}  // namespace

BandwidthUsage TrendlineDetector::update(double send_delta_ms, double arrival_delta_ms, double arrival_ms) {
  ++samples_;
  accumulated_ += arrival_delta_ms - send_delta_ms;
  smoothed_ = kSmoothing * smoothed_ + (1 - kSmoothing) * accumulated_;
  if (!first_arrival_ms_) first_arrival_ms_ = arrival_ms;
  window_.emplace_back(arrival_ms - *first_arrival_ms_, smoothed_);
  if (window_.size() > kTrendWindow) window_.pop_front();
  const double trend = window_.size() == kTrendWindow ? slope(window_) : previous_trend_;

  const double modified = double(std::min<size_t>(samples_, 60)) * trend * kTrendGain;
  if (modified > threshold_) {
    time_overusing_ms_ = time_overusing_ms_ < 0 ? send_delta_ms / 2 : time_overusing_ms_ + send_delta_ms;
    ++overuse_count_;
    if (time_overusing_ms_ > kOveruseTimeMs && overuse_count_ > 1 && trend >= previous_trend_) {
      time_overusing_ms_ = 0;
      overuse_count_ = 0;
      state_ = BandwidthUsage::Overusing;
    }
  } else if (modified < -threshold_) {
    time_overusing_ms_ = -1;
    overuse_count_ = 0;
    state_ = BandwidthUsage::Underusing;
  } else {
    time_overusing_ms_ = -1;
    overuse_count_ = 0;
    state_ = BandwidthUsage::Normal;
  }
  previous_trend_ = trend;
  adapt_threshold(modified, arrival_ms);
  previous_arrival_ms_ = arrival_ms;
  return state_;
}

// The threshold follows the trend, so that a path whose delay always varies (Wi-Fi)
// is not read as full, and a real queue still is (the draft's section 5.4).
void TrendlineDetector::adapt_threshold(double modified, double arrival_ms) {
  if (!last_threshold_update_ms_) last_threshold_update_ms_ = arrival_ms;
  const double size = std::fabs(modified);
  if (size > threshold_ + 15) {  // a spike: not something to follow
    last_threshold_update_ms_ = arrival_ms;
    return;
  }
  const double k = size < threshold_ ? kThresholdDown : kThresholdUp;
  const double dt = std::min(arrival_ms - *last_threshold_update_ms_, 100.0);
  threshold_ = std::clamp(threshold_ + k * (size - threshold_) * dt, 6.0, 600.0);
  last_threshold_update_ms_ = arrival_ms;
}

GccEstimator::GccEstimator(Limits limits)
    : limits_(limits),
      delay_target_(std::clamp(limits.start_bps, limits.min_bps, limits.max_bps)),
      loss_target_(delay_target_) {}

void GccEstimator::sent(int64_t seq, int64_t send_us, size_t bytes) {
  history_[seq] = Sent{send_us, bytes};
  while (!history_.empty() && history_.begin()->second.send_us < send_us - kHistoryUs) history_.erase(history_.begin());
}

void GccEstimator::feedback(int64_t now_us, const std::vector<PacketArrival> &packets) {
  int lost = 0, total = 0;
  for (const auto &packet : packets) {
    auto it = history_.find(packet.seq);
    if (it == history_.end()) continue;  // not ours, or reported already
    ++total;
    if (!packet.arrival_us) {
      ++lost;
    } else {
      update_acked(*packet.arrival_us, it->second.bytes);
      on_arrival(it->second.send_us, *packet.arrival_us, now_us);
    }
    history_.erase(it);
  }
  update_loss_based(now_us, lost, total);
  update_delay_based(now_us, detector_.state());
}

void GccEstimator::on_arrival(int64_t send_us, int64_t arrival_us, int64_t) {
  if (!group_) {
    group_ = Group{send_us, send_us, arrival_us};
    return;
  }
  if (send_us < group_->first_send_us) return;  // reordered: its group is gone
  if (send_us - group_->first_send_us <= kBurstUs) {
    group_->last_send_us = std::max(group_->last_send_us, send_us);
    group_->last_arrival_us = std::max(group_->last_arrival_us, arrival_us);
    return;
  }
  if (previous_group_) {
    const double send_delta = double(group_->last_send_us - previous_group_->last_send_us) / 1000;
    const double arrival_delta = double(group_->last_arrival_us - previous_group_->last_arrival_us) / 1000;
    detector_.update(send_delta, arrival_delta, double(group_->last_arrival_us) / 1000);
  }
  previous_group_ = group_;
  group_ = Group{send_us, send_us, arrival_us};
}

void GccEstimator::update_acked(int64_t arrival_us, size_t bytes) {
  received_.emplace_back(arrival_us, bytes);
  received_bytes_ += bytes;
  while (received_.front().first < arrival_us - kAckedWindowUs) {
    received_bytes_ -= received_.front().second;
    received_.pop_front();
  }
  const int64_t span = std::max<int64_t>(arrival_us - received_.front().first, 100000);
  acked_bps_ = double(received_bytes_) * 8e6 / double(span);
}

// AIMD on the detector's verdict (the draft's section 6): multiplicative increase
// (8% a second) while far from the capacity last seen, additive (a packet per
// response time) near it; on overuse, 85% of what was received; hold while the
// queue drains (underuse).
void GccEstimator::update_delay_based(int64_t now_us, BandwidthUsage usage) {
  const double dt_s = last_control_us_ ? std::min(double(now_us - *last_control_us_) / 1e6, 1.0) : 0;
  last_control_us_ = now_us;
  switch (usage) {
    case BandwidthUsage::Overusing:
      control_ = Control::Decrease;
      break;
    case BandwidthUsage::Underusing:
      control_ = Control::Hold;
      break;
    case BandwidthUsage::Normal:
      if (control_ != Control::Increase) control_ = Control::Increase;
      break;
  }
  const double acked_kbps = acked_bps_ / 1000;
  if (control_ == Control::Decrease) {
    if (!last_decrease_us_ || now_us - *last_decrease_us_ >= kDecreaseEveryUs) {
      const double received = acked_bps_ > 0 ? acked_bps_ : delay_target_;
      delay_target_ = std::min(delay_target_, kBeta * received);
      last_decrease_us_ = now_us;
      if (acked_bps_ > 0) {
        if (link_capacity_kbps_ < 0) {
          link_capacity_kbps_ = acked_kbps;
        } else {
          link_capacity_kbps_ = 0.95 * link_capacity_kbps_ + 0.05 * acked_kbps;
        }
        const double error = link_capacity_kbps_ - acked_kbps;
        link_capacity_var_ =
            std::clamp(0.95 * link_capacity_var_ + 0.05 * error * error / link_capacity_kbps_, 0.4, 2.5);
      }
    }
    control_ = Control::Hold;
  } else if (control_ == Control::Increase && dt_s > 0) {
    if (link_capacity_kbps_ > 0) {
      const double sigma = std::sqrt(link_capacity_var_ * link_capacity_kbps_);
      if (acked_kbps > link_capacity_kbps_ + 3 * sigma) link_capacity_kbps_ = -1;  // the path grew: search again
      if (last_decrease_us_ && now_us - *last_decrease_us_ > kCapacityMemoryUs) link_capacity_kbps_ = -1;
    }
    const double before = delay_target_;
    if (link_capacity_kbps_ > 0)
      delay_target_ += std::max(1000.0, kPacketBits * 1000 / kResponseMs) * dt_s;
    else
      delay_target_ *= std::pow(kSearchGrowth, dt_s);
    // Never raised far above what actually gets through (a sender with less to
    // send than its target would otherwise raise it without limit); never lowered
    // for it either: an encoder with little to say (a still picture) says nothing
    // of the path.
    if (acked_bps_ > 0) delay_target_ = std::min(delay_target_, std::max(before, 1.5 * acked_bps_ + 10000));
  }
  delay_target_ = std::clamp(delay_target_, double(limits_.min_bps), double(limits_.max_bps));
}

// The loss-based part (the draft's section 7): under 2% lost, up 8% a second;
// over 10%, down by half the loss; in between, hold (loss that congestion
// control cannot cure, such as a radio's, is left to NACK and FEC).
void GccEstimator::update_loss_based(int64_t now_us, int lost, int total) {
  loss_lost_ += lost;
  loss_total_ += total;
  if (!loss_since_us_) loss_since_us_ = now_us;
  if (loss_total_ < kLossPackets || now_us - *loss_since_us_ < kLossIntervalUs) return;
  loss_since_us_ = now_us;
  loss_fraction_ = double(loss_lost_) / loss_total_;
  loss_lost_ = loss_total_ = 0;
  const double dt_s = last_loss_update_us_ ? std::min(double(now_us - *last_loss_update_us_) / 1e6, 1.0) : 0;
  last_loss_update_us_ = now_us;
  const double current = std::min(loss_target_, delay_target_);
  if (loss_fraction_ < kLossLow)
    loss_target_ = std::max(loss_target_, current) * std::pow(1.08, dt_s);
  else if (loss_fraction_ > kLossHigh)
    // Down by half the loss, but not below 85% of what gets through while more
    // than that was sent: a path overfilled at once (a start above its capacity,
    // a cap that drops) loses most of what exceeds it, and what arrives is what
    // it carries. Loss that goes on at that rate keeps lowering it.
    loss_target_ = std::max(current * (1 - 0.5 * loss_fraction_), std::min(current, kBeta * acked_bps_));
  loss_target_ = std::clamp(loss_target_, double(limits_.min_bps), double(limits_.max_bps));
}

int GccEstimator::target_bps() const {
  return int(std::clamp(std::min(delay_target_, loss_target_), double(limits_.min_bps), double(limits_.max_bps)));
}

}  // namespace sl::agent
