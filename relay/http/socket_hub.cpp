#include "socket_hub.hpp"

#include <algorithm>

#include "main_context.hpp"
#include "nat/turn.hpp"

namespace sl::relay {

namespace {
int64_t now_ms() { return g_get_monotonic_time() / 1000; }

std::string random_session_id() {
  char buf[33];
  for (int i = 0; i < 4; ++i) g_snprintf(buf + i * 8, 9, "%08x", g_random_int());
  return std::string(buf, 32);
}

const char *role_name(bool agent) { return agent ? "agent" : "viewer"; }
}  // namespace

struct SocketHub::Signal {
  SocketHub *hub;
  PeerId id;
};

SocketHub::SocketHub(SoupServer *server, const RelaySettings &settings, const Access &access)
    : settings_(settings), access_(access),
      table_(settings.ice_servers, int64_t(settings.session_timeout_s) * 1000,
             Limits{size_t(settings.max_sessions_per_socket), size_t(settings.max_sessions_per_camera),
                    size_t(settings.max_pending_sessions), int64_t(settings.session_lifetime_s) * 1000,
                    size_t(settings.max_sessions_per_client)}, random_session_id,
             [&settings](const std::string &session, int64_t valid_for_s) {
               const int64_t now_s = g_get_real_time() / G_USEC_PER_SEC;  // coturn compares with wall time
               return turn_servers(settings.turn_urls, settings.turn_secret, session, now_s + valid_for_s);
             }) {
  auto handler = [](Role role) {
    return role == Role::Agent
               ? +[](SoupServer *, SoupServerMessage *msg, const char *, SoupWebsocketConnection *conn, gpointer self) {
                   static_cast<SocketHub *>(self)->accept(Role::Agent, msg, conn);
                 }
               : +[](SoupServer *, SoupServerMessage *msg, const char *, SoupWebsocketConnection *conn, gpointer self) {
                   static_cast<SocketHub *>(self)->accept(Role::Viewer, msg, conn);
                 };
  };
  // Checked before the upgrade: a refused peer gets an HTTP status and never a socket.
  auto check = [](SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *, gpointer self) {
    const auto &rules = static_cast<SocketHub *>(self)->access_;
    std::optional<Refusal> refusal = rules.check_origin(msg);
    if (!refusal && std::string(path) == "/ws/agent") {
      auto device = rules.device(msg);
      if (auto *r = std::get_if<Refusal>(&device)) refusal = *r;
    } else if (!refusal) {
      auto claims = rules.client(msg);
      if (auto *r = std::get_if<Refusal>(&claims)) refusal = *r;
    }
    if (refusal) {
      const char *host = soup_server_message_get_remote_host(msg);
      g_warning("refused %s from %s: %s", path, host ? host : "?", refusal->message.c_str());
      refuse(msg, *refusal);
    }
  };
  soup_server_add_handler(server, "/ws/agent", check, this, nullptr);
  soup_server_add_handler(server, "/ws/viewer", check, this, nullptr);
  soup_server_add_websocket_handler(server, "/ws/agent", nullptr, nullptr, handler(Role::Agent), this, nullptr);
  soup_server_add_websocket_handler(server, "/ws/viewer", nullptr, nullptr, handler(Role::Viewer), this, nullptr);
  heartbeat_timer_.reset(every_ms(guint(settings.heartbeat_interval_s) * 1000, [this] {
    heartbeat();
    return true;
  }));
  tick_timer_.reset(every_ms(1000, [this] {
    apply(table_.tick(now_ms()));
    return true;
  }));
}

SocketHub::~SocketHub() {
  for (auto &[id, peer] : peers_) {
    g_signal_handler_disconnect(peer->conn.get(), peer->message_handler);
    g_signal_handler_disconnect(peer->conn.get(), peer->closed_handler);
  g_signal_handler_disconnect(peer->conn.get(), peer->error_handler);
    if (soup_websocket_connection_get_state(peer->conn.get()) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(peer->conn.get(), SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "relay stopping");
  }
}

void SocketHub::accept(Role role, SoupServerMessage *msg, SoupWebsocketConnection *conn) {
  auto peer = std::make_unique<Peer>();
  peer->id = next_id_++;
  peer->role = role;
  peer->conn = ref(conn);
  const char *host = soup_server_message_get_remote_host(msg);
  peer->address = host ? host : "?";
  peer->last_heard_us = g_get_monotonic_time();
  g_object_set(conn, "max-incoming-payload-size", guint64(settings_.max_message_size), nullptr);
  // Checked once more here (the upgrade already passed): what this peer may do.
  if (role == Role::Agent) {
    auto device = access_.device(msg);
    if (auto *id = std::get_if<std::string>(&device)) peer->device = *id;
  } else {
    auto claims = access_.client(msg);
    if (auto *c = std::get_if<auth::Claims>(&claims)) peer->claims = *c;
  }
  auto destroy = [](gpointer data, GClosure *) { delete static_cast<Signal *>(data); };
  peer->message_handler = g_signal_connect_data(
      conn, "message", G_CALLBACK(+[](SoupWebsocketConnection *, gint type, GBytes *bytes, gpointer data) {
        auto *s = static_cast<Signal *>(data);
        gsize size = 0;
        const char *text = static_cast<const char *>(g_bytes_get_data(bytes, &size));
        if (type != SOUP_WEBSOCKET_DATA_TEXT) {
          auto it = s->hub->peers_.find(s->id);
          if (it != s->hub->peers_.end())
            s->hub->send(*it->second, proto::to_json(proto::Error{"bad_message", "binary frames are not accepted", "", ""}));
          return;
        }
        s->hub->on_text(s->id, std::string(text ? text : "", size));
      }),
      new Signal{this, peer->id}, destroy, GConnectFlags(0));
  peer->closed_handler = g_signal_connect_data(conn, "closed", G_CALLBACK(+[](SoupWebsocketConnection *, gpointer data) {
                                                 auto *s = static_cast<Signal *>(data);
                                                 s->hub->on_closed(s->id);
                                               }),
                                               new Signal{this, peer->id}, destroy, GConnectFlags(0));
  // libsoup's own refusals (an oversized or malformed frame) close the socket; say why, with the peer.
  peer->error_handler = g_signal_connect_data(
      conn, "error", G_CALLBACK(+[](SoupWebsocketConnection *, GError *error, gpointer data) {
        auto *s = static_cast<Signal *>(data);
        auto it = s->hub->peers_.find(s->id);
        if (it == s->hub->peers_.end()) return;
        g_warning("%s %llu (%s): %s; closing it", role_name(it->second->role == Role::Agent),
                  (unsigned long long)s->id, it->second->address.c_str(), error->message);
      }),
      new Signal{this, peer->id}, destroy, GConnectFlags(0));
  g_message("%s %llu connected from %s", role_name(role == Role::Agent), (unsigned long long)peer->id,
            peer->address.c_str());
  const PeerId id = peer->id;
  peers_[id] = std::move(peer);
  if (role == Role::Viewer) apply(table_.viewer_joined(id, peers_[id]->claims.cameras, peers_[id]->address));
}

void SocketHub::on_text(PeerId id, const std::string &text) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  Peer &peer = *it->second;
  peer.last_heard_us = g_get_monotonic_time();
  if (over_rate(peer)) return;
  auto refuse = [&](const proto::ParseError &e) {
    g_warning("%s %llu (%s) sent a bad message: %s: %s", role_name(peer.role == Role::Agent),
              (unsigned long long)id, peer.address.c_str(), e.code.c_str(), e.message.c_str());
    send(peer, proto::to_json(proto::Error{e.code, e.message, "", ""}));
  };
  if (peer.role == Role::Agent) {
    auto parsed = proto::parse_agent_to_relay(text);
    if (!parsed) return refuse(parsed.error());
    const auto &message = *parsed;
    if (auto *hello = std::get_if<proto::Hello>(&message)) {
      // An agent speaks for its own device only.
      bool own = peer.device.empty() || hello->agent == peer.device;
      for (const auto &c : hello->cameras) own = own && (peer.device.empty() || c.id == peer.device);
      if (!own) {
        g_warning("agent %llu (%s), device %s, claimed another id (%s); closing", (unsigned long long)id,
                  peer.address.c_str(), peer.device.c_str(), hello->agent.c_str());
        send(peer, proto::to_json(proto::Error{"forbidden", "device " + peer.device + " may only announce itself", "", ""}));
        soup_websocket_connection_close(peer.conn.get(), SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "not your id");
        return;
      }
      peer.said_hello = true;
      for (const auto &c : hello->cameras)
        g_message("camera %s online (agent %s, %dx%d@%d %s via %s, from %s)", c.id.c_str(), hello->agent.c_str(),
                  c.width, c.height, c.fps, c.codec.c_str(), c.encoder.c_str(), peer.address.c_str());
    } else if (!peer.said_hello) {
      g_warning("agent %llu (%s) spoke before saying hello; closing", (unsigned long long)id, peer.address.c_str());
      send(peer, proto::to_json(proto::Error{"bad_message", "the first message must be hello", "", ""}));
      soup_websocket_connection_close(peer.conn.get(), SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "hello first");
      return;
    } else if (auto *error = std::get_if<proto::Error>(&message)) {
      g_warning("agent %llu reports: %s: %s", (unsigned long long)id, error->code.c_str(), error->message.c_str());
    }
    apply(table_.agent_message(id, message));
  } else {
    auto parsed = proto::parse_viewer_to_relay(text);
    if (!parsed) return refuse(parsed.error());
    const auto &message = *parsed;
    if (const auto *command = std::get_if<proto::CommandRequest>(&message)) {
      if (!commands_) return;
      auto answer_now = [&](const std::string &code, const std::string &why) {
        control::Ack a = control::error_ack(code, why);
        a.type = command->command;
        a.camera = command->camera;
        send(peer, proto::to_json(proto::CommandResult{command->ref, command->camera, a}));
      };
      if (!peer.claims.may_see(command->camera))
        return answer_now("unknown_camera", "there is no camera '" + command->camera + "'");
      if (peer.claims.role < auth::Role::Operator)
        return answer_now("forbidden", "commands need the operator role; this token is a viewer's");
      commands_->send(command->camera, command->command, command->params, command->ttl_ms,
                      [this, id, ref = command->ref, camera = command->camera](const control::Ack &ack, int) {
                        // The page may have gone while the camera worked on it.
                        auto found = peers_.find(id);
                        if (found != peers_.end()) send(*found->second, proto::to_json(proto::CommandResult{ref, camera, ack}));
                      });
      return;
    }
    apply(table_.viewer_message(id, message, now_ms()));
  }
}

bool SocketHub::over_rate(Peer &peer) {
  const gint64 now = g_get_monotonic_time();
  if (now - peer.window_start_us >= G_USEC_PER_SEC) {
    peer.window_start_us = now;
    peer.window_count = 0;
  }
  if (++peer.window_count <= settings_.max_messages_per_second) return false;
  if (peer.window_count == settings_.max_messages_per_second + 1) {
    g_warning("%s %llu (%s) sent more than %d messages in a second; closing", role_name(peer.role == Role::Agent),
              (unsigned long long)peer.id, peer.address.c_str(), settings_.max_messages_per_second);
    send(peer, proto::to_json(proto::Error{"too_many_messages",
                                           "more than " + std::to_string(settings_.max_messages_per_second) +
                                               " messages a second",
                                           "", ""}));
    soup_websocket_connection_close(peer.conn.get(), SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "message flood");
  }
  return true;
}

void SocketHub::on_closed(PeerId id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  std::unique_ptr<Peer> peer = std::move(it->second);
  peers_.erase(it);
  g_signal_handler_disconnect(peer->conn.get(), peer->message_handler);
  g_signal_handler_disconnect(peer->conn.get(), peer->closed_handler);
  g_signal_handler_disconnect(peer->conn.get(), peer->error_handler);
  const bool agent = peer->role == Role::Agent;
  g_message("%s %llu (%s) left (code %u)", role_name(agent), (unsigned long long)id, peer->address.c_str(),
            soup_websocket_connection_get_close_code(peer->conn.get()));
  apply(agent ? table_.agent_gone(id) : table_.viewer_gone(id));
}

void SocketHub::close_devices(const std::vector<std::string> &ids) {
  for (auto &[id, peer] : peers_) {
    if (peer->role != Role::Agent || peer->device.empty()) continue;
    if (std::find(ids.begin(), ids.end(), peer->device) == ids.end()) continue;
    g_message("agent %llu (%s), device %s: no longer in the device list as it was; closing",
              (unsigned long long)id, peer->address.c_str(), peer->device.c_str());
    soup_websocket_connection_close(peer->conn.get(), SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "device list changed");
  }
}

void SocketHub::apply(const Actions &actions) {
  for (const auto &out : actions.sends) {
    auto it = peers_.find(out.peer);
    if (it == peers_.end()) continue;
    std::visit(
        [&](const auto &variant) {
          std::visit(
              [&](const auto &m) {
                using T = std::decay_t<decltype(m)>;
                if constexpr (std::is_same_v<T, proto::Offer>)
                  g_message("session %s started: camera %s", m.session.c_str(), m.camera.c_str());
                if constexpr (std::is_same_v<T, proto::SessionEnd>)
                  g_message("session %s ended (%s)", m.session.c_str(), m.reason.c_str());
                if constexpr (std::is_same_v<T, proto::Error>)  // a refusal (limits, unknown camera), with the peer
                  g_message("%s %llu (%s) refused: %s: %s", role_name(it->second->role == Role::Agent),
                            (unsigned long long)out.peer, it->second->address.c_str(), m.code.c_str(),
                            m.message.c_str());
                send(*it->second, proto::to_json(m));
              },
              variant);
        },
        out.message);
  }
  for (const auto &close : actions.closes) {
    auto it = peers_.find(close.peer);
    if (it == peers_.end()) continue;
    g_message("closing %llu: %s", (unsigned long long)close.peer, close.reason.c_str());
    soup_websocket_connection_close(it->second->conn.get(), close.code, close.reason.c_str());
  }
}

void SocketHub::send(Peer &peer, const std::string &json) {
  if (soup_websocket_connection_get_state(peer.conn.get()) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text(peer.conn.get(), json.c_str());
}

void SocketHub::heartbeat() {
  const gint64 now = g_get_monotonic_time();
  const gint64 limit = gint64(settings_.heartbeat_interval_s) * 3 * G_USEC_PER_SEC;
  const std::string beat = proto::to_json(proto::Heartbeat{});
  for (auto &[id, peer] : peers_) {
    if (now - peer->last_heard_us > limit) {
      g_warning("%s %llu (%s) silent for %d s; dropping it", role_name(peer->role == Role::Agent),
                (unsigned long long)id, peer->address.c_str(), settings_.heartbeat_interval_s * 3);
      soup_websocket_connection_close(peer->conn.get(), SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "silent");
      continue;
    }
    send(*peer, beat);
  }
}

}  // namespace sl::relay
