#include "relay_link.hpp"

#include <algorithm>

#include "main_context.hpp"
#include "tcp.hpp"

namespace sl::agent {

namespace {
constexpr uint32_t kFirstRetryMs = 250;
// A link that lasted this long was healthy: the next failure starts the backoff over.
constexpr gint64 kStableUs = 10 * G_USEC_PER_SEC;
// A relay (or a proxy in front of it) that closes with 1013, Try Again Later, is
// left alone 5-15 s: a fleet it shed comes back spread out, not all at once.
constexpr gushort kTryAgainLater = 1013;
constexpr uint32_t kBusyWaitMs = 5000;
}  // namespace

RelayLink::RelayLink(std::vector<std::string> urls, proto::Hello hello, int heartbeat_s, int reconnect_max_s,
                     Handlers handlers, std::string device_secret, const std::string &ca_file,
                     GTlsCertificate *certificate)
    : urls_(std::move(urls)),
      hello_(std::move(hello)),
      device_secret_(std::move(device_secret)),
      certificate_(certificate ? ref(certificate) : Owned<GTlsCertificate>()),
      heartbeat_s_(heartbeat_s),
      handlers_(std::move(handlers)),
      backoff_(kFirstRetryMs, uint32_t(reconnect_max_s) * 1000, [] { return g_random_double(); }),
      session_(adopt(soup_session_new())),
      cancellable_(adopt(g_cancellable_new())) {
  if (!ca_file.empty()) {
    GError *raw = nullptr;
    auto database = adopt(g_tls_file_database_new(ca_file.c_str(), &raw));
    Owned<GError> error(raw);
    if (database)
      soup_session_set_tls_database(session_.get(), G_TLS_DATABASE(database.get()));
    else
      g_warning("ca-file %s: %s", ca_file.c_str(), error ? error->message : "unusable");
  }
}

RelayLink::~RelayLink() {
  g_cancellable_cancel(cancellable_.get());
  if (conn_) {
    g_signal_handler_disconnect(conn_.get(), message_handler_);
    g_signal_handler_disconnect(conn_.get(), closed_handler_);
    if (soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(conn_.get(), SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "agent stopping");
  }
}

void RelayLink::start() { connect(); }

void RelayLink::connect() {
  if (urls_.empty()) return;
  url_ = urls_[next_++ % urls_.size()];
  auto msg = adopt(soup_message_new(SOUP_METHOD_GET, url_.c_str()));
  if (!msg) {
    g_warning("relay URL %s is not usable", url_.c_str());
    return;
  }
  if (certificate_) soup_message_set_tls_client_certificate(msg.get(), certificate_.get());
  if (!device_secret_.empty()) {
    const std::string pair = hello_.agent + ":" + device_secret_;
    const std::string basic =
        "Basic " + take_string(g_base64_encode(reinterpret_cast<const guchar *>(pair.data()), pair.size()));
    soup_message_headers_replace(soup_message_get_request_headers(msg.get()), "Authorization", basic.c_str());
  }
  // Answers and candidates leave at once, not after the relay's delayed ACK (common/tcp.hpp).
  // And the link's own address is noted, to tell when it goes away.
  g_signal_connect(msg.get(), "network-event",
                   G_CALLBACK(+[](SoupMessage *, GSocketClientEvent event, GIOStream *stream, gpointer data) {
                     if (event != G_SOCKET_CLIENT_CONNECTED || !G_IS_SOCKET_CONNECTION(stream)) return;
                     GSocket *socket = g_socket_connection_get_socket(G_SOCKET_CONNECTION(stream));
                     set_tcp_nodelay(socket);
                     auto local = adopt(g_socket_get_local_address(socket, nullptr));
                     auto *self = static_cast<RelayLink *>(data);
                     self->local_address_.clear();
                     if (local && G_IS_INET_SOCKET_ADDRESS(local.get()))
                       self->local_address_ = take_string(g_inet_address_to_string(
                           g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(local.get()))));
                   }),
                   this);
  g_message("connecting to relay %s", url_.c_str());
  pending_ = ref(msg.get());
  soup_session_websocket_connect_async(
      session_.get(), msg.get(), nullptr, nullptr, G_PRIORITY_DEFAULT, cancellable_.get(),
      [](GObject *source, GAsyncResult *result, gpointer data) {
        GError *raw = nullptr;
        SoupWebsocketConnection *conn = soup_session_websocket_connect_finish(SOUP_SESSION(source), result, &raw);
        Owned<GError> error(raw);
        if (error && g_error_matches(error.get(), G_IO_ERROR, G_IO_ERROR_CANCELLED)) return;  // we are gone
        auto *self = static_cast<RelayLink *>(data);
        if (!conn) {
          const guint status = self->pending_ ? soup_message_get_status(self->pending_.get()) : 0;
          std::string why;
          uint32_t at_least_ms = 0;
          if (status == SOUP_STATUS_SERVICE_UNAVAILABLE) {
            // Busy (it sheds a reconnecting fleet): as long as it asks, 5-15 s if it does not say.
            const char *retry =
                soup_message_headers_get_one(soup_message_get_response_headers(self->pending_.get()), "Retry-After");
            guint64 seconds = 0;
            if (!retry || !g_ascii_string_to_unsigned(retry, 10, 1, 600, &seconds, nullptr))
              seconds = 5 + guint64(g_random_int_range(0, 11));
            at_least_ms = uint32_t(seconds * 1000);
            g_message("relay %s is busy: trying again in %llu s", self->url_.c_str(), (unsigned long long)seconds);
            self->schedule_reconnect(at_least_ms);
            return;
          }
          if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
            why = "relay " + self->url_ + " refused this agent (HTTP " + std::to_string(status) +
                  "): check 'device-secret' for id " + self->hello_.agent + " against the relay's device-secrets";
          else
            why = "cannot reach relay " + self->url_ + ": " + (error ? error->message : "unknown error");
          g_warning("%s", why.c_str());
          if (self->handlers_.refused) self->handlers_.refused(why);
          self->schedule_reconnect();
          return;
        }
        self->on_connected(conn);
      },
      this);
}

void RelayLink::on_connected(SoupWebsocketConnection *conn) {
  conn_ = adopt(conn);
  g_object_set(conn, "max-incoming-payload-size", guint64(proto::kMaxMessageBytes), nullptr);
  message_handler_ = g_signal_connect(
      conn, "message", G_CALLBACK(+[](SoupWebsocketConnection *, gint type, GBytes *bytes, gpointer data) {
        auto *self = static_cast<RelayLink *>(data);
        if (type != SOUP_WEBSOCKET_DATA_TEXT) {
          g_warning("relay sent a binary frame; ignored");
          return;
        }
        gsize size = 0;
        const char *text = static_cast<const char *>(g_bytes_get_data(bytes, &size));
        self->on_text(std::string(text ? text : "", size));
      }),
      this);
  closed_handler_ = g_signal_connect(
      conn, "closed",
      G_CALLBACK(+[](SoupWebsocketConnection *, gpointer data) { static_cast<RelayLink *>(data)->on_closed(); }), this);
  last_heard_us_ = connected_at_us_ = g_get_monotonic_time();
  g_message("connected to relay %s", url_.c_str());
  proto::Hello hello = hello_;
  if (relinking_ && handlers_.kept_sessions) hello.sessions = handlers_.kept_sessions();
  relinking_ = false;
  send(proto::to_json(hello));
  heartbeat_timer_.reset(every_ms(guint(heartbeat_s_) * 1000, [this] {
    if (g_get_monotonic_time() - last_heard_us_ > gint64(heartbeat_s_) * 3 * G_USEC_PER_SEC) {
      g_warning("relay silent for %d s: dropping the link", heartbeat_s_ * 3);
      heartbeat_timer_.release();
      if (conn_) soup_websocket_connection_close(conn_.get(), SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "relay silent");
      return false;
    }
    send(proto::to_json(proto::Heartbeat{}));
    return true;
  }));
  if (handlers_.connected) handlers_.connected();
}

void RelayLink::on_text(const std::string &text) {
  last_heard_us_ = g_get_monotonic_time();
  auto parsed = proto::parse_relay_to_agent(text);
  if (!parsed) {
    const auto &error = parsed.error();
    g_warning("relay sent a message we cannot read (%s: %s)", error.code.c_str(), error.message.c_str());
    send(proto::to_json(proto::Error{error.code, error.message, "", ""}));
    return;
  }
  const auto &message = *parsed;
  if (std::holds_alternative<proto::Heartbeat>(message)) {
    // Answered at once, so the relay's interval alone decides liveness.
    send(proto::to_json(proto::Heartbeat{}));
    return;
  }
  if (std::holds_alternative<proto::AgentWelcome>(message)) {
    replaced_.reset();  // the link that died with its address: the relay has let go of it
    g_message("relay accepted camera(s); %zu ICE server(s) offered",
              std::get<proto::AgentWelcome>(message).ice_servers.size());
  }
  if (handlers_.message) handlers_.message(message);
}

void RelayLink::on_closed() {
  if (!conn_) return;
  const gushort code = soup_websocket_connection_get_close_code(conn_.get());
  const char *reason = soup_websocket_connection_get_close_data(conn_.get());
  g_warning("link to relay closed (code %u%s%s)", code, reason && *reason ? ": " : "", reason ? reason : "");
  drop(code);
}

void RelayLink::addresses_gone(const std::set<std::string> &gone) {
  if (!conn_ || !gone.count(local_address_)) return;
  g_message("the relay link's local address %s is gone: connecting again at once, the viewers' sessions kept",
            local_address_.c_str());
  relinking_ = true;
  // Not closed until the new link is welcomed: its end could still reach the
  // relay (packets from the old address may leave by the new path) and end the
  // sessions there before the new link's hello takes them over.
  replaced_ = detach();
  // At once, and to the same relay: it holds the sessions.
  reconnect_timer_.reset();
  next_ += urls_.size() - 1;
  connect();
}

Owned<SoupWebsocketConnection> RelayLink::detach() {
  g_signal_handler_disconnect(conn_.get(), message_handler_);
  g_signal_handler_disconnect(conn_.get(), closed_handler_);
  heartbeat_timer_.reset();
  Owned<SoupWebsocketConnection> conn = std::move(conn_);
  if (handlers_.disconnected) handlers_.disconnected();
  return conn;
}

void RelayLink::drop(gushort code) {
  const bool busy = code == kTryAgainLater;
  if (!busy && g_get_monotonic_time() - connected_at_us_ > kStableUs) backoff_.reset();
  detach();
  schedule_reconnect(busy ? kBusyWaitMs + uint32_t(g_random_int_range(0, 2 * kBusyWaitMs)) : 0);
}

void RelayLink::schedule_reconnect(uint32_t at_least_ms) {
  const uint32_t delay = std::max(backoff_.next_delay_ms(), at_least_ms);
  g_message("reconnecting to the relay in %u ms (attempt %u)", delay, backoff_.attempts());
  reconnect_timer_.reset(g_timeout_add(
      delay,
      [](gpointer data) -> gboolean {
        auto *self = static_cast<RelayLink *>(data);
        self->reconnect_timer_.release();
        self->connect();
        return G_SOURCE_REMOVE;
      },
      this));
}

void RelayLink::send(const std::string &json) {
  if (!conn_ || soup_websocket_connection_get_state(conn_.get()) != SOUP_WEBSOCKET_STATE_OPEN) {
    g_debug("relay link down; not sent: %.80s", json.c_str());
    return;
  }
  soup_websocket_connection_send_text(conn_.get(), json.c_str());
}

}  // namespace sl::agent
