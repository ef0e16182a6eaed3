// Handing work to the process's one GLib main loop from any thread.
// Streaming threads (pad probes, webrtcbin signals and promises) and library
// threads call post_to_main() with a closure that owns copies of its data; the
// closure runs later on the main loop, never re-entrantly inside the caller.
#pragma once

#include <glib-unix.h>
#include <glib.h>

#include <unistd.h>

#include <chrono>
#include <functional>
#include <thread>

namespace sl {

inline void post_to_main(std::function<void()> work) {
  GSource *source = g_idle_source_new();
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  g_source_set_callback(
      source,
      [](gpointer data) -> gboolean {
        (*static_cast<std::function<void()> *>(data))();
        return G_SOURCE_REMOVE;
      },
      new std::function<void()>(std::move(work)),
      [](gpointer data) { delete static_cast<std::function<void()> *>(data); });
  g_source_attach(source, g_main_context_default());
  g_source_unref(source);
}

// Runs `fn` every `interval_ms` on the main loop until the returned id is reset.
inline guint every_ms(guint interval_ms, std::function<bool()> fn) {
  return g_timeout_add_full(
      G_PRIORITY_DEFAULT, interval_ms,
      [](gpointer data) -> gboolean {
        return (*static_cast<std::function<bool()> *>(data))() ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
      },
      new std::function<bool()>(std::move(fn)),
      [](gpointer data) { delete static_cast<std::function<bool()> *>(data); });
}

// Runs `fn` once after `delay_ms` on the main loop (unless the id is removed first).
inline guint after_ms(guint delay_ms, std::function<void()> fn) {
  return g_timeout_add_full(
      G_PRIORITY_DEFAULT, delay_ms,
      [](gpointer data) -> gboolean {
        (*static_cast<std::function<void()> *>(data))();
        return G_SOURCE_REMOVE;
      },
      new std::function<void()>(std::move(fn)),
      [](gpointer data) { delete static_cast<std::function<void()> *>(data); });
}

// Runs the process's main loop until SIGINT or SIGTERM. The signals are seen
// before any other pending work (high priority). With `hard_stop_ms`, the process
// also ends that long after the signal whatever its teardown is doing.
inline void run_until_signalled(guint hard_stop_ms = 0) {
  struct Stop {
    GMainLoop *loop;
    guint hard_stop_ms;
  } stop{g_main_loop_new(nullptr, FALSE), hard_stop_ms};
  auto quit = +[](gpointer data) -> gboolean {
    auto *s = static_cast<Stop *>(data);
    g_main_loop_quit(s->loop);
    if (s->hard_stop_ms)
      std::thread([ms = s->hard_stop_ms] {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        g_message("still stopping after %u ms: exiting now", ms);
        _exit(0);
      }).detach();
    return G_SOURCE_CONTINUE;  // removed below, once
  };
  const guint sigint = g_unix_signal_add_full(G_PRIORITY_HIGH, SIGINT, quit, &stop, nullptr);
  const guint sigterm = g_unix_signal_add_full(G_PRIORITY_HIGH, SIGTERM, quit, &stop, nullptr);
  g_main_loop_run(stop.loop);
  g_source_remove(sigint);
  g_source_remove(sigterm);
  g_main_loop_unref(stop.loop);
}

}  // namespace sl
