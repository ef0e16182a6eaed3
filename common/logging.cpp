#include "logging.hpp"

#include <glib.h>

#include <cstdio>
#include <cstring>

namespace sl {

namespace {

const char *level_name(GLogLevelFlags level) {
  if (level & G_LOG_LEVEL_ERROR) return "ERROR";
  if (level & G_LOG_LEVEL_CRITICAL) return "CRITICAL";
  if (level & G_LOG_LEVEL_WARNING) return "WARNING";
  if (level & G_LOG_LEVEL_MESSAGE) return "INFO";
  if (level & G_LOG_LEVEL_INFO) return "INFO";
  return "DEBUG";
}

GLogWriterOutput write_line(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer) {
  if (g_log_writer_is_journald(fileno(stderr))) return g_log_writer_journald(level, fields, n_fields, nullptr);
  const char *domain = nullptr, *message = nullptr;
  for (gsize i = 0; i < n_fields; ++i) {
    if (std::strcmp(fields[i].key, "GLIB_DOMAIN") == 0) domain = static_cast<const char *>(fields[i].value);
    if (std::strcmp(fields[i].key, "MESSAGE") == 0) message = static_cast<const char *>(fields[i].value);
  }
  const bool debug = (level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO)) != 0;
  if (debug) {
    // Same rule as GLib's default writer: G_MESSAGES_DEBUG lists the domains to show.
    const char *wanted = g_getenv("G_MESSAGES_DEBUG");
    if (!wanted || (std::strcmp(wanted, "all") != 0 && (!domain || !std::strstr(wanted, domain))))
      return G_LOG_WRITER_HANDLED;
  }
  GDateTime *now = g_date_time_new_now_local();
  char *stamp = g_date_time_format(now, "%H:%M:%S.%f");
  if (stamp && std::strlen(stamp) > 12) stamp[12] = '\0';  // milliseconds are enough
  std::fprintf(stderr, "%s %s %s: %s\n", stamp ? stamp : "", level_name(level), domain ? domain : "-",
               message ? message : "");
  std::fflush(stderr);
  g_free(stamp);
  g_date_time_unref(now);
  return G_LOG_WRITER_HANDLED;
}

}  // namespace

void setup_logging() { g_log_set_writer_func(write_line, nullptr, nullptr); }

}  // namespace sl
