// The relay's WebSocket connections: agents on /ws/agent, viewers on
// /ws/viewer. Gives each a peer id, reads and validates what it sends, feeds
// the session table (which decides, checks included), carries out what the
// table says (send, close, forward a command, log), keeps heartbeats going and
// drops silent peers. It also keeps each socket's outgoing queue bounded: figure
// updates are dropped for a socket that does not keep up (it gets a fresh copy
// once it does), one that stops reading altogether is closed; and while the
// relay is saturated (or over max-agents / max-viewers) new sockets are refused
// before the upgrade with 503 and Retry-After. libsoup answers the upgrade; the
// connection is then taken from it and carried by http/ws_connections (one epoll
// set for every socket, so a message costs the same with 10 or 10,000 held).
// The table, the control bridge and the counters are lent by main.
#pragma once

#include "auth/access.hpp"
#include "cluster/cluster_link.hpp"
#include "control/control_bridge.hpp"
#include "fanout/fanout_workers.hpp"
#include "gobj.hpp"
#include "http/loop_lag.hpp"
#include "metrics.hpp"
#include "sessions/session_table.hpp"
#include "settings.hpp"
#include "ws_connections.hpp"

#include <libsoup/soup.h>

#include <map>
#include <memory>
#include <set>
#include <string>

namespace sl::relay {

// Viewers that are not sockets: WHEP sessions (http/whep.hpp). The hub gives them
// peer ids and hands them what the session table says to them.
class VirtualViewers {
 public:
  virtual ~VirtualViewers() = default;
  virtual void deliver(PeerId viewer, const proto::RelayToViewer &message) = 0;
};

class SocketHub {
 public:
  SocketHub(SoupServer *server, const RelaySettings &settings, const Access &access, SessionTable &table,
            ControlBridge &commands, ClusterLink &cluster, Metrics &metrics);
  ~SocketHub();

  // Carries out what the session table decided (also for events from the control plane).
  void apply(const Actions &actions);
  // Closes the sockets of agents that proved one of these device ids (their
  // entry changed or went away from the device list).
  void close_devices(const std::vector<std::string> &ids);
  // Closes the sockets of agents whose client certificate is now revoked (SIGHUP).
  void close_certificates(const std::set<std::string> &revoked);
  // The gauges only the hub knows (queues, loop lag) added to `g`.
  void gauges(Gauges &g) const;
  // A peer id for a viewer that is not a socket; the table's messages to it go to `virtual_viewers`.
  PeerId new_virtual_viewer() { return next_id_++; }
  void attach(VirtualViewers *virtual_viewers) { virtual_ = virtual_viewers; }
  // Who starts and stops the fan-out workers the table asks for.
  void attach(FanoutWorkers *workers) { workers_ = workers; }

 private:
  enum class Role { Agent, Viewer };
  struct Peer {
    PeerId id = 0;
    Role role = Role::Viewer;
    WsConnection *conn = nullptr;  // owned by connections_, valid until on_closed
    std::string address;
    gint64 last_heard_us = 0;
    std::string device;          // agents: the id proven by their secret ("" = any, insecure-dev), for close_devices
    std::string fingerprint;     // agents with a client certificate: its SHA-256, for close_certificates
    gint64 window_start_us = 0;  // message rate: the current one-second window
    int window_count = 0;
    // Messages an agent may send on top of the rate for the offers it was sent
    // (its answers, candidates and statuses): this window's and the last one's.
    int credit = 0, previous_credit = 0;
    bool stale = false;      // figure updates were dropped: a fresh copy once it keeps up
    size_t sent_behind = 0;  // bytes sent to it while it was behind
  };
  struct Upgrade;  // what a peer proved, from its request, until its connection is taken

  void accept(const Upgrade &upgrade, GIOStream *stream);
  void on_text(PeerId id, const std::string &text);
  void on_closed(PeerId id);
  // `droppable`: figures, which a socket that does not keep up goes without.
  void send(Peer &peer, const std::string &json, bool droppable = false);
  // Bytes sent to the peer that it has not taken yet.
  static size_t queued(const Peer &peer) { return peer.conn->queued(); }
  void heartbeat();
  void tick();
  // Refuses an upgrade with 503 and Retry-After while saturated or over a limit (true then).
  bool shed(SoupServerMessage *msg, bool agent);

  bool over_rate(Peer &peer);
  const RelaySettings &settings_;
  const Access &access_;
  SessionTable &table_;
  ControlBridge &commands_;
  ClusterLink &cluster_;
  FanoutWorkers *workers_ = nullptr;
  Metrics &metrics_;
  LoopLag lag_;
  WsConnections connections_;  // before peers_: outlives the pointers to it
  std::map<PeerId, std::unique_ptr<Peer>> peers_;
  PeerId next_id_ = 1;
  VirtualViewers *virtual_ = nullptr;
  size_t agents_held_ = 0, viewers_held_ = 0;
  gint64 shed_logged_us_ = 0;  // sheds are logged once a second, with how many
  size_t shed_unlogged_ = 0;
  SourceId heartbeat_timer_;
  SourceId tick_timer_;
};

}  // namespace sl::relay
