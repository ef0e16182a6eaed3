#include "socket_hub.hpp"

#include <algorithm>

#include "auth/device_certificate.hpp"
#include "main_context.hpp"

namespace sl::relay {

namespace {
int64_t now_ms() { return g_get_monotonic_time() / 1000; }

const char *role_name(bool agent) { return agent ? "agent" : "viewer"; }

}  // namespace

// Who a peer proved to be, from its upgrade request's headers and certificate,
// kept until libsoup has sent the 101 and the connection is taken from it.
struct SocketHub::Upgrade {
  SocketHub *hub;
  Role role;
  std::string address;
  int fd = -1;
  std::string device;       // agents
  std::string fingerprint;  // agents with a client certificate
  auth::Claims claims;      // viewers
};
// An offer an agent is sent earns it this many messages beyond the rate: its
// answer, its candidates (host, reflexive and relayed, per address), the end of
// them, and a status for the branch it adds.
constexpr int kMessagesPerOffer = 16;

SocketHub::SocketHub(SoupServer *server, const RelaySettings &settings, const Access &access, SessionTable &table,
                     ControlBridge &commands, ClusterLink &cluster, Metrics &metrics)
    : settings_(settings), access_(access), table_(table), commands_(commands), cluster_(cluster), metrics_(metrics) {
  // Checked from the request's headers: a refused peer gets an HTTP status and never a socket.
  auto check = [](SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *, gpointer self) {
    auto *hub = static_cast<SocketHub *>(self);
    const bool agent = std::string(path) == "/ws/agent";
    // Saturated or full: refused before the upgrade, which is cheaper than any socket.
    if (hub->shed(msg, agent)) return;
    const auto &rules = hub->access_;
    const char *host = soup_server_message_get_remote_host(msg);
    auto upgrade = std::make_unique<Upgrade>(Upgrade{hub, agent ? Role::Agent : Role::Viewer, host ? host : "?"});
    Result<void, Refusal> allowed = rules.check_origin(msg);
    if (allowed && agent) {
      if (auto device = rules.device(msg); !device)
        allowed = fail(device.error());
      else
        upgrade->device = *device;
      if (GTlsCertificate *cert = soup_server_message_get_tls_peer_certificate(msg))
        upgrade->fingerprint = fingerprint(cert);
    } else if (allowed) {
      if (auto claims = rules.client(msg); !claims)
        allowed = fail(claims.error());
      else
        upgrade->claims = *claims;
    }
    if (!allowed) {
      g_warning("refused %s from %s: %s", path, upgrade->address.c_str(), allowed.error().message.c_str());
      refuse(msg, allowed.error());
      return;
    }
    // No extension is agreed: the relay's messages are small JSON, and without compression
    // the message size limit bounds what a peer can make the relay inflate and hold.
    if (!soup_websocket_server_process_handshake(msg, nullptr, nullptr, nullptr, nullptr)) {
      g_warning("refused %s from %s: not a WebSocket upgrade (%u)", path, upgrade->address.c_str(),
                soup_server_message_get_status(msg));
      return;  // libsoup answered with why
    }
    if (GSocket *socket = soup_server_message_get_socket(msg)) upgrade->fd = g_socket_get_fd(socket);
    // Once the 101 is out, the connection is taken from libsoup.
    g_signal_connect_data(
        msg, "wrote-informational", G_CALLBACK(+[](SoupServerMessage *upgraded, gpointer data) {
          const auto *taken = static_cast<const Upgrade *>(data);
          if (GIOStream *stream = soup_server_message_steal_connection(upgraded)) taken->hub->accept(*taken, stream);
        }),
        upgrade.release(), [](gpointer data, GClosure *) { delete static_cast<Upgrade *>(data); }, GConnectFlags(0));
  };
  soup_server_add_handler(server, "/ws/agent", check, this, nullptr);
  soup_server_add_handler(server, "/ws/viewer", check, this, nullptr);
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
  for (auto &[id, peer] : peers_) peer->conn->close(ws::kGoingAway, "relay stopping");
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

void SocketHub::accept(const Upgrade &upgrade, GIOStream *stream) {
  auto peer = std::make_unique<Peer>();
  const PeerId id = peer->id = next_id_++;
  const Role role = peer->role = upgrade.role;
  peer->address = upgrade.address;
  peer->device = upgrade.device;
  peer->fingerprint = upgrade.fingerprint;
  peer->last_heard_us = g_get_monotonic_time();
  WsConnection::Handlers handlers;
  handlers.text = [this, id](std::string &&text) { on_text(id, text); };
  handlers.binary = [this, id] {
    if (auto it = peers_.find(id); it != peers_.end())
      send(*it->second, proto::to_json(proto::Error{"bad_message", "binary frames are not accepted", "", ""}));
  };
  // Refusals of the framing itself (an oversized or malformed frame) close the socket; say why, with the peer.
  handlers.refused = [this, id](const std::string &why) {
    if (auto it = peers_.find(id); it != peers_.end())
      g_warning("%s %llu (%s): %s; closing it", role_name(it->second->role == Role::Agent), (unsigned long long)id,
                it->second->address.c_str(), why.c_str());
  };
  handlers.closed = [this, id] { on_closed(id); };
  peer->conn = &connections_.adopt(stream, upgrade.fd, size_t(settings_.max_message_size), std::move(handlers));
  // An agent's hello is logged with its address and cameras: at fleet size a line
  // more per agent (tens of thousands when a fleet reconnects) is a cost of its own.
  if (role == Role::Agent)
    g_debug("agent %llu connected from %s", (unsigned long long)id, peer->address.c_str());
  else
    g_message("viewer %llu connected from %s", (unsigned long long)id, peer->address.c_str());
  peers_[id] = std::move(peer);
  ++(role == Role::Agent ? agents_held_ : viewers_held_);
  if (role == Role::Agent)
    table_.agent_joined(id, upgrade.device);
  else
    apply(table_.viewer_joined(id, upgrade.claims.cameras, upgrade.address, upgrade.claims.role,
                               upgrade.claims.expires_at_s));
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
    peer.conn->close(ws::kPolicyViolation, "message flood");
  }
  return true;
}

void SocketHub::on_closed(PeerId id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  std::unique_ptr<Peer> peer = std::move(it->second);
  peers_.erase(it);
  const bool agent = peer->role == Role::Agent;
  --(agent ? agents_held_ : viewers_held_);
  g_message("%s %llu (%s) left (code %u)", role_name(agent), (unsigned long long)id, peer->address.c_str(),
            peer->conn->close_code());
  apply(agent ? table_.agent_gone(id) : table_.viewer_gone(id));
}

void SocketHub::close_devices(const std::vector<std::string> &ids) {
  for (auto &[id, peer] : peers_) {
    if (peer->role != Role::Agent || peer->device.empty()) continue;
    if (peer->conn->state() != WsConnection::State::Open) continue;
    if (std::find(ids.begin(), ids.end(), peer->device) == ids.end()) continue;
    g_message("agent %llu (%s), device %s: no longer in the device list as it was; closing", (unsigned long long)id,
              peer->address.c_str(), peer->device.c_str());
    peer->conn->close(ws::kPolicyViolation, "device list changed");
  }
}

void SocketHub::close_certificates(const std::set<std::string> &revoked) {
  for (auto &[id, peer] : peers_) {
    if (peer->role != Role::Agent || peer->fingerprint.empty() || !revoked.count(peer->fingerprint)) continue;
    if (peer->conn->state() != WsConnection::State::Open) continue;
    g_message("agent %llu (%s), device %s: its certificate (sha256 %s) is revoked now; closing", (unsigned long long)id,
              peer->address.c_str(), peer->device.c_str(), peer->fingerprint.c_str());
    peer->conn->close(ws::kPolicyViolation, "certificate revoked");
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
    if (it->second->conn->state() != WsConnection::State::Open) continue;
    g_message("closing %llu: %s", (unsigned long long)close.peer, close.reason.c_str());
    it->second->conn->close(close.code, close.reason.c_str());
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

void SocketHub::send(Peer &peer, const std::string &json, bool droppable) {
  if (peer.conn->state() != WsConnection::State::Open) return;
  const size_t limit = size_t(settings_.peer_queue_bytes);
  // Behind: more than the limit is unsent, so anything more waits in our memory.
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
      peer.conn->close(ws::kPolicyViolation, "not reading");
      return;
    }
  } else {
    peer.sent_behind = 0;
  }
  peer.conn->send_text(json);
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
    if (peer->conn->state() != WsConnection::State::Open) continue;  // closing
    if (!late && now - peer->last_heard_us > limit) {
      g_warning("%s %llu (%s) silent for %d s; dropping it", role_name(peer->role == Role::Agent),
                (unsigned long long)id, peer->address.c_str(), settings_.heartbeat_interval_s * 3);
      peer->conn->close(ws::kGoingAway, "silent");
      continue;
    }
    metrics_.out(role_name(peer->role == Role::Agent), "heartbeat");
    send(*peer, beat);
  }
}

}  // namespace sl::relay
