#include "session_table.hpp"

#include <algorithm>
#include <cmath>

namespace sl::relay {

SessionTable::SessionTable(std::vector<proto::IceServer> ice_servers, int64_t session_timeout_ms, Limits limits,
                           std::function<std::string()> new_session_id, MintIce mint_ice)
    : ice_servers_(std::move(ice_servers)),
      session_timeout_ms_(session_timeout_ms),
      limits_(limits),
      new_session_id_(std::move(new_session_id)),
      mint_ice_(std::move(mint_ice)) {}

Result<void, CommandRefusal> may_command(const auth::Claims &claims, const std::string &camera) {
  if (!claims.may_see(camera)) return fail(CommandRefusal{"unknown_camera", "there is no camera '" + camera + "'"});
  if (claims.role < auth::Role::Operator)
    return fail(CommandRefusal{"forbidden", "commands need the operator role; this token is a viewer's"});
  return ok();
}

void SessionTable::refresh_viewer_counts() {
  for (auto &[id, camera] : cameras_) camera.entry.viewers = 0;
  for (const auto &[id, s] : sessions_) {
    auto it = cameras_.find(s.camera);
    if (it != cameras_.end()) ++it->second.entry.viewers;
  }
}

std::vector<proto::CameraEntry> SessionTable::cameras(const CameraFilter &only) const {
  std::vector<proto::CameraEntry> out;
  for (const auto &[id, camera] : cameras_)
    if (only.empty() || std::find(only.begin(), only.end(), id) != only.end()) out.push_back(camera.entry);
  return out;
}

void SessionTable::broadcast_cameras(Actions &out) const {
  for (const auto &[viewer, only] : viewers_) to_viewer(out, viewer, proto::Cameras{cameras(only)});
}

bool SessionTable::viewer_may_see(PeerId viewer, const std::string &camera) const {
  auto it = viewers_.find(viewer);
  return it != viewers_.end() &&
         (it->second.empty() || std::find(it->second.begin(), it->second.end(), camera) != it->second.end());
}

SessionTable::Session *SessionTable::session_for(const std::string &id, PeerId Session::*end, PeerId peer) {
  auto it = sessions_.find(id);
  return it == sessions_.end() || it->second.*end != peer ? nullptr : &it->second;
}

void SessionTable::reset_figures(proto::CameraEntry &entry) {
  entry.branches = 0;
  entry.fps_measured = 0;
  entry.bitrate_kbps = 0;
}

void SessionTable::end_session(const std::string &id, const std::string &reason, bool tell_agent, bool tell_viewer,
                               Actions &out) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  const Session s = it->second;
  sessions_.erase(it);
  if (tell_agent) to_agent(out, s.agent, proto::SessionEnd{id, reason});
  if (tell_viewer) to_viewer(out, s.viewer, proto::SessionEnd{id, reason});
}

void SessionTable::agent_joined(PeerId agent, std::string device) { devices_[agent] = std::move(device); }

Actions SessionTable::agent_hello(PeerId agent, const proto::Hello &hello) {
  Actions out;
  // An agent speaks for its own device only.
  const auto proven = devices_.find(agent);
  const std::string device = proven == devices_.end() ? std::string() : proven->second;
  bool own = device.empty() || hello.agent == device;
  for (const auto &c : hello.cameras) own = own && (device.empty() || c.id == device);
  if (!own) {
    out.logs.push_back({agent, true, "device " + device + " claimed another id (" + hello.agent + "); closing"});
    to_agent(out, agent, proto::Error{"forbidden", "device " + device + " may only announce itself", "", ""});
    out.closes.push_back(Close{agent, 1008, "not your id"});
    return out;
  }
  for (const auto &c : hello.cameras)
    out.logs.push_back({agent, false,
                        "camera " + c.id + " online (agent " + hello.agent + ", " + std::to_string(c.width) + "x" +
                            std::to_string(c.height) + "@" + std::to_string(c.fps) + " " + c.codec + " via " +
                            c.encoder + ")"});
  // A camera already online elsewhere is taken over by this newer connection:
  // usually the same agent, back before the relay noticed its old socket died.
  for (const auto &info : hello.cameras) {
    auto it = cameras_.find(info.id);
    if (it == cameras_.end() || it->second.agent == 0 || it->second.agent == agent) continue;
    const PeerId old = it->second.agent;
    forget_agent(old, out);
    out.closes.push_back(Close{old, 1008, "replaced"});
  }
  auto &owned = agents_[agent];
  for (const auto &info : hello.cameras) {
    Camera &camera = cameras_[info.id];
    camera.agent = agent;
    camera.capturing = true;  // until its status says otherwise
    camera.entry.info = info;
    reset_figures(camera.entry);
    refresh_online(camera);
    if (std::find(owned.begin(), owned.end(), info.id) == owned.end()) owned.push_back(info.id);
  }
  refresh_viewer_counts();
  to_agent(out, agent, proto::AgentWelcome{ice_servers_});
  broadcast_cameras(out);
  return out;
}

void SessionTable::forget_agent(PeerId agent, Actions &out) {
  auto it = agents_.find(agent);
  if (it == agents_.end()) return;
  std::vector<std::string> ending;
  for (const auto &[id, s] : sessions_)
    if (s.agent == agent) ending.push_back(id);
  for (const auto &id : ending) end_session(id, "camera_offline", false, true, out);
  for (const auto &camera_id : it->second) {
    auto cam = cameras_.find(camera_id);
    if (cam == cameras_.end() || cam->second.agent != agent) continue;
    cam->second.agent = 0;
    reset_figures(cam->second.entry);
    refresh_online(cam->second);
  }
  agents_.erase(it);
  refresh_viewer_counts();
}

void SessionTable::refresh_online(Camera &camera) {
  camera.entry.connected = camera.agent != 0;
  // With its agent here, the agent knows best: a camera that failed or was unplugged
  // is offline although its agent is connected.
  camera.entry.online = camera.agent != 0 ? camera.capturing : (camera.entry.state && camera.entry.state->online);
}

Actions SessionTable::camera_state(const control::CameraState &state) {
  Actions out;
  auto it = cameras_.find(state.camera);
  if (it == cameras_.end()) {
    if (!state.online) return out;  // an offline camera this relay never saw: nothing to show
    it = cameras_.emplace(state.camera, Camera{}).first;
    it->second.entry.info.id = state.camera;
  }
  Camera &camera = it->second;
  auto &info = camera.entry.info;
  const auto before = camera.entry;
  if (state.online) {
    info.width = state.width;
    info.height = state.height;
    info.fps = state.fps_target;
    info.codec = state.codec;
    info.source = state.source;
    info.encoder = state.encoder;
  }
  camera.entry.state = state;
  refresh_online(camera);
  // Figures change at every state message: pages hear of it at the state's pace.
  if (!(before == camera.entry)) broadcast_cameras(out);
  return out;
}

bool SessionTable::has_camera(const std::string &id) const { return cameras_.count(id) != 0; }

Actions SessionTable::agent_gone(PeerId agent) {
  Actions out;
  devices_.erase(agent);
  if (!agents_.count(agent)) return out;
  forget_agent(agent, out);
  broadcast_cameras(out);
  return out;
}

Actions SessionTable::agent_message(PeerId agent, const proto::AgentToRelay &message) {
  Actions out;
  auto error = [&](const std::string &code, const std::string &text, const std::string &session) {
    to_agent(out, agent, proto::Error{code, text, session, ""});
  };
  if (std::holds_alternative<proto::Hello>(message)) return agent_hello(agent, std::get<proto::Hello>(message));
  if (!agents_.count(agent)) {
    out.logs.push_back({agent, true, "spoke before saying hello; closing"});
    error("bad_message", "the first message must be hello", "");
    out.closes.push_back(Close{agent, 1008, "hello first"});
    return out;
  }
  if (auto *answer = std::get_if<proto::Answer>(&message)) {
    Session *s = session_for(answer->session, &Session::agent, agent);
    if (!s) {
      error("unknown_session", "no session " + answer->session + " for this agent", answer->session);
      return out;
    }
    s->answered = true;
    to_viewer(out, s->viewer, proto::Answer{answer->session, answer->sdp});
  } else if (auto *ice = std::get_if<proto::Ice>(&message)) {
    Session *s = session_for(ice->session, &Session::agent, agent);
    if (!s) {
      error("unknown_session", "no session " + ice->session + " for this agent", ice->session);
      return out;
    }
    to_viewer(out, s->viewer, *ice);
  } else if (auto *end = std::get_if<proto::SessionEnd>(&message)) {
    if (!session_for(end->session, &Session::agent, agent)) return out;  // already gone: nothing to tell anyone
    end_session(end->session, end->reason, false, true, out);
    refresh_viewer_counts();
    broadcast_cameras(out);
  } else if (auto *status = std::get_if<proto::Status>(&message)) {
    auto cam = cameras_.find(status->camera);
    if (cam == cameras_.end() || cam->second.agent != agent) {
      error("unknown_camera", "this agent did not announce camera " + status->camera, "");
      return out;
    }
    auto &e = cam->second.entry;
    const auto before = e;
    // The camera failed or came back: the agent ended its sessions itself.
    cam->second.capturing = status->capturing;
    refresh_online(cam->second);
    // One decimal: the camera list goes to every page, and a change in the
    // noise of a measurement is not worth a broadcast.
    const auto tenth = [](double v) { return std::round(v * 10) / 10; };
    e.branches = status->branches;
    e.fps_measured = tenth(status->fps);
    e.bitrate_kbps = tenth(status->bitrate_kbps);
    if (status->width) {  // the size changes while playing (set_video)
      e.info.width = status->width;
      e.info.height = status->height;
    }
    if (!(before == e)) broadcast_cameras(out);
  } else if (auto *report = std::get_if<proto::Error>(&message)) {
    out.logs.push_back({agent, true, "reports: " + report->code + ": " + report->message});
  }
  // Heartbeat: nothing to do.
  return out;
}

Actions SessionTable::viewer_joined(PeerId viewer, CameraFilter only, std::string client, auth::Role role) {
  Actions out;
  clients_[viewer] = std::move(client);
  roles_[viewer] = role;
  viewers_[viewer] = std::move(only);
  to_viewer(out, viewer, proto::ViewerWelcome{ice_servers_, cameras(viewers_[viewer])});
  return out;
}

Actions SessionTable::viewer_gone(PeerId viewer) {
  Actions out;
  clients_.erase(viewer);
  roles_.erase(viewer);
  if (!viewers_.erase(viewer)) return out;
  std::vector<std::string> ending;
  for (const auto &[id, s] : sessions_)
    if (s.viewer == viewer) ending.push_back(id);
  for (const auto &id : ending) end_session(id, "viewer_gone", true, false, out);
  if (!ending.empty()) {
    refresh_viewer_counts();
    broadcast_cameras(out);
  }
  return out;
}

Actions SessionTable::viewer_command(PeerId viewer, const proto::CommandRequest &command) {
  Actions out;
  const auto scope = viewers_.find(viewer);
  if (scope == viewers_.end()) return out;
  auth::Claims claims;
  claims.cameras = scope->second;
  claims.role = roles_.count(viewer) ? roles_.at(viewer) : auth::Role::Viewer;
  if (auto allowed = may_command(claims, command.camera); !allowed) {
    control::Ack a = control::error_ack(allowed.error().code, allowed.error().message);
    a.type = command.command;
    a.camera = command.camera;
    to_viewer(out, viewer, proto::CommandResult{command.ref, command.camera, a});
    return out;
  }
  out.commands.push_back(ForwardCommand{viewer, command});
  return out;
}

Actions SessionTable::viewer_message(PeerId viewer, const proto::ViewerToRelay &message, int64_t now_ms) {
  Actions out;
  if (auto *command = std::get_if<proto::CommandRequest>(&message)) return viewer_command(viewer, *command);
  if (auto *watch = std::get_if<proto::Watch>(&message)) {
    auto refuse = [&](const std::string &code, const std::string &text) {
      to_viewer(out, viewer, proto::Error{code, text, "", watch->ref});
    };
    auto cam = cameras_.find(watch->camera);
    // A camera outside the viewer's token is answered like one that does not exist.
    if (cam == cameras_.end() || !viewer_may_see(viewer, watch->camera)) {
      refuse("unknown_camera", "there is no camera '" + watch->camera + "'");
      return out;
    }
    if (cam->second.agent == 0) {
      refuse("camera_offline", "camera '" + watch->camera + "' is offline");
      return out;
    }
    if (!cam->second.capturing) {
      refuse("camera_offline", "camera '" + watch->camera +
                                   "' delivers no video: it failed or was unplugged, and its "
                                   "agent is trying to open it again");
      return out;
    }
    size_t of_viewer = 0, of_camera = 0, pending = 0, of_client = 0;
    auto client_of = [this](PeerId v) {
      auto it = clients_.find(v);
      return it == clients_.end() ? std::string() : it->second;
    };
    const std::string client = client_of(viewer);
    for (const auto &[id, s] : sessions_) {
      of_viewer += s.viewer == viewer;
      of_camera += s.camera == watch->camera;
      pending += s.viewer == viewer && !s.answered;
      of_client += !client.empty() && client_of(s.viewer) == client;
    }
    if (of_client >= limits_.sessions_per_client) {
      refuse("too_many_sessions", "this client already watches " + std::to_string(of_client) + " sessions");
      return out;
    }
    if (pending >= limits_.pending_per_viewer) {
      refuse("too_many_pending", "this connection already has " + std::to_string(pending) +
                                     " unanswered sessions; ask again once one is answered");
      return out;
    }
    if (of_viewer >= limits_.sessions_per_viewer) {
      refuse("too_many_sessions", "this connection already watches " + std::to_string(of_viewer) + " sessions");
      return out;
    }
    if (of_camera >= limits_.sessions_per_camera) {
      refuse("too_many_sessions",
             "camera '" + watch->camera + "' already has " + std::to_string(of_camera) + " viewers");
      return out;
    }
    Session s{new_session_id_(), watch->camera, cam->second.agent, viewer, now_ms, false};
    sessions_[s.id] = s;
    // Both ends get the same ICE servers: the relay's own plus TURN credentials
    // for this session alone, valid for its lifetime.
    std::vector<proto::IceServer> servers = ice_servers_;
    if (mint_ice_) {
      const int64_t lifetime_ms = limits_.session_lifetime_ms ? limits_.session_lifetime_ms : 24LL * 3600 * 1000;
      for (auto &server : mint_ice_(s.id, lifetime_ms / 1000)) servers.push_back(std::move(server));
    }
    to_viewer(out, viewer, proto::SessionStarted{watch->ref, s.id, s.camera, servers});
    to_agent(out, s.agent, proto::Offer{s.id, s.camera, watch->sdp, servers});
    refresh_viewer_counts();
    broadcast_cameras(out);
  } else if (auto *ice = std::get_if<proto::Ice>(&message)) {
    Session *s = session_for(ice->session, &Session::viewer, viewer);
    if (!s) {
      to_viewer(out, viewer, proto::Error{"unknown_session", "no session " + ice->session, ice->session, ""});
      return out;
    }
    to_agent(out, s->agent, *ice);
  } else if (auto *stop = std::get_if<proto::Stop>(&message)) {
    if (!session_for(stop->session, &Session::viewer, viewer)) {
      to_viewer(out, viewer, proto::Error{"unknown_session", "no session " + stop->session, stop->session, ""});
      return out;
    }
    end_session(stop->session, "viewer_left", true, false, out);
    refresh_viewer_counts();
    broadcast_cameras(out);
  }
  return out;
}

Actions SessionTable::tick(int64_t now_ms) {
  Actions out;
  std::vector<std::string> late;
  std::vector<std::string> old;
  for (const auto &[id, s] : sessions_) {
    if (!s.answered && now_ms - s.created_ms > session_timeout_ms_)
      late.push_back(id);
    else if (limits_.session_lifetime_ms && now_ms - s.created_ms > limits_.session_lifetime_ms)
      old.push_back(id);
  }
  for (const auto &id : late) end_session(id, "timeout", true, true, out);
  // Past its lifetime (its TURN credentials expire): the page asks again.
  for (const auto &id : old) end_session(id, "lifetime", true, true, out);
  late.insert(late.end(), old.begin(), old.end());
  if (!late.empty()) {
    refresh_viewer_counts();
    broadcast_cameras(out);
  }
  return out;
}

}  // namespace sl::relay
