// Reconnect delays: exponential growth from `initial_ms` to `max_ms`, each delay
// drawn at random from the upper half of the current step ("equal jitter") so
// that a fleet of agents losing the same relay does not come back in lockstep.
#pragma once

#include <cstdint>
#include <functional>

namespace sl {

class Backoff {
 public:
  // `random01` returns a number in [0, 1); injected so tests are deterministic.
  Backoff(uint32_t initial_ms, uint32_t max_ms, std::function<double()> random01);
  uint32_t next_delay_ms();
  void reset() { attempt_ = 0; }
  uint32_t attempts() const { return attempt_; }

 private:
  uint32_t initial_ms_;
  uint32_t max_ms_;
  std::function<double()> random01_;
  uint32_t attempt_ = 0;
};

}  // namespace sl
