// The relay's state, as a plain state machine with no sockets and no timers:
// who is connected, which cameras exist, which session belongs to whom. Events
// go in (a peer joined, said something, left; time passed), and the messages
// to send and the sockets to close come out. The socket hub is the thin shell
// that feeds it; tests drive it directly.
#pragma once

#include "protocol.hpp"

#include <cstdint>
#include <functional>
#include <map>
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
struct Actions {
  std::vector<Outgoing> sends;
  std::vector<Close> closes;
};

struct Limits {
  size_t sessions_per_viewer = 16;
  size_t sessions_per_camera = 64;
  size_t pending_per_viewer = 4;    // sessions not yet answered by their camera
  int64_t session_lifetime_ms = 0;  // 0: forever; else sessions end then (their TURN credentials expire then)
  size_t sessions_per_client = 32;  // across every socket of one client (its address)
};

// Mints the per-session ICE servers (TURN with short-lived credentials) for a
// session id, valid `valid_for_s` seconds from now; none when no TURN is configured.
using MintIce = std::function<std::vector<proto::IceServer>(const std::string &session, int64_t valid_for_s)>;

class SessionTable {
 public:
  SessionTable(std::vector<proto::IceServer> ice_servers, int64_t session_timeout_ms, Limits limits,
               std::function<std::string()> new_session_id, MintIce mint_ice = {});

  Actions agent_hello(PeerId agent, const proto::Hello &hello);
  Actions agent_message(PeerId agent, const proto::AgentToRelay &message);
  Actions agent_gone(PeerId agent);
  // `client` names who is behind the socket (its address): limits count across its sockets.
  Actions viewer_joined(PeerId viewer, CameraFilter only = {}, std::string client = {});
  Actions viewer_message(PeerId viewer, const proto::ViewerToRelay &message, int64_t now_ms);
  Actions viewer_gone(PeerId viewer);
  // A camera's retained state from the control plane (MQTT): known cameras and
  // their figures even before (or without) their agent's connection.
  Actions camera_state(const control::CameraState &state);
  bool has_camera(const std::string &id) const;
  // Ends sessions the agent did not answer in time.
  Actions tick(int64_t now_ms);

  std::vector<proto::CameraEntry> cameras() const { return cameras(CameraFilter{}); }
  std::vector<proto::CameraEntry> cameras(const CameraFilter &only) const;
  bool viewer_may_see(PeerId viewer, const std::string &camera) const;
  size_t agent_count() const { return agents_.size(); }
  size_t viewer_count() const { return viewers_.size(); }
  size_t session_count() const { return sessions_.size(); }

 private:
  struct Camera {
    proto::CameraEntry entry;
    PeerId agent = 0;        // 0 = offline
    bool capturing = true;   // its agent's last status: the camera delivers video
  };
  struct Session {
    std::string id;
    std::string camera;
    PeerId agent = 0;
    PeerId viewer = 0;
    int64_t created_ms = 0;
    bool answered = false;
  };

  void end_session(const std::string &id, const std::string &reason, bool tell_agent, bool tell_viewer, Actions &out);
  void broadcast_cameras(Actions &out) const;
  void refresh_viewer_counts();
  static void to_agent(Actions &out, PeerId peer, proto::RelayToAgent m) { out.sends.push_back({peer, std::move(m)}); }
  static void to_viewer(Actions &out, PeerId peer, proto::RelayToViewer m) { out.sends.push_back({peer, std::move(m)}); }
  // The session `id` if `peer` is its `end` (&Session::agent or &Session::viewer).
  Session *session_for(const std::string &id, PeerId Session::*end, PeerId peer);
  // Ends an agent's sessions and takes its cameras offline, without telling viewers
  // about the camera list (the caller does, once).
  void forget_agent(PeerId agent, Actions &out);
  static void reset_figures(proto::CameraEntry &entry);
  static void refresh_online(Camera &camera);

  std::vector<proto::IceServer> ice_servers_;
  int64_t session_timeout_ms_;
  Limits limits_;
  std::function<std::string()> new_session_id_;
  MintIce mint_ice_;
  std::map<PeerId, std::vector<std::string>> agents_;  // agent -> its camera ids
  std::map<PeerId, CameraFilter> viewers_;
  std::map<PeerId, std::string> clients_;  // viewer -> its client
  std::map<std::string, Camera> cameras_;
  std::map<std::string, Session> sessions_;
};

}  // namespace sl::relay
