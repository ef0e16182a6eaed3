#include "logging.hpp"

#include <glib.h>

namespace sl {

void setup_logging() {
  // GLib's own writer does all we want: journald entries (with their fields)
  // when stderr is the journal, else one line per event on the standard
  // streams, debug and info lines only for the domains in G_MESSAGES_DEBUG.
  // Every line on stderr, so that stdout stays for what a command prints.
  g_log_writer_default_set_use_stderr(TRUE);
  g_log_set_writer_func(g_log_writer_default, nullptr, nullptr);
}

}  // namespace sl
