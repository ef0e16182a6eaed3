#include "handshake_timeout.hpp"

#include <vector>

namespace sl::relay {

HandshakeTimeout::HandshakeTimeout(SoupServer *server, guint seconds)
    : server_(server), limit_us_(gint64(seconds) * G_USEC_PER_SEC) {
  // From a request's first byte to the end of its headers and body.
  started_ =
      g_signal_connect(server, "request-started", G_CALLBACK(+[](SoupServer *, SoupServerMessage *msg, gpointer self) {
                         static_cast<HandshakeTimeout *>(self)->started(msg);
                       }),
                       this);
  read_ = g_signal_connect(server, "request-read", G_CALLBACK(+[](SoupServer *, SoupServerMessage *msg, gpointer self) {
                             static_cast<HandshakeTimeout *>(self)->done(msg);
                           }),
                           this);
  finished_ =
      g_signal_connect(server, "request-aborted", G_CALLBACK(+[](SoupServer *, SoupServerMessage *msg, gpointer self) {
                         static_cast<HandshakeTimeout *>(self)->done(msg);
                       }),
                       this);
  sweep_ = g_timeout_add(
      250,
      [](gpointer self) -> gboolean {
        static_cast<HandshakeTimeout *>(self)->sweep();
        return G_SOURCE_CONTINUE;
      },
      this);
}

void HandshakeTimeout::started(SoupServerMessage *msg) {
  deadlines_[msg] = g_get_monotonic_time() + limit_us_;
  // A connection that dies first (a TLS handshake that failed) or a message freed
  // without either signal takes its entry with it.
  g_signal_connect(
      msg, "disconnected",
      G_CALLBACK(+[](SoupServerMessage *m, gpointer self) { static_cast<HandshakeTimeout *>(self)->done(m); }), this);
  g_object_weak_ref(G_OBJECT(msg), &HandshakeTimeout::gone, this);
}

void HandshakeTimeout::gone(gpointer self, GObject *msg) {
  static_cast<HandshakeTimeout *>(self)->deadlines_.erase(reinterpret_cast<SoupServerMessage *>(msg));
}

void HandshakeTimeout::done(SoupServerMessage *msg) {
  if (deadlines_.erase(msg) == 0) return;
  g_signal_handlers_disconnect_by_data(msg, this);
  g_object_weak_unref(G_OBJECT(msg), &HandshakeTimeout::gone, this);
}

void HandshakeTimeout::sweep() {
  const gint64 now = g_get_monotonic_time();
  std::vector<SoupServerMessage *> late;
  for (const auto &[msg, deadline] : deadlines_)
    if (now >= deadline) late.push_back(msg);
  for (SoupServerMessage *msg : late) {
    const char *host = soup_server_message_get_remote_host(msg);
    g_warning("request from %s not complete in time; closing its connection", host ? host : "?");
    GSocket *socket = soup_server_message_get_socket(msg);
    done(msg);
    if (socket) g_socket_shutdown(socket, TRUE, TRUE, nullptr);
  }
}

HandshakeTimeout::~HandshakeTimeout() {
  g_source_remove(sweep_);
  g_signal_handler_disconnect(server_, started_);
  g_signal_handler_disconnect(server_, read_);
  g_signal_handler_disconnect(server_, finished_);
  while (!deadlines_.empty()) done(deadlines_.begin()->first);
}

}  // namespace sl::relay
