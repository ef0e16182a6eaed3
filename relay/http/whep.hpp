// WHEP (draft-ietf-wish-whep): any standard player watches a camera over plain
// HTTP. POST /whep/<camera> takes the player's SDP offer and answers 201 with the
// agent's answer (with the candidates the agent gathered meanwhile), the session's
// resource (Location: /whep/session/<id>), its ETag and its STUN/TURN servers as
// Link headers; PATCH on the resource trickles the player's candidates to the
// agent; DELETE ends it. Media flows player <-> agent directly, as for pages.
//
// Each WHEP session is a virtual viewer of the session table: the socket hub
// gives it a peer id, the table decides exactly as for a page (scope, limits,
// camera online, TURN credentials bounded by the token), and what the table says
// to that peer comes here (deliver) instead of to a WebSocket. A session ends on
// DELETE, when the agent ends it (the player's connection failed or closed: the
// agent's webrtcbin notices), at the relay's session lifetime, or when its agent
// leaves; nothing else keeps it.
#pragma once

#include "auth/access.hpp"
#include "gobj.hpp"
#include "http/socket_hub.hpp"
#include "http/whep_sdp.hpp"
#include "metrics.hpp"
#include "sessions/session_table.hpp"

#include <libsoup/soup.h>

#include <map>
#include <memory>
#include <string>

namespace sl::relay {

class Whep : public VirtualViewers {
 public:
  Whep(SoupServer *server, const Access &access, SessionTable &table, SocketHub &hub, Metrics &metrics);
  ~Whep() override;
  Whep(const Whep &) = delete;
  Whep &operator=(const Whep &) = delete;

  void deliver(PeerId viewer, const proto::RelayToViewer &message) override;

 private:
  struct Session {
    PeerId peer = 0;
    std::string id;  // the table's session id, also the resource's name
    std::string camera;
    std::string etag;
    std::string client;
    whep::OfferFacts offer;
    std::vector<proto::IceServer> ice_servers;
    // The POST waiting for the agent's answer (a reference held), until it is answered.
    SoupServerMessage *pending = nullptr;
    gulong disconnected_handler = 0;
    std::string answer;
    std::vector<whep::AgentCandidate> candidates;
    gint64 answered_us = 0;
    SourceId gathering;  // answers the POST when the agent's candidates stop coming
  };

  // Before the body is read: origin, token, body size.
  void screen(SoupServerMessage *msg, const std::string &path);
  void handle(SoupServerMessage *msg, const std::string &path);
  void post_offer(SoupServerMessage *msg, const auth::Claims &claims, const std::string &camera);
  void patch(SoupServerMessage *msg, Session &s);
  void remove(SoupServerMessage *msg, Session &s);
  // The pending POST gets the answer with the candidates gathered so far.
  void answer_post(Session &s, bool complete);
  // The pending POST gets an error.
  void fail_post(Session &s, guint status, const std::string &why);
  // Lets go of the pending POST; `send`: what it was given goes out (not when its player left).
  void release_post(Session &s, bool send = true);
  // The session is over: its virtual viewer leaves the table (later, out of apply).
  void end(PeerId peer);
  void reap();
  Session *by_resource(const std::string &id);

  const Access &access_;
  SessionTable &table_;
  SocketHub &hub_;
  Metrics &metrics_;
  std::map<PeerId, std::unique_ptr<Session>> sessions_;
  std::map<std::string, PeerId> resources_;  // session id -> its virtual viewer
  std::vector<PeerId> ending_;
  SourceId reaper_;
};

}  // namespace sl::relay
