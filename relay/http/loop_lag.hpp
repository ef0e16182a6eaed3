// How late the main loop runs: a timer every 100 ms notes how much later than
// asked it fired. Late by more than a limit: the relay is saturated, and the
// socket hub refuses new sockets (503, Retry-After) rather than starve the ones it holds.
#pragma once

#include "main_context.hpp"

#include <glib.h>

#include <algorithm>

namespace sl::relay {

class LoopLag {
 public:
  LoopLag() {
    last_us_ = g_get_monotonic_time();
    timer_.reset(every_ms(kPeriodMs, [this] {
      const gint64 now = g_get_monotonic_time();
      const gint64 late = std::max<gint64>(0, now - last_us_ - kPeriodMs * 1000);
      last_us_ = now;
      // The worst of the current and the previous second.
      if (now - window_start_us_ >= G_USEC_PER_SEC) {
        previous_max_us_ = current_max_us_;
        current_max_us_ = 0;
        window_start_us_ = now;
      }
      current_max_us_ = std::max(current_max_us_, late);
      return true;
    }));
  }
  // The worst lateness over the last one to two seconds, including now (a loop
  // stuck in one long piece of work shows at once, before its timer can fire).
  gint64 recent_max_us() const {
    const gint64 stuck = std::max<gint64>(0, g_get_monotonic_time() - last_us_ - kPeriodMs * 1000);
    return std::max({previous_max_us_, current_max_us_, stuck});
  }
  bool saturated(int limit_ms) const { return recent_max_us() > gint64(limit_ms) * 1000; }

 private:
  static constexpr guint kPeriodMs = 100;
  SourceId timer_;
  gint64 last_us_ = 0, window_start_us_ = 0, current_max_us_ = 0, previous_max_us_ = 0;
};

}  // namespace sl::relay
