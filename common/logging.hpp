// Log output for both programs: GLib structured logging through GLib's default
// writer, one line per event. Under systemd (stderr connected to the journal)
// entries go to journald with their fields; otherwise GLib's lines
// ("domain-Message: TIME: message") on stderr. Debug lines show with
// G_MESSAGES_DEBUG=all (or the program's domain).
#pragma once

namespace sl {
void setup_logging();
}
