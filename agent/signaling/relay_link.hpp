// The agent's one WebSocket to the relay: dials out (so the agent works behind
// NAT), says hello, sends heartbeats, drops a silent link, and reconnects with
// jittered exponential backoff for as long as the agent runs.
#pragma once

#include "backoff.hpp"
#include "gobj.hpp"
#include "protocol.hpp"

#include <libsoup/soup.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

namespace sl::agent {

class RelayLink {
 public:
  struct Handlers {
    std::function<void()> connected;  // hello was sent
    std::function<void(const proto::RelayToAgent &)> message;
    std::function<void()> disconnected;
    std::function<void(const std::string &why)> refused = nullptr;  // a connect attempt failed (it retries)
    // The sessions to keep across a new link made because the old one's local
    // address went away (addresses_gone): named in the next hello.
    std::function<std::vector<std::string>()> kept_sessions = nullptr;
  };
  // `urls`: the relays, tried in turn (the next one after each failure or lost
  // link: relays sharing a broker, docs/fleet.md). `device_secret` (may be empty)
  // proves hello.agent to the relay; `ca_file` (may be empty) is the CA a wss://
  // relay's certificate must chain to.
  // `certificate` (may be null): shown to a relay that asks (mutual TLS).
  RelayLink(std::vector<std::string> urls, proto::Hello hello, int heartbeat_s, int reconnect_max_s, Handlers handlers,
            std::string device_secret = {}, const std::string &ca_file = {}, GTlsCertificate *certificate = nullptr);
  ~RelayLink();

  void start();
  // Sends one message; dropped (with a debug line) while the link is down.
  void send(const std::string &json);
  bool is_up() const { return conn_ != nullptr; }
  // Local addresses went away (address_watch.hpp): a link that stood on one is dead
  // without knowing it (TCP says nothing for minutes); it is dropped and made again
  // at once from the address there is now, keeping the viewers' sessions.
  void addresses_gone(const std::set<std::string> &gone);
  // From such a drop until the new link is up: the sessions are kept, not forgotten.
  bool relinking() const { return relinking_; }

 private:
  void connect();
  void on_connected(SoupWebsocketConnection *conn);
  void on_text(const std::string &text);
  void on_closed();
  // Lets go of the link (the relay closed it, or it went silent) and tries again.
  void drop(gushort code);
  // Takes the link out (its handlers, its heartbeats) and says so: what is left of it.
  Owned<SoupWebsocketConnection> detach();
  // After the backoff's delay, and at least `at_least_ms`.
  void schedule_reconnect(uint32_t at_least_ms = 0);

  std::vector<std::string> urls_;
  size_t next_ = 0;  // the relay to try next
  std::string url_;  // the one tried or connected now
  proto::Hello hello_;
  std::string device_secret_;
  Owned<GTlsCertificate> certificate_;
  int heartbeat_s_;
  Handlers handlers_;
  Backoff backoff_;
  Owned<SoupSession> session_;
  Owned<GCancellable> cancellable_;
  Owned<SoupWebsocketConnection> conn_;
  Owned<SoupWebsocketConnection> replaced_;  // dead with its address, kept until the new link is welcomed
  Owned<SoupMessage> pending_;               // the last handshake, for its HTTP status
  gulong message_handler_ = 0, closed_handler_ = 0;
  SourceId reconnect_timer_;
  SourceId heartbeat_timer_;
  gint64 last_heard_us_ = 0;
  gint64 connected_at_us_ = 0;
  std::string local_address_;  // the link's own end, as its TCP connection was made
  bool relinking_ = false;
};

}  // namespace sl::agent
