// The relay's counters, and their rendering in the Prometheus text format
// (GET /metrics, docs/metrics.md). Counters are bumped where things happen (the
// socket hub, the control bridge); gauges are read from their owners when scraped.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace sl::relay {

// A cumulative histogram with fixed upper bounds (seconds).
struct Histogram {
  std::vector<double> bounds;
  std::vector<uint64_t> counts;  // one per bound, plus +Inf
  double sum = 0;
  uint64_t count = 0;
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
};

// What is true at the moment of the scrape.
struct Gauges {
  size_t agents = 0, viewers = 0, cameras = 0, cameras_online = 0;
  size_t sessions_pending = 0, sessions_answered = 0;
  size_t sessions_held = 0;  // their page's socket closed: waiting for it to take them back (restart)
  size_t subscriptions = 0;  // (page, camera) pairs
  size_t queued_bytes = 0, queued_bytes_max = 0;  // unsent bytes in the sockets' kernel queues
  bool mqtt_configured = false, mqtt_connected = false;
  size_t relays_up = 0;            // other relays on the broker
  size_t fanout_workers = 0;       // fan-out worker processes running
  size_t sessions_relayed = 0;     // sessions served through a fan-out worker
  double loop_lag_s = 0;           // how late the main loop ran, at most, in the last second
  uint64_t updates_coalesced = 0;  // a counter the session table keeps (figure changes folded)
};

struct Metrics {
  // (role, type) -> messages
  std::map<std::pair<std::string, std::string>, uint64_t> messages_in, messages_out;
  uint64_t updates_dropped = 0;  // figure updates not sent to a socket that did not keep up
  uint64_t resyncs = 0;          // fresh copies sent once such a socket read again
  uint64_t sockets_shed = 0;     // refused with 503 before the upgrade (saturated, or over max-agents / max-viewers)
  uint64_t sockets_cut = 0;      // closed for not reading (queue over its bound)
  uint64_t bad_messages = 0;
  Histogram command_rtt{{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}};

  void in(const std::string &role, const char *type) { ++messages_in[{role, type}]; }
  void out(const std::string &role, const char *type) { ++messages_out[{role, type}]; }
};

std::string render(const Metrics &metrics, const Gauges &gauges);

}  // namespace sl::relay
