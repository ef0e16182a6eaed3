// The relay's WebSocket connections: agents on /ws/agent, viewers on
// /ws/viewer. Gives each a peer id, reads and validates what it sends, feeds
// the session table (which decides, checks included), carries out what the
// table says (send, close, forward a command, log), keeps heartbeats going and
// drops silent peers. The table and the control bridge are lent by main.
#pragma once

#include "auth/access.hpp"
#include "control/control_bridge.hpp"
#include "gobj.hpp"
#include "sessions/session_table.hpp"
#include "settings.hpp"

#include <libsoup/soup.h>

#include <map>
#include <memory>
#include <string>

namespace sl::relay {

class SocketHub {
 public:
  SocketHub(SoupServer *server, const RelaySettings &settings, const Access &access, SessionTable &table,
            ControlBridge &commands);
  ~SocketHub();

  // Carries out what the session table decided (also for events from the control plane).
  void apply(const Actions &actions);
  // Closes the sockets of agents that proved one of these device ids (their
  // entry changed or went away from the device list).
  void close_devices(const std::vector<std::string> &ids);

 private:
  enum class Role { Agent, Viewer };
  struct Peer {
    PeerId id = 0;
    Role role = Role::Viewer;
    Owned<SoupWebsocketConnection> conn;
    std::string address;
    gint64 last_heard_us = 0;
    std::string device;          // agents: the id proven by their secret ("" = any, insecure-dev), for close_devices
    gint64 window_start_us = 0;  // message rate: the current one-second window
    int window_count = 0;
    gulong message_handler = 0;
    gulong closed_handler = 0;
    gulong error_handler = 0;
  };
  struct Signal;  // per-connection signal context

  void accept(Role role, SoupServerMessage *msg, SoupWebsocketConnection *conn);
  void on_text(PeerId id, const std::string &text);
  void on_closed(PeerId id);
  void send(Peer &peer, const std::string &json);
  void heartbeat();

  bool over_rate(Peer &peer);
  const RelaySettings &settings_;
  const Access &access_;
  SessionTable &table_;
  ControlBridge &commands_;
  std::map<PeerId, std::unique_ptr<Peer>> peers_;
  PeerId next_id_ = 1;
  SourceId heartbeat_timer_;
  SourceId tick_timer_;
};

}  // namespace sl::relay
