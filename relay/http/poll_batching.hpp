// GLib's main loop walks every source and polls every descriptor on each pass:
// with thousands of sockets a pass costs milliseconds however few of them have
// anything to say, and a loop woken for each message spends its time walking.
// Past `from_fds` descriptors, a pass starts at most every `us_per_fd` × (number of
// descriptors) microseconds (at most `max_period_us`), so that each walk serves
// what arrived meanwhile: the walking cost per second stays bounded and the
// added delay is a few milliseconds, only at fleet size (docs/fleet.md).
#pragma once

#include <glib.h>

#include <algorithm>

namespace sl::relay {

struct PollBatching {
  guint from_fds = 1000;
  double us_per_fd = 0.5;  // 10,000 sockets: a pass at most every 5 ms
  gint64 max_period_us = 10000;

  // On the default main context, for the life of the process (one relay a process).
  void install() const {
    static PollBatching settings;
    settings = *this;
    g_main_context_set_poll_func(nullptr, [](GPollFD *fds, guint nfds, gint timeout) -> gint {
      static gint64 last_us = 0;
      if (nfds >= settings.from_fds && timeout != 0) {
        const gint64 period = std::min<gint64>(settings.max_period_us, gint64(nfds * settings.us_per_fd));
        gint64 nap = last_us + period - g_get_monotonic_time();
        if (timeout > 0) nap = std::min<gint64>(nap, gint64(timeout) * 1000);
        if (nap > 0) {
          g_usleep(gulong(nap));
          if (timeout > 0) timeout = std::max(0, timeout - gint(nap / 1000));
        }
      }
      const gint ready = g_poll(fds, nfds, timeout);
      last_us = g_get_monotonic_time();
      return ready;
    });
  }
};

}  // namespace sl::relay
