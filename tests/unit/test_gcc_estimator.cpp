// The congestion controller against a simulated path: a sender pacing 1200-byte
// packets at the estimator's target into a bottleneck (a FIFO of a given rate
// that drops what would wait over 500 ms, random loss on top, 20 ms each way),
// the browser's feedback every 50 ms. Synthetic traces: ample, capped, a cap that
// drops, one that lifts, random loss; and the detector alone on delay trends.
#include "congestion/gcc_estimator.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <deque>
#include <random>
#include <vector>

using namespace sl::agent;

namespace {

constexpr int64_t kMs = 1000, kS = 1000000;
constexpr size_t kPacket = 1200;

struct Path {
  double capacity_bps = 10e6;
  double loss = 0;
  int64_t one_way_us = 20 * kMs;
  int64_t max_queue_us = 500 * kMs;
};

class Simulation {
 public:
  Simulation(GccEstimator::Limits limits, Path on) : estimator(limits), path(on) {}

  // Runs until `end_us`; `every` is called once per simulated 100 ms.
  template <typename F>
  void run_until(int64_t end_us, F every) {
    for (; now < end_us; now += kMs) {
      send_due();
      report_due();
      if (now % (100 * kMs) == 0) every();
    }
  }
  void run_until(int64_t end_us) {
    run_until(end_us, [] {});
  }

  GccEstimator estimator;
  Path path;
  int64_t now = 0;
  std::vector<int64_t> queue_us;  // each packet's wait at the bottleneck
  int64_t received_bytes = 0;

 private:
  struct InFlight {
    int64_t seq;
    std::optional<int64_t> arrival;
    int64_t known_at;  // when the receiver knows of it (arrival, or the gap it leaves)
  };

  void send_due() {
    while (next_send_ <= now) {
      const int64_t seq = seq_++;
      estimator.sent(seq, now, kPacket);
      const int64_t start = std::max(now, free_at_);
      bool lost = std::uniform_real_distribution<double>(0, 1)(rng_) < path.loss;
      if (start - now > path.max_queue_us) lost = true;  // the queue is full
      std::optional<int64_t> arrival;
      if (!lost) {
        free_at_ = start + int64_t(double(kPacket) * 8e6 / path.capacity_bps);
        arrival = free_at_ + path.one_way_us;
        queue_us.push_back(start - now);
        received_bytes += kPacket;
      }
      in_flight_.push_back({seq, arrival, arrival.value_or(now + path.one_way_us)});
      next_send_ += int64_t(double(kPacket) * 8e6 / estimator.target_bps());
    }
  }

  void report_due() {
    if (now >= next_report_) {
      std::vector<PacketArrival> report;
      while (!in_flight_.empty() && in_flight_.front().known_at <= now) {
        report.push_back({in_flight_.front().seq, in_flight_.front().arrival});
        in_flight_.pop_front();
      }
      reports_.emplace_back(now + path.one_way_us, std::move(report));
      next_report_ += 50 * kMs;
    }
    while (!reports_.empty() && reports_.front().first <= now) {
      estimator.feedback(now, reports_.front().second);
      reports_.pop_front();
    }
  }

  std::mt19937 rng_{7};
  int64_t seq_ = 0, next_send_ = 0, free_at_ = 0, next_report_ = 50 * kMs;
  std::deque<InFlight> in_flight_;
  std::deque<std::pair<int64_t, std::vector<PacketArrival>>> reports_;
};

double percentile(std::vector<int64_t> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return double(values[size_t(p * double(values.size() - 1))]);
}

double mean(const std::vector<int> &values) {
  double sum = 0;
  for (int v : values) sum += v;
  return values.empty() ? 0 : sum / double(values.size());
}

}  // namespace

TEST_CASE("the detector: steady delay is normal, a growing queue overuse, a draining one underuse") {
  auto feed = [](double slope_ms_per_group) {
    TrendlineDetector detector;
    BandwidthUsage last = BandwidthUsage::Normal;
    for (int i = 0; i < 60; ++i) last = detector.update(33, 33 + slope_ms_per_group, 33.0 * i);
    return last;
  };
  CHECK(feed(0) == BandwidthUsage::Normal);
  CHECK(feed(2) == BandwidthUsage::Overusing);
  CHECK(feed(-2) == BandwidthUsage::Underusing);
  // Jitter around a steady delay (Wi-Fi) is not a queue.
  TrendlineDetector jittery;
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> jitter(-8, 8);
  int overuse = 0;
  double previous = 0;
  for (int i = 0; i < 600; ++i) {
    const double delay = jitter(rng);
    overuse += jittery.update(33, 33 + delay - previous, 33.0 * i) == BandwidthUsage::Overusing;
    previous = delay;
  }
  CHECK(overuse < 30);  // under 5% of the groups
}

TEST_CASE("an ample path: the target climbs to the camera's bitrate and stays there") {
  Simulation sim({100'000, 2'000'000, 1'000'000}, Path{10e6});
  sim.run_until(15 * kS);
  CHECK(sim.estimator.target_bps() >= 1'900'000);
  sim.queue_us.clear();
  sim.run_until(30 * kS);
  CHECK(sim.estimator.target_bps() >= 1'900'000);
  CHECK(percentile(sim.queue_us, 0.95) < 5 * kMs);
  CHECK(sim.estimator.usage() == BandwidthUsage::Normal);
}

TEST_CASE("a 1 Mbit/s cap under a 2 Mbit/s camera: under the cap within 10 s, most of it used, a short queue") {
  Simulation sim({100'000, 2'000'000, 2'000'000}, Path{1e6});
  sim.run_until(8 * kS);
  std::vector<int> settled;  // seconds 8 to 10: the saw-tooth around the cap, on average under it
  sim.run_until(10 * kS, [&] { settled.push_back(sim.estimator.target_bps()); });
  CHECK(mean(settled) < 1'000'000);
  std::vector<int> targets;
  sim.queue_us.clear();
  const int64_t bytes_before = sim.received_bytes;
  sim.run_until(40 * kS, [&] { targets.push_back(sim.estimator.target_bps()); });
  const double used = double(sim.received_bytes - bytes_before) * 8 / 30;
  MESSAGE("1 Mbit/s cap: mean target ", mean(targets), ", received ", used, " bit/s, queue p95 ",
          percentile(sim.queue_us, 0.95) / 1000, " ms");
  CHECK(used >= 800'000);  // at least 80% of the cap
  CHECK(mean(targets) <= 1'050'000);
  CHECK(percentile(sim.queue_us, 0.95) < 300 * kMs);
}

TEST_CASE("a cap that drops: below it within 5 s") {
  Simulation sim({100'000, 2'500'000, 2'500'000}, Path{3e6});
  sim.run_until(20 * kS);
  CHECK(sim.estimator.target_bps() >= 2'300'000);
  sim.path.capacity_bps = 1e6;
  int64_t below_at = -1;
  sim.run_until(40 * kS, [&] {
    if (below_at < 0 && sim.estimator.target_bps() < 1'000'000) below_at = sim.now;
  });
  REQUIRE(below_at > 0);
  MESSAGE("3 -> 1 Mbit/s: below the cap after ", double(below_at - 20 * kS) / kS, " s");
  CHECK(below_at - 20 * kS <= 5 * kS);
  sim.queue_us.clear();
  sim.run_until(60 * kS);
  CHECK(percentile(sim.queue_us, 0.95) < 300 * kMs);
}

TEST_CASE("a cap that lifts: back to the camera's bitrate within 20 s") {
  Simulation sim({100'000, 2'500'000, 1'000'000}, Path{1e6});
  sim.run_until(30 * kS);
  CHECK(sim.estimator.target_bps() < 1'100'000);
  sim.path.capacity_bps = 10e6;
  int64_t back_at = -1;
  sim.run_until(60 * kS, [&] {
    if (back_at < 0 && sim.estimator.target_bps() >= 2'300'000) back_at = sim.now;
  });
  REQUIRE(back_at > 0);
  MESSAGE("1 -> 10 Mbit/s: at 2.3 Mbit/s after ", double(back_at - 30 * kS) / kS, " s");
  CHECK(back_at - 30 * kS <= 20 * kS);
}

TEST_CASE("random loss: 5% is left to retransmission, 20% lowers the target") {
  Simulation light({100'000, 2'000'000, 2'000'000}, Path{10e6, 0.05});
  light.run_until(30 * kS);
  CHECK(light.estimator.target_bps() >= 1'600'000);
  CHECK(light.estimator.loss_fraction() > 0.01);
  Simulation heavy({100'000, 2'000'000, 2'000'000}, Path{10e6, 0.20});
  heavy.run_until(30 * kS);
  CHECK(heavy.estimator.target_bps() < 1'000'000);
  CHECK(heavy.estimator.loss_based_bps() < heavy.estimator.delay_based_bps());
}

TEST_CASE("feedback about packets it never sent, twice, or lost changes nothing it should not") {
  GccEstimator estimator({100'000, 2'000'000, 1'000'000});
  estimator.feedback(0, {{5, 1000}, {6, std::nullopt}});  // unknown: ignored
  CHECK(estimator.target_bps() == 1'000'000);
  CHECK(estimator.acked_bps() == 0);
  estimator.sent(1, 0, kPacket);
  estimator.feedback(50 * kMs, {{1, 20 * kMs}});
  estimator.feedback(60 * kMs, {{1, 20 * kMs}});          // again: already counted
  CHECK(estimator.acked_bps() == int(kPacket * 8 * 10));  // one packet over the 100 ms floor
}
