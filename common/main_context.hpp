// Handing work to the process's one GLib main loop from any thread.
// Streaming threads (pad probes, webrtcbin signals and promises) and library
// threads call post_to_main() with a closure that owns copies of its data; the
// closure runs later on the main loop, never re-entrantly inside the caller.
#pragma once

#include <glib-unix.h>
#include <glib.h>

#include <functional>

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

// Runs the process's main loop until SIGINT or SIGTERM.
inline void run_until_signalled() {
  GMainLoop *loop = g_main_loop_new(nullptr, FALSE);
  auto quit = +[](gpointer data) -> gboolean {
    g_main_loop_quit(static_cast<GMainLoop *>(data));
    return G_SOURCE_CONTINUE;  // removed below, once
  };
  const guint sigint = g_unix_signal_add(SIGINT, quit, loop);
  const guint sigterm = g_unix_signal_add(SIGTERM, quit, loop);
  g_main_loop_run(loop);
  g_source_remove(sigint);
  g_source_remove(sigterm);
  g_main_loop_unref(loop);
}

}  // namespace sl
