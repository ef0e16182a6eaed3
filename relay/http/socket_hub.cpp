#include "socket_hub.hpp"

#include <algorithm>

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include "auth/device_certificate.hpp"
#include "main_context.hpp"

namespace sl::relay {

namespace {
int64_t now_ms() { return g_get_monotonic_time() / 1000; }

const char *role_name(bool agent) { return agent ? "agent" : "viewer"; }

}  // namespace

// Who a peer proved to be, from its upgrade request's headers and certificate.
struct Proven {
  std::string device;       // agents
  std::string fingerprint;  // agents with a client certificate
  auth::Claims claims;      // viewers
};
constexpr const char *kProvenKey = "sightline-proven";
// An offer an agent is sent earns it this many messages beyond the rate: its
// answer, its candidates (host, reflexive and relayed, per address), the end of
// them, and a status for the branch it adds.
constexpr int kMessagesPerOffer = 16;

struct SocketHub::Signal {
  SocketHub *hub;
  PeerId id;
};

SocketHub::SocketHub(SoupServer *server, const RelaySettings &settings, const Access &access, SessionTable &table,
                     ControlBridge &commands, ClusterLink &cluster, Metrics &metrics)
    : settings_(settings), access_(access), table_(table), commands_(commands), cluster_(cluster), metrics_(metrics) {
  auto handler = [](Role role) {
    return role == Role::Agent
               ? +[](SoupServer *, SoupServerMessage *msg, const char *, SoupWebsocketConnection *conn,
                     gpointer self) { static_cast<SocketHub *>(self)->accept(Role::Agent, msg, conn); }
               : +[](SoupServer *, SoupServerMessage *msg, const char *, SoupWebsocketConnection *conn, gpointer self) {
                   static_cast<SocketHub *>(self)->accept(Role::Viewer, msg, conn);
                 };
  };
  // Checked before the upgrade: a refused peer gets an HTTP status and never a socket.
  auto check = [](SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *, gpointer self) {
    auto *hub = static_cast<SocketHub *>(self);
    // Saturated or full: refused before the upgrade, which is cheaper than any socket.
    if (hub->shed(msg, std::string(path) == "/ws/agent")) return;
    const auto &rules = hub->access_;
    Result<void, Refusal> allowed = rules.check_origin(msg);
    // What the peer proved, kept with the request for accept(): checked once.
    auto proven = std::make_unique<Proven>();
    if (allowed && std::string(path) == "/ws/agent") {
      if (auto device = rules.device(msg); !device)
        allowed = fail(device.error());
      else
        proven->device = *device;
      if (GTlsCertificate *cert = soup_server_message_get_tls_peer_certificate(msg))
        proven->fingerprint = fingerprint(cert);
    } else if (allowed) {
      if (auto claims = rules.client(msg); !claims)
        allowed = fail(claims.error());
      else
        proven->claims = *claims;
    }
    if (allowed) {
      g_object_set_data_full(G_OBJECT(msg), kProvenKey, proven.release(),
                             [](gpointer p) { delete static_cast<Proven *>(p); });
    } else {
      const char *host = soup_server_message_get_remote_host(msg);
      g_warning("refused %s from %s: %s", path, host ? host : "?", allowed.error().message.c_str());
      refuse(msg, allowed.error());
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
    tick();
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

bool SocketHub::shed(SoupServerMessage *msg, bool agent) {
  const size_t held = agent ? agents_held_ : viewers_held_;
  const size_t limit = size_t(agent ? settings_.max_agents : settings_.max_viewers);
  std::string why;
  if (held >= limit)
    why = std::to_string(held) + " " + role_name(agent) + "s held, the limit";
  else if (lag_.saturated(settings_.busy_lag_ms))
    why = "main loop " + std::to_string(lag_.recent_max_us() / 1000) + " ms late";
  else
    return false;
  ++metrics_.sockets_shed;
  const gint64 now = g_get_monotonic_time();
  ++shed_unlogged_;
  if (now - shed_logged_us_ >= G_USEC_PER_SEC) {
    const char *host = soup_server_message_get_remote_host(msg);
    g_warning("shedding new sockets (%s): %zu refused with 503 since the last line, the latest a %s from %s",
              why.c_str(), shed_unlogged_, role_name(agent), host ? host : "?");
    shed_logged_us_ = now;
    shed_unlogged_ = 0;
  }
  // Come back spread out over 5-15 s, not all at once.
  const std::string retry = std::to_string(g_random_int_range(5, 16));
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After", retry.c_str());
  const std::string body = "The relay is busy (" + why + "); try again in " + retry + " s.\n";
  soup_server_message_set_status(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, nullptr);
  soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_COPY, body.data(), body.size());
  return true;
}

void SocketHub::accept(Role role, SoupServerMessage *msg, SoupWebsocketConnection *conn) {
  const char *host = soup_server_message_get_remote_host(msg);
  auto peer = std::make_unique<Peer>();
  peer->id = next_id_++;
  peer->role = role;
  peer->conn = ref(conn);
  peer->address = host ? host : "?";
  if (GSocket *socket = soup_server_message_get_socket(msg)) peer->fd = g_socket_get_fd(socket);
  peer->last_heard_us = g_get_monotonic_time();
  g_object_set(conn, "max-incoming-payload-size", guint64(settings_.max_message_size), nullptr);
  // What this peer proved before the upgrade (check, above).
  auth::Claims claims;
  if (const auto *proven = static_cast<const Proven *>(g_object_get_data(G_OBJECT(msg), kProvenKey))) {
    peer->device = proven->device;
    peer->fingerprint = proven->fingerprint;
    claims = proven->claims;
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
            s->hub->send(*it->second,
                         proto::to_json(proto::Error{"bad_message", "binary frames are not accepted", "", ""}));
          return;
        }
        s->hub->on_text(s->id, std::string(text ? text : "", size));
      }),
      new Signal{this, peer->id}, destroy, GConnectFlags(0));
  peer->closed_handler =
      g_signal_connect_data(conn, "closed", G_CALLBACK(+[](SoupWebsocketConnection *, gpointer data) {
                              auto *s = static_cast<Signal *>(data);
                              s->hub->on_closed(s->id);
                            }),
                            new Signal{this, peer->id}, destroy, GConnectFlags(0));
  // libsoup's own refusals (an oversized or malformed frame) close the socket; say why, with the peer.
  peer->error_handler =
      g_signal_connect_data(conn, "error", G_CALLBACK(+[](SoupWebsocketConnection *, GError *error, gpointer data) {
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
  const std::string address = peer->address, device = peer->device;
  peers_[id] = std::move(peer);
  ++(role == Role::Agent ? agents_held_ : viewers_held_);
  if (role == Role::Agent)
    table_.agent_joined(id, device);
  else
    apply(table_.viewer_joined(id, claims.cameras, address, claims.role, claims.expires_at_s));
}

void SocketHub::on_text(PeerId id, const std::string &text) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  Peer &peer = *it->second;
  peer.last_heard_us = g_get_monotonic_time();
  if (over_rate(peer)) return;
  auto refuse = [&](const proto::ParseError &e) {
    ++metrics_.bad_messages;
    g_warning("%s %llu (%s) sent a bad message: %s: %s", role_name(peer.role == Role::Agent), (unsigned long long)id,
              peer.address.c_str(), e.code.c_str(), e.message.c_str());
    send(peer, proto::to_json(proto::Error{e.code, e.message, e.session, e.ref}));
  };
  if (peer.role == Role::Agent) {
    auto parsed = proto::parse_agent_to_relay(text);
    if (!parsed) return refuse(parsed.error());
    metrics_.in("agent", proto::type_of(*parsed));
    apply(table_.agent_message(id, *parsed));
  } else {
    auto parsed = proto::parse_viewer_to_relay(text);
    if (!parsed) return refuse(parsed.error());
    metrics_.in("viewer", proto::type_of(*parsed));
    apply(table_.viewer_message(id, *parsed, now_ms()));
  }
}

bool SocketHub::over_rate(Peer &peer) {
  const gint64 now = g_get_monotonic_time();
  if (now - peer.window_start_us >= G_USEC_PER_SEC) {
    peer.window_start_us = now;
    peer.window_count = 0;
    peer.previous_credit = peer.credit;
    peer.credit = 0;
  }
  const int allowed = settings_.max_messages_per_second + peer.credit + peer.previous_credit;
  if (++peer.window_count <= allowed) return false;
  if (peer.window_count == allowed + 1) {
    g_warning("%s %llu (%s) sent more than %d messages in a second; closing", role_name(peer.role == Role::Agent),
              (unsigned long long)peer.id, peer.address.c_str(), settings_.max_messages_per_second);
    send(peer, proto::to_json(proto::Error{
                   "too_many_messages",
                   "more than " + std::to_string(settings_.max_messages_per_second) + " messages a second", "", ""}));
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
  --(agent ? agents_held_ : viewers_held_);
  g_message("%s %llu (%s) left (code %u)", role_name(agent), (unsigned long long)id, peer->address.c_str(),
            soup_websocket_connection_get_close_code(peer->conn.get()));
  apply(agent ? table_.agent_gone(id) : table_.viewer_gone(id));
}

void SocketHub::close_devices(const std::vector<std::string> &ids) {
  for (auto &[id, peer] : peers_) {
    if (peer->role != Role::Agent || peer->device.empty()) continue;
    if (soup_websocket_connection_get_state(peer->conn.get()) != SOUP_WEBSOCKET_STATE_OPEN) continue;
    if (std::find(ids.begin(), ids.end(), peer->device) == ids.end()) continue;
    g_message("agent %llu (%s), device %s: no longer in the device list as it was; closing", (unsigned long long)id,
              peer->address.c_str(), peer->device.c_str());
    soup_websocket_connection_close(peer->conn.get(), SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "device list changed");
  }
}

void SocketHub::close_certificates(const std::set<std::string> &revoked) {
  for (auto &[id, peer] : peers_) {
    if (peer->role != Role::Agent || peer->fingerprint.empty() || !revoked.count(peer->fingerprint)) continue;
    if (soup_websocket_connection_get_state(peer->conn.get()) != SOUP_WEBSOCKET_STATE_OPEN) continue;
    g_message("agent %llu (%s), device %s: its certificate (sha256 %s) is revoked now; closing", (unsigned long long)id,
              peer->address.c_str(), peer->device.c_str(), peer->fingerprint.c_str());
    soup_websocket_connection_close(peer->conn.get(), SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "certificate revoked");
  }
}

void SocketHub::apply(const Actions &actions) {
  cluster_.carry(actions);  // signals for other relays, the cameras held here
  for (const auto &line : actions.logs) {
    auto it = peers_.find(line.peer);
    const char *role = it == peers_.end() ? "peer" : role_name(it->second->role == Role::Agent);
    const char *address = it == peers_.end() ? "gone" : it->second->address.c_str();
    if (line.warning)
      g_warning("%s %llu (%s): %s", role, (unsigned long long)line.peer, address, line.text.c_str());
    else
      g_message("%s %llu (%s): %s", role, (unsigned long long)line.peer, address, line.text.c_str());
  }
  for (const auto &out : actions.sends) {
    auto it = peers_.find(out.peer);
    if (it == peers_.end()) {
      if (const auto *m = std::get_if<proto::RelayToViewer>(&out.message); m && virtual_)
        virtual_->deliver(out.peer, *m);
      continue;
    }
    std::visit(
        [&](const auto &variant) {
          std::visit(
              [&](const auto &m) {
                using T = std::decay_t<decltype(m)>;
                if constexpr (std::is_same_v<T, proto::Offer>) {
                  g_message("session %s started: camera %s", m.session.c_str(), m.camera.c_str());
                  // What answering it takes is not a flood: many viewers joining at
                  // once (pages moved to a fan-out worker, a relay restarted) did
                  // take an agent past the rate.
                  it->second->credit += kMessagesPerOffer;
                }
                if constexpr (std::is_same_v<T, proto::SessionEnd>)
                  g_message("session %s ended (%s)", m.session.c_str(), m.reason.c_str());
                if constexpr (std::is_same_v<T, proto::Error>)  // a refusal (limits, unknown camera), with the peer
                  g_message("%s %llu (%s) refused: %s: %s", role_name(it->second->role == Role::Agent),
                            (unsigned long long)out.peer, it->second->address.c_str(), m.code.c_str(),
                            m.message.c_str());
                constexpr bool figures =
                    std::is_same_v<T, proto::CameraUpdate> || std::is_same_v<T, proto::TotalsUpdate>;
                metrics_.out(role_name(it->second->role == Role::Agent), proto::type_of(variant));
                send(*it->second, proto::to_json(m), figures);
              },
              variant);
        },
        out.message);
  }
  for (const auto &close : actions.closes) {
    auto it = peers_.find(close.peer);
    if (it == peers_.end()) continue;
    if (soup_websocket_connection_get_state(it->second->conn.get()) != SOUP_WEBSOCKET_STATE_OPEN) continue;
    g_message("closing %llu: %s", (unsigned long long)close.peer, close.reason.c_str());
    soup_websocket_connection_close(it->second->conn.get(), close.code, close.reason.c_str());
  }
  if (workers_) {
    for (const auto &device : actions.stop_workers) workers_->stop(device);
    for (const auto &worker : actions.start_workers) workers_->start(worker);
  }
  for (const auto &forward : actions.commands) {
    const auto &c = forward.request;
    commands_.send(c.camera, c.command, c.params, c.ttl_ms,
                   [this, viewer = forward.viewer, ref = c.ref, camera = c.camera](const control::Ack &ack, int) {
                     // The page may have gone while the camera worked on it.
                     auto found = peers_.find(viewer);
                     if (found == peers_.end()) return;
                     metrics_.out("viewer", "command_result");
                     send(*found->second, proto::to_json(proto::CommandResult{ref, camera, ack}));
                   });
  }
}

size_t SocketHub::queued(const Peer &peer) {
  int bytes = 0;
  if (peer.fd < 0 || ioctl(peer.fd, SIOCOUTQ, &bytes) != 0) return 0;
  return size_t(std::max(bytes, 0));
}

void SocketHub::send(Peer &peer, const std::string &json, bool droppable) {
  if (soup_websocket_connection_get_state(peer.conn.get()) != SOUP_WEBSOCKET_STATE_OPEN) return;
  const size_t limit = size_t(settings_.peer_queue_bytes);
  // Behind: the kernel holds more than the limit unsent, so anything more waits
  // in libsoup's queue, in our memory.
  if (queued(peer) >= limit) {
    if (droppable) {
      ++metrics_.updates_dropped;
      if (!peer.stale)
        g_warning("%s %llu (%s) falls behind (%zu bytes waiting): its figure updates are dropped until it reads again",
                  role_name(peer.role == Role::Agent), (unsigned long long)peer.id, peer.address.c_str(), queued(peer));
      peer.stale = true;
      return;
    }
    peer.sent_behind += json.size();
    if (peer.sent_behind > 16 * limit) {
      ++metrics_.sockets_cut;
      g_warning("%s %llu (%s) does not read what it is sent (%zu bytes waiting); closing",
                role_name(peer.role == Role::Agent), (unsigned long long)peer.id, peer.address.c_str(),
                queued(peer) + peer.sent_behind);
      soup_websocket_connection_close(peer.conn.get(), SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "not reading");
      return;
    }
  } else {
    peer.sent_behind = 0;
  }
  soup_websocket_connection_send_text(peer.conn.get(), json.c_str());
}

void SocketHub::tick() {
  apply(table_.tick(now_ms()));
  // Sockets that went without figure updates and keep up again get a fresh copy.
  std::vector<PeerId> caught_up;
  for (const auto &[id, peer] : peers_)
    if (peer->stale && queued(*peer) < size_t(settings_.peer_queue_bytes) / 2) caught_up.push_back(id);
  for (PeerId id : caught_up) {
    Peer &peer = *peers_.at(id);
    g_message("%s %llu (%s) reads again: sending it a fresh copy of what it shows", role_name(peer.role == Role::Agent),
              (unsigned long long)id, peer.address.c_str());
    peer.stale = false;
    ++metrics_.resyncs;
    apply(table_.resync(id));
  }
}

void SocketHub::gauges(Gauges &g) const {
  for (const auto &[id, peer] : peers_) {
    const size_t bytes = queued(*peer);
    g.queued_bytes += bytes;
    g.queued_bytes_max = std::max(g.queued_bytes_max, bytes);
  }
  g.loop_lag_s = double(lag_.recent_max_us()) / G_USEC_PER_SEC;
}

void SocketHub::heartbeat() {
  const gint64 now = g_get_monotonic_time();
  const gint64 limit = gint64(settings_.heartbeat_interval_s) * 3 * G_USEC_PER_SEC;
  const std::string beat = proto::to_json(proto::Heartbeat{});
  // A relay running late has not read what its peers sent: it drops nobody for it.
  const bool late = lag_.saturated(settings_.busy_lag_ms);
  for (auto &[id, peer] : peers_) {
    if (soup_websocket_connection_get_state(peer->conn.get()) != SOUP_WEBSOCKET_STATE_OPEN) continue;  // closing
    if (!late && now - peer->last_heard_us > limit) {
      g_warning("%s %llu (%s) silent for %d s; dropping it", role_name(peer->role == Role::Agent),
                (unsigned long long)id, peer->address.c_str(), settings_.heartbeat_interval_s * 3);
      soup_websocket_connection_close(peer->conn.get(), SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "silent");
      continue;
    }
    metrics_.out(role_name(peer->role == Role::Agent), "heartbeat");
    send(*peer, beat);
  }
}

}  // namespace sl::relay
