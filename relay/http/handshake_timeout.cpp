#include "handshake_timeout.hpp"

namespace sl::relay {

namespace {
const char *const kTimer = "sl-handshake-timer";

void cancel(SoupServerMessage *msg) {
  if (guint id = GPOINTER_TO_UINT(g_object_steal_data(G_OBJECT(msg), kTimer))) g_source_remove(id);
}
}  // namespace

HandshakeTimeout::HandshakeTimeout(SoupServer *server, guint seconds) : server_(server), seconds_(seconds) {
  // A timer per request from its first byte to the end of its headers and body.
  started_ = g_signal_connect(
      server, "request-started", G_CALLBACK(+[](SoupServer *, SoupServerMessage *msg, gpointer self) {
        const guint after = static_cast<HandshakeTimeout *>(self)->seconds_;
        const guint id = g_timeout_add_seconds(
            after,
            [](gpointer m) -> gboolean {
              auto *message = static_cast<SoupServerMessage *>(m);
              g_object_steal_data(G_OBJECT(message), kTimer);
              const char *host = soup_server_message_get_remote_host(message);
              g_warning("request from %s not complete in time; closing its connection", host ? host : "?");
              if (GSocket *socket = soup_server_message_get_socket(message))
                g_socket_shutdown(socket, TRUE, TRUE, nullptr);
              return G_SOURCE_REMOVE;
            },
            msg);
        // Should the message go away without either signal below, its timer goes with it;
        // and a connection that dies first (a TLS handshake that failed) takes it too.
        g_object_set_data_full(G_OBJECT(msg), kTimer, GUINT_TO_POINTER(id),
                               [](gpointer timer) { g_source_remove(GPOINTER_TO_UINT(timer)); });
        g_signal_connect(msg, "disconnected", G_CALLBACK(+[](SoupServerMessage *m, gpointer) { cancel(m); }), nullptr);
      }),
      this);
  read_ = g_signal_connect(server, "request-read",
                           G_CALLBACK(+[](SoupServer *, SoupServerMessage *msg, gpointer) { cancel(msg); }), nullptr);
  finished_ =
      g_signal_connect(server, "request-aborted",
                       G_CALLBACK(+[](SoupServer *, SoupServerMessage *msg, gpointer) { cancel(msg); }), nullptr);
}

HandshakeTimeout::~HandshakeTimeout() {
  g_signal_handler_disconnect(server_, started_);
  g_signal_handler_disconnect(server_, read_);
  g_signal_handler_disconnect(server_, finished_);
}

}  // namespace sl::relay
