// The relay's state, as a plain state machine with no sockets and no timers:
// who is connected, which cameras exist, which session belongs to whom, which
// page shows which cameras, and who may do what (an agent announces only its own
// device; commands need the operator role and a camera in the token's scope).
// Events go in (a peer joined, said something, left; time passed), and the
// messages to send, the sockets to close, the commands to forward and the lines
// to log come out. The socket hub is the thin shell that feeds it; tests drive it
// directly.
//
// Costs follow what changes: an event about a camera costs work for that camera
// and for the pages subscribed to it, never a pass over the fleet. Pages get
// `camera_update`s for what they subscribed to: online, connection, viewers and
// size at once, figures at most once a second (`tick`), and `totals` at most
// once a second when they changed.
#pragma once

#include "fanout_policy.hpp"
#include "protocol.hpp"
#include "result.hpp"
#include "token.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace sl::relay {

using PeerId = uint64_t;
// The cameras a viewer may see (from its token); empty: all of them.
using CameraFilter = std::vector<std::string>;

struct Outgoing {
  PeerId peer = 0;
  std::variant<proto::RelayToAgent, proto::RelayToViewer> message;
};
struct Close {
  PeerId peer = 0;
  unsigned short code = 1000;
  std::string reason;
};
// A command a viewer may send: the shell hands it to the control plane and
// sends the camera's answer back to `viewer` as a command_result.
struct ForwardCommand {
  PeerId viewer = 0;
  proto::CommandRequest request;
};
// A line for the log, about `peer`; the shell adds who the peer is.
struct LogLine {
  PeerId peer = 0;
  bool warning = false;
  std::string text;
};
// A signal for another relay of the same broker (docs/fleet.md, several relays).
struct RemoteSend {
  std::string relay;
  proto::RelayToRelay message;
};
// A fan-out worker to start (docs/fanout.md): the relay runs an agent under
// `device` that takes `camera` from the relay's WHEP and serves its viewers.
struct StartWorker {
  std::string device;
  std::string camera;
  bool sound = false;  // the camera has sound: the worker takes it too
};
struct Actions {
  std::vector<Outgoing> sends;
  std::vector<Close> closes;
  std::vector<ForwardCommand> commands;
  std::vector<LogLine> logs;
  std::vector<RemoteSend> remote;
  // Cameras whose agent this relay now holds, or no longer holds (the other relays are told).
  std::vector<std::string> held, released;
  // Fan-out workers to start, and to stop (by device id).
  std::vector<StartWorker> start_workers;
  std::vector<std::string> stop_workers;
};

// Why a command is refused: `code` is the ack's error code.
struct CommandRefusal {
  std::string code;  // unknown_camera (outside the token's scope: as if it did not exist), forbidden
  std::string message;
};
// Whether a token's holder may command `camera` (HTTP API and viewer sockets alike).
Result<void, CommandRefusal> may_command(const auth::Claims &claims, const std::string &camera);

struct Limits {
  size_t sessions_per_viewer = 16;
  size_t sessions_per_camera = 64;
  size_t pending_per_viewer = 4;    // sessions not yet answered by their camera
  int64_t session_lifetime_ms = 0;  // 0: forever; else sessions end then (their TURN credentials expire then)
  size_t sessions_per_client = 32;  // across every socket of one client (its address)
  // A page's answered sessions outlive its socket this long, for it to take them
  // back (`restart`) once it reconnects from wherever its network now is; 0: they end with it.
  int64_t session_hold_ms = 0;
};

// Mints the per-session ICE servers (TURN with short-lived credentials) for a
// session id, valid `valid_for_s` seconds from now but never past `not_after_s`
// (wall-clock seconds, the viewer's token's expiry; 0: none); none when no TURN
// is configured.
using MintIce =
    std::function<std::vector<proto::IceServer>(const std::string &session, int64_t valid_for_s, int64_t not_after_s)>;

class SessionTable {
 public:
  SessionTable(std::vector<proto::IceServer> ice_servers, int64_t session_timeout_ms, Limits limits,
               std::function<std::string()> new_session_id, MintIce mint_ice = {});

  // An agent's socket opened; `device` is the id it proved with its secret
  // ("" = any id, insecure-dev). An agent never joined may announce any id.
  void agent_joined(PeerId agent, std::string device);
  // Refused (forbidden, socket closed) when it names another device than its own.
  Actions agent_hello(PeerId agent, const proto::Hello &hello);
  Actions agent_message(PeerId agent, const proto::AgentToRelay &message);
  Actions agent_gone(PeerId agent);
  // `client` names who is behind the socket (its address): limits count across its sockets.
  // `role` is its token's: commands need operator or admin. `token_expires_at_s`
  // (wall clock, 0: never) bounds the TURN credentials minted for its sessions.
  // `kind`: a page gets the camera list and its updates; a WHEP session's virtual
  // viewer (relay/http/whep.hpp) does not; a feed is a fan-out worker's WHEP
  // session, which takes the camera's stream for the worker: always from the
  // camera itself, and not counted among its viewers.
  enum class ViewerKind { Page, Whep, Feed };
  Actions viewer_joined(PeerId viewer, CameraFilter only = {}, std::string client = {},
                        auth::Role role = auth::Role::Viewer, int64_t token_expires_at_s = 0,
                        ViewerKind kind = ViewerKind::Page);
  // A command becomes a ForwardCommand when allowed, else a command_result with the refusal.
  Actions viewer_message(PeerId viewer, const proto::ViewerToRelay &message, int64_t now_ms);
  Actions viewer_gone(PeerId viewer);
  // A fresh copy of what `viewer` subscribed to and the totals: for a page whose
  // coalesced updates were dropped while it did not keep up.
  Actions resync(PeerId viewer) const;
  // ---- several relays on one broker: the cluster link feeds these ----
  // `relay` (another one) holds `camera`'s agent now; "" = no other relay does.
  Actions camera_holder(const std::string &camera, const std::string &relay);
  // A signal from another relay about a session one of its viewers or agents is in.
  Actions relay_message(const std::string &relay, const proto::RelayToRelay &message);
  // Another relay is gone: the sessions through it end, the cameras it held are no longer held.
  Actions relay_gone(const std::string &relay);
  // The cameras whose agents are connected here (announced again after a broker reconnect).
  std::vector<std::string> held_cameras() const;

  // ---- fan-out (docs/fanout.md) ----
  // When viewers are served through a worker; off (every camera direct) until set.
  void set_fanout(FanoutPolicy policy) { fanout_ = std::move(policy); }
  size_t worker_count() const { return workers_.size(); }
  // Viewers in step: the delay the welcome names (docs/playback-sync.md).
  void set_sync_delay_ms(int ms) { sync_delay_ms_ = ms; }
  size_t relayed_session_count() const;  // sessions served by a worker

  // A camera's retained state from the control plane (MQTT): known cameras and
  // their figures even before (or without) their agent's connection.
  Actions camera_state(const control::CameraState &state);
  bool has_camera(const std::string &id) const;
  // The camera's entry, or null when unknown.
  const proto::CameraEntry *camera(const std::string &id) const;
  // Once a second: ends sessions the agent did not answer in time, sends the
  // figures that changed since the last tick and the totals if they changed.
  Actions tick(int64_t now_ms);

  // One page of the list, as `scope` may see it (GET /api/cameras, `subscribe`).
  proto::CameraPage list(const CameraFilter &scope, const proto::CameraQuery &query) const;
  proto::Totals totals(const CameraFilter &scope) const;
  // Every camera (tests).
  std::vector<proto::CameraEntry> cameras() const;
  bool viewer_may_see(PeerId viewer, const std::string &camera) const;
  size_t agent_count() const { return agents_.size(); }
  size_t viewer_count() const { return viewers_.size() - listless_; }  // pages (not WHEP sessions)
  size_t session_count() const { return sessions_.size(); }
  size_t camera_count() const { return cameras_.size(); }
  size_t online_count() const { return online_; }
  size_t subscription_count() const;                       // (page, camera) pairs
  size_t pending_session_count() const;                    // not answered yet
  size_t held_session_count() const { return held_; }      // waiting for their page to come back
  uint64_t coalesced_count() const { return coalesced_; }  // figure changes folded into a later update

 private:
  struct Camera {
    proto::CameraEntry entry;
    PeerId agent = 0;       // 0 = offline
    bool capturing = true;  // its agent's last status: the camera delivers video
    std::string holder;     // another relay holding its agent (when `agent` is 0)
    // Its part in the totals, as last counted.
    bool counted_online = false;
    bool counted_watched = false;
  };
  struct Viewer {
    CameraFilter scope;  // from its token; empty: every camera
    auth::Role role = auth::Role::Viewer;
    std::string client;
    std::vector<std::string> shown;           // what it subscribed to
    std::optional<proto::CameraQuery> query;  // a page of the list (not ids)
    std::set<std::string> sessions;
    int64_t token_expires_at_s = 0;  // wall clock; 0: never
    bool lists = true;               // a page (not a WHEP session): list and totals updates
    bool feed = false;               // a fan-out worker's WHEP session
  };
  struct Session {
    std::string id;
    std::string camera;
    PeerId agent = 0;
    PeerId viewer = 0;
    int64_t created_ms = 0;
    bool answered = false;
    // The end that is on another relay (its agent, or its viewer), by that relay's id.
    std::string agent_relay, viewer_relay;
    std::string via;            // the fan-out worker's camera serving it (its agent is the worker's); empty: direct
    bool feed = false;          // a fan-out worker taking the camera's stream
    int64_t held_since_ms = 0;  // its page's socket closed then (viewer 0): taken back by a restart, or ended
  };
  // A fan-out worker, by the camera it serves.
  struct Worker {
    std::string device;  // its device id (kFanoutDevicePrefix...)
    PeerId agent = 0;    // 0 until it says hello
    std::string camera;  // its own camera's id (its hello)
    bool ready = false;  // it delivers the camera's video: viewers go through it
    int64_t started_ms = 0;
    int64_t idle_since_ms = 0;  // 0 while it serves someone
    size_t sessions = 0;        // served through it now
  };

  void end_session(const std::string &id, const std::string &reason, bool tell_agent, bool tell_viewer, Actions &out);
  // A page's restart of a session this relay does not know: taken over through the
  // camera's relay when there is one (false: there is none to ask).
  bool restart_elsewhere(PeerId viewer, const proto::Restart &restart, Actions &out);
  // The session's agent (0: none here), kept in agent_sessions_.
  void set_agent(Session &s, PeerId agent);
  // The session is no longer held for its page (taken back, moved or ended).
  void take_back(Session &s);
  // The relay the session's viewer is on (empty: here), kept in relay_sessions_.
  void set_viewer_relay(Session &s, std::string relay);
  // The reason a relay lets go of a session whose page went on through another.
  static constexpr const char *kTakenOver = "taken_over";
  // `id`'s entry changed: `urgent` (online, connection, viewers, size) goes to its
  // pages with this event's actions, figures wait for the next tick.
  void changed(const std::string &id, bool urgent);
  // The urgent updates gathered during one event, one camera_update per page.
  void send_updates(Actions &out);
  void recount(Camera &camera);
  void subscribe(PeerId viewer, Viewer &v, std::vector<std::string> ids,
                 std::optional<proto::CameraQuery> query = std::nullopt);
  // A camera new to this relay joins the pages whose list has room for it.
  void added(const std::string &id);
  bool in_scope(const Viewer &v, const std::string &camera) const;
  static void to_agent(Actions &out, PeerId peer, proto::RelayToAgent m) { out.sends.push_back({peer, std::move(m)}); }
  static void to_viewer(Actions &out, PeerId peer, proto::RelayToViewer m) {
    out.sends.push_back({peer, std::move(m)});
  }
  // The session `id` if `peer` is its `end` (&Session::agent or &Session::viewer).
  Session *session_for(const std::string &id, PeerId Session::*end, PeerId peer);
  Session *session_via(const std::string &id, std::string Session::*end, const std::string &relay);
  void add_session(Session s);
  // To the session's agent or viewer, here or on its relay.
  void to_agent_of(Actions &out, const Session &s, proto::RelayToRelay m);
  void to_viewer_of(Actions &out, const Session &s, proto::RelayToRelay m);
  // Ends an agent's sessions and takes its cameras offline, without telling viewers
  // about the camera list (the caller does, once).
  void forget_agent(PeerId agent, Actions &out);
  static void reset_figures(proto::CameraEntry &entry);
  // Fan-out: starts a worker for `camera` when its policy says so for `count` viewers.
  void consider_worker(const std::string &camera, size_t count, Actions &out);
  // A worker's agent said hello (true), or claims to be one it is not (closed).
  bool worker_hello(PeerId agent, const proto::Hello &hello, Actions &out);
  void worker_status(const std::string &camera, const proto::Status &status, Actions &out);
  // Stops `camera`'s worker: `failed` keeps the camera direct for a while.
  void drop_worker(const std::string &camera, const std::string &why, bool failed, Actions &out);
  static void refresh_online(Camera &camera);

  std::vector<proto::IceServer> ice_servers_;
  int64_t session_timeout_ms_;
  Limits limits_;
  std::function<std::string()> new_session_id_;
  MintIce mint_ice_;
  Actions viewer_command(PeerId viewer, const proto::CommandRequest &command);
  Actions viewer_watch(PeerId viewer, const proto::Watch &watch, int64_t now_ms);
  Actions viewer_subscribe(PeerId viewer, const proto::Subscribe &request);
  Actions viewer_restart(PeerId viewer, const proto::Restart &restart);
  // The session's viewer end is this socket from now on (none: held, 0).
  void set_viewer(Session &s, PeerId viewer);

  std::map<PeerId, std::vector<std::string>> agents_;  // agent -> its camera ids (after its hello)
  std::map<PeerId, std::string> devices_;              // agent -> the device id it proved ("" = any)
  std::map<PeerId, std::set<std::string>> agent_sessions_;
  std::map<std::string, std::set<std::string>> relay_sessions_;  // another relay -> sessions through it
  std::map<PeerId, Viewer> viewers_;
  std::map<std::string, size_t> client_sessions_;  // client -> its sessions across its sockets
  std::map<std::string, Camera> cameras_;          // in id order: pages of the list
  std::map<std::string, Session> sessions_;
  // camera id -> the pages subscribed to it (also ids not seen yet: a view page
  // waiting for its camera).
  std::map<std::string, std::set<PeerId>> watchers_;
  std::set<std::string> dirty_;                        // figures changed since the last tick
  std::set<PeerId> open_pages_;                        // query pages not full: the end of their list is in them
  std::map<PeerId, std::vector<std::string>> urgent_;  // this event's updates, per page
  size_t online_ = 0, watched_ = 0;
  size_t listless_ = 0;  // viewers that do not list: WHEP sessions
  size_t held_ = 0;      // sessions whose page's socket closed, within session_hold_ms
  bool totals_changed_ = false;
  uint64_t coalesced_ = 0;
  int64_t now_ms_ = 0;  // as of the last tick (sessions offered by other relays start then)
  FanoutPolicy fanout_{.available = false};
  int sync_delay_ms_ = 0;
  std::map<std::string, Worker> workers_;              // camera served -> its worker
  std::map<std::string, std::string> worker_devices_;  // worker device id -> camera served
  std::map<PeerId, std::string> worker_agents_;        // worker agent -> camera served
  std::map<std::string, int64_t> direct_until_;        // camera -> no worker before then (one failed)
  uint64_t workers_started_ = 0;
};

}  // namespace sl::relay
