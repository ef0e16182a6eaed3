// libsoup before 3.4 (Debian 12 has 3.2.3) keeps a reference to every socket it
// accepts and never drops it (fixed upstream by b545d5f0, "soup-listener: Plug a
// leak"): each connection, HTTP or WebSocket, left a GSocket behind (about 340
// bytes), so a relay's memory grew with every agent that reconnected and every
// page that came and went (bench/long_run.mjs sockets; LeakSanitizer names it with
// G_SLICE=always-malloc). The relay drops that reference itself, once per socket,
// only while the socket shows it: on a fixed libsoup (or a patched package) the
// count is one lower and nothing is done.
#pragma once

#include <libsoup/soup.h>

namespace sl::relay {

// At a connection's first request (libsoup emits it as it accepts the socket,
// before it wraps the socket in a stream): the accepting reference, leaked on 3.2,
// and the connection's own.
inline constexpr guint kLeakedSocketRefs = 2;

// Whether the libsoup this process runs on has the leak.
inline bool libsoup_leaks_accepted_sockets() { return soup_get_major_version() == 3 && soup_get_minor_version() < 4; }

inline void mend_socket_leak(GSocket *socket) {
  static const bool leaking = libsoup_leaks_accepted_sockets();
  if (!leaking || !socket) return;
  static GQuark seen = g_quark_from_static_string("sightline-socket-ref-mended");
  if (g_object_get_qdata(G_OBJECT(socket), seen)) return;  // a later request on a kept-alive connection
  g_object_set_qdata(G_OBJECT(socket), seen, GINT_TO_POINTER(1));
  if (g_atomic_int_get(&G_OBJECT(socket)->ref_count) == kLeakedSocketRefs) g_object_unref(socket);
}

}  // namespace sl::relay
