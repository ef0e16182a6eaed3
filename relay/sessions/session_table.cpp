#include "session_table.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace sl::relay {

namespace {
// What a page must hear of at once; anything else is figures, coalesced.
bool urgent_change(const proto::CameraEntry &a, const proto::CameraEntry &b) {
  return a.online != b.online || a.connected != b.connected || a.viewers != b.viewers || a.error != b.error ||
         !(a.info == b.info);
}

bool matches(const proto::CameraEntry &e, const proto::CameraQuery &query) {
  if (query.online && e.online != *query.online) return false;
  if (query.q.empty()) return true;
  const auto &id = e.info.id;
  return std::search(id.begin(), id.end(), query.q.begin(), query.q.end(),
                     [](char a, char b) { return g_ascii_tolower(a) == g_ascii_tolower(b); }) != id.end();
}
}  // namespace

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

bool SessionTable::in_scope(const Viewer &v, const std::string &camera) const {
  return v.scope.empty() || std::find(v.scope.begin(), v.scope.end(), camera) != v.scope.end();
}

bool SessionTable::viewer_may_see(PeerId viewer, const std::string &camera) const {
  auto it = viewers_.find(viewer);
  return it != viewers_.end() && in_scope(it->second, camera);
}

std::vector<proto::CameraEntry> SessionTable::cameras() const {
  std::vector<proto::CameraEntry> out;
  for (const auto &[id, camera] : cameras_) out.push_back(camera.entry);
  return out;
}

size_t SessionTable::subscription_count() const {
  size_t n = 0;
  for (const auto &[id, pages] : watchers_) n += pages.size();
  return n;
}

size_t SessionTable::pending_session_count() const {
  size_t n = 0;
  for (const auto &[id, s] : sessions_) n += !s.answered;
  return n;
}

proto::Totals SessionTable::totals(const CameraFilter &scope) const {
  proto::Totals t;
  if (scope.empty()) {
    t.cameras = int(cameras_.size());
    t.online = int(online_);
    t.watched = int(watched_);
  } else {
    for (const auto &id : scope) {
      auto it = cameras_.find(id);
      if (it == cameras_.end()) continue;
      ++t.cameras;
      t.online += it->second.entry.online;
      t.watched += it->second.entry.viewers > 0;
    }
  }
  t.offline = t.cameras - t.online;
  return t;
}

proto::CameraPage SessionTable::list(const CameraFilter &scope, const proto::CameraQuery &query) const {
  proto::CameraPage page;
  page.offset = query.offset;
  page.totals = totals(scope);
  auto take = [&](const Camera &camera) {
    if (!matches(camera.entry, query)) return;
    if (page.total >= query.offset && page.cameras.size() < query.limit) page.cameras.push_back(camera.entry);
    ++page.total;
  };
  if (scope.empty()) {
    for (const auto &[id, camera] : cameras_) take(camera);
  } else {
    std::vector<std::string> ids = scope;
    std::sort(ids.begin(), ids.end());
    for (const auto &id : ids)
      if (auto it = cameras_.find(id); it != cameras_.end()) take(it->second);
  }
  return page;
}

void SessionTable::recount(Camera &camera) {
  const bool online = camera.entry.online, watched = camera.entry.viewers > 0;
  if (online != camera.counted_online) {
    online ? ++online_ : --online_;
    camera.counted_online = online;
    totals_changed_ = true;
  }
  if (watched != camera.counted_watched) {
    watched ? ++watched_ : --watched_;
    camera.counted_watched = watched;
    totals_changed_ = true;
  }
}

void SessionTable::changed(const std::string &id, bool urgent) {
  auto cam = cameras_.find(id);
  if (cam == cameras_.end()) return;
  recount(cam->second);
  auto pages = watchers_.find(id);
  if (pages == watchers_.end()) return;
  if (!urgent) {
    coalesced_ += !dirty_.insert(id).second;
    return;
  }
  dirty_.erase(id);  // the whole entry goes now
  for (PeerId viewer : pages->second) {
    auto &ids = urgent_[viewer];
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
}

void SessionTable::send_updates(Actions &out) {
  for (auto &[viewer, ids] : urgent_) {
    proto::CameraUpdate update;
    for (const auto &id : ids)
      if (auto cam = cameras_.find(id); cam != cameras_.end()) update.cameras.push_back(cam->second.entry);
    if (!update.cameras.empty()) to_viewer(out, viewer, std::move(update));
  }
  urgent_.clear();
}

void SessionTable::subscribe(PeerId viewer, Viewer &v, std::vector<std::string> ids,
                             std::optional<proto::CameraQuery> query) {
  for (const auto &id : v.shown) {
    auto it = watchers_.find(id);
    if (it == watchers_.end()) continue;
    it->second.erase(viewer);
    if (it->second.empty()) watchers_.erase(it);
  }
  v.shown = std::move(ids);
  v.query = std::move(query);
  for (const auto &id : v.shown) watchers_[id].insert(viewer);
  if (v.query && v.shown.size() < v.query->limit)
    open_pages_.insert(viewer);
  else
    open_pages_.erase(viewer);
}

void SessionTable::added(const std::string &id) {
  totals_changed_ = true;
  const auto &entry = cameras_.at(id).entry;
  std::vector<PeerId> joined;
  for (PeerId viewer : open_pages_) {
    Viewer &v = viewers_.at(viewer);
    // Its page runs to the end of the list: a match after its first entry (or
    // anywhere, on the first page) belongs in it. Anything else the page hears
    // of through the totals, and asks again.
    if (!in_scope(v, id) || !matches(entry, *v.query)) continue;
    if (v.query->offset > 0 && (v.shown.empty() || id < v.shown.front())) continue;
    v.shown.push_back(id);
    std::sort(v.shown.begin(), v.shown.end());
    watchers_[id].insert(viewer);
    if (v.shown.size() >= v.query->limit) joined.push_back(viewer);
  }
  for (PeerId viewer : joined) open_pages_.erase(viewer);
}

Actions SessionTable::resync(PeerId viewer) const {
  Actions out;
  auto it = viewers_.find(viewer);
  if (it == viewers_.end()) return out;
  proto::CameraUpdate update;
  for (const auto &id : it->second.shown)
    if (auto cam = cameras_.find(id); cam != cameras_.end()) update.cameras.push_back(cam->second.entry);
  if (!update.cameras.empty()) to_viewer(out, viewer, std::move(update));
  to_viewer(out, viewer, proto::TotalsUpdate{totals(it->second.scope)});
  return out;
}

SessionTable::Session *SessionTable::session_for(const std::string &id, PeerId Session::*end, PeerId peer) {
  auto it = sessions_.find(id);
  return it == sessions_.end() || it->second.*end != peer ? nullptr : &it->second;
}

SessionTable::Session *SessionTable::session_via(const std::string &id, std::string Session::*end,
                                                 const std::string &relay) {
  auto it = sessions_.find(id);
  return it == sessions_.end() || it->second.*end != relay ? nullptr : &it->second;
}

void SessionTable::to_agent_of(Actions &out, const Session &s, proto::RelayToRelay m) {
  if (!s.agent_relay.empty())
    out.remote.push_back({s.agent_relay, std::move(m)});
  else
    std::visit(
        [&](auto &&msg) {
          if constexpr (std::is_constructible_v<proto::RelayToAgent, decltype(msg)>) to_agent(out, s.agent, msg);
        },
        std::move(m));
}

void SessionTable::to_viewer_of(Actions &out, const Session &s, proto::RelayToRelay m) {
  if (!s.viewer_relay.empty())
    out.remote.push_back({s.viewer_relay, std::move(m)});
  else if (s.viewer)  // none while held: its page is away
    std::visit(
        [&](auto &&msg) {
          if constexpr (std::is_constructible_v<proto::RelayToViewer, decltype(msg)>) to_viewer(out, s.viewer, msg);
        },
        std::move(m));
}

void SessionTable::add_session(Session s) {
  if (!s.agent_relay.empty()) relay_sessions_[s.agent_relay].insert(s.id);
  if (!s.viewer_relay.empty()) relay_sessions_[s.viewer_relay].insert(s.id);
  if (auto cam = cameras_.find(s.camera); cam != cameras_.end() && !s.feed) {
    ++cam->second.entry.viewers;
    changed(s.camera, true);
  }
  if (auto w = workers_.find(s.camera); !s.via.empty() && w != workers_.end()) {
    ++w->second.sessions;
    w->second.idle_since_ms = 0;
  }
  // Its ends through set_agent and set_viewer, as a new link or a restart moves them.
  const PeerId agent = std::exchange(s.agent, 0), viewer = std::exchange(s.viewer, 0);
  const std::string id = s.id;
  Session &stored = sessions_[id] = std::move(s);
  set_agent(stored, agent);
  set_viewer(stored, viewer);
}

void SessionTable::reset_figures(proto::CameraEntry &entry) {
  entry.branches = 0;
  entry.fps_measured = 0;
  entry.bitrate_kbps = 0;
  entry.configured_kbps = 0;
  entry.target_kbps = 0;
  entry.lower = {};
}

void SessionTable::end_session(const std::string &id, const std::string &reason, bool tell_agent, bool tell_viewer,
                               Actions &out) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  const Session s = it->second;
  set_agent(it->second, 0);
  set_viewer(it->second, 0);
  take_back(it->second);
  sessions_.erase(it);
  for (const std::string *relay : {&s.agent_relay, &s.viewer_relay}) {
    auto r = relay_sessions_.find(*relay);
    if (relay->empty() || r == relay_sessions_.end()) continue;
    r->second.erase(id);
    if (r->second.empty()) relay_sessions_.erase(r);
  }
  if (auto cam = cameras_.find(s.camera); cam != cameras_.end() && !s.feed) {
    --cam->second.entry.viewers;
    changed(s.camera, true);
  }
  if (auto w = workers_.find(s.camera); !s.via.empty() && w != workers_.end() && w->second.sessions > 0)
    if (--w->second.sessions == 0) w->second.idle_since_ms = now_ms_;
  if (tell_agent) to_agent_of(out, s, proto::SessionEnd{id, reason});
  if (tell_viewer) to_viewer_of(out, s, proto::SessionEnd{id, reason});
}

void SessionTable::agent_joined(PeerId agent, std::string device) { devices_[agent] = std::move(device); }

Actions SessionTable::agent_hello(PeerId agent, const proto::Hello &hello) {
  Actions out;
  // An agent speaks for its own device only.
  const auto proven = devices_.find(agent);
  const std::string device = proven == devices_.end() ? std::string() : proven->second;
  if (is_fanout_device(hello.agent) || is_fanout_device(device)) {
    if (worker_hello(agent, hello, out)) to_agent(out, agent, proto::AgentWelcome{ice_servers_});
    return out;
  }
  bool own = device.empty() || hello.agent == device;
  // Its cameras are its id, or under it (DEVICE/NAME): never another device's.
  for (const auto &c : hello.cameras) own = own && (device.empty() || json::camera_device(c.id) == device);
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
    // The sessions it kept across its new link (its old link's address went away)
    // move to this link; the rest end with the old one.
    for (const auto &id : hello.sessions) {
      auto s = sessions_.find(id);
      if (s != sessions_.end() && s->second.agent == old) set_agent(s->second, agent);
    }
    forget_agent(old, out);
    out.closes.push_back(Close{old, 1008, "replaced"});
  }
  for (const auto &id : hello.sessions) {
    if (session_for(id, &Session::agent, agent)) {
      out.logs.push_back({agent, false, "session " + id + " kept across the agent's new link"});
    } else {
      to_agent(out, agent, proto::SessionEnd{id, "unknown_session"});  // ended meanwhile: the agent ends it too
    }
  }
  auto &owned = agents_[agent];
  for (const auto &info : hello.cameras) {
    const bool fresh = !cameras_.count(info.id);
    Camera &camera = cameras_[info.id];
    camera.agent = agent;
    camera.capturing = true;  // until its status says otherwise
    camera.entry.error.clear();
    camera.entry.info = info;
    reset_figures(camera.entry);
    refresh_online(camera);
    if (std::find(owned.begin(), owned.end(), info.id) == owned.end()) owned.push_back(info.id);
    if (fresh) added(info.id);
    changed(info.id, true);
    out.held.push_back(info.id);
  }
  to_agent(out, agent, proto::AgentWelcome{ice_servers_});
  send_updates(out);
  return out;
}

void SessionTable::forget_agent(PeerId agent, Actions &out) {
  auto it = agents_.find(agent);
  if (it == agents_.end()) return;
  if (auto w = worker_agents_.find(agent); w != worker_agents_.end()) {
    const std::string served = w->second;
    drop_worker(served, "its worker's connection closed", true, out);
    agents_.erase(agent);
    return;
  }
  // Its cameras' workers have nothing left to forward.
  for (const auto &camera_id : it->second)
    if (workers_.count(camera_id)) drop_worker(camera_id, "the camera went offline", false, out);
  if (auto own = agent_sessions_.find(agent); own != agent_sessions_.end()) {
    const std::set<std::string> ending = own->second;
    for (const auto &id : ending) end_session(id, "camera_offline", false, true, out);
  }
  for (const auto &camera_id : it->second) {
    auto cam = cameras_.find(camera_id);
    if (cam == cameras_.end() || cam->second.agent != agent) continue;
    cam->second.agent = 0;
    cam->second.entry.error.clear();  // its agent's word, gone with it
    reset_figures(cam->second.entry);
    refresh_online(cam->second);
    changed(camera_id, true);
    out.released.push_back(camera_id);
  }
  agents_.erase(it);
}

void SessionTable::refresh_online(Camera &camera) {
  // Its agent here or on another relay of the broker: it can be watched.
  camera.entry.connected = camera.agent != 0 || !camera.holder.empty();
  // With its agent here, the agent knows best: a camera that failed or was unplugged
  // is offline although its agent is connected. Else its retained state says, or
  // (an agent without MQTT) whether another relay holds it.
  camera.entry.online = camera.agent != 0    ? camera.capturing
                        : camera.entry.state ? camera.entry.state->online
                                             : !camera.holder.empty();
}

Actions SessionTable::camera_state(const control::CameraState &state) {
  Actions out;
  if (!state.cameras.empty()) {  // a device's state: when it is offline, so are its cameras
    if (state.online) return out;
    for (const auto &id : state.cameras) {
      auto cam = cameras_.find(id);
      if (cam == cameras_.end() || !cam->second.entry.state || !cam->second.entry.state->online) continue;
      const auto before = cam->second.entry;
      control::CameraState offline;
      offline.camera = id;
      offline.updated_at_ms = state.updated_at_ms;
      cam->second.entry.state = offline;
      refresh_online(cam->second);
      if (!(before == cam->second.entry)) changed(id, urgent_change(before, cam->second.entry));
    }
    send_updates(out);
    return out;
  }
  auto it = cameras_.find(state.camera);
  const bool fresh = it == cameras_.end();
  if (fresh) {
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
  if (fresh) added(state.camera);
  // Figures change at every state message: pages hear of them at most once a second.
  if (!(before == camera.entry)) changed(state.camera, urgent_change(before, camera.entry) || !before.state);
  send_updates(out);
  return out;
}

bool SessionTable::has_camera(const std::string &id) const { return cameras_.count(id) != 0; }

const proto::CameraEntry *SessionTable::camera(const std::string &id) const {
  auto it = cameras_.find(id);
  return it == cameras_.end() ? nullptr : &it->second.entry;
}

Actions SessionTable::agent_gone(PeerId agent) {
  Actions out;
  devices_.erase(agent);
  if (!agents_.count(agent)) return out;
  forget_agent(agent, out);
  send_updates(out);
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
    to_viewer_of(out, *s, proto::Answer{answer->session, answer->sdp});
  } else if (auto *ice = std::get_if<proto::Ice>(&message)) {
    Session *s = session_for(ice->session, &Session::agent, agent);
    if (!s) {
      error("unknown_session", "no session " + ice->session + " for this agent", ice->session);
      return out;
    }
    to_viewer_of(out, *s, *ice);
  } else if (auto *renew = std::get_if<proto::Renew>(&message)) {
    // The camera's address changed: its viewer offers again on a new connection.
    // A page away (held) is not told: when it comes back, its restart is answered
    // with another renew by the agent.
    Session *s = session_for(renew->session, &Session::agent, agent);
    if (!s) {
      error("unknown_session", "no session " + renew->session + " for this agent", renew->session);
      return out;
    }
    out.logs.push_back(
        {agent, false, "session " + renew->session + ": the camera's path changed: its viewer renews it"});
    to_viewer_of(out, *s, *renew);
  } else if (auto *end = std::get_if<proto::SessionEnd>(&message)) {
    const Session *s = session_for(end->session, &Session::agent, agent);
    if (!s) return out;  // already gone: nothing to tell anyone
    // A worker that lost its feed: the viewer asks again at once, and is served
    // by whoever serves the camera then.
    const bool feed_lost = !s->via.empty() && (end->reason == "pipeline_restart" || end->reason == "camera_offline");
    end_session(end->session, feed_lost ? "moved" : end->reason, false, true, out);
  } else if (auto *status = std::get_if<proto::Status>(&message); status && worker_agents_.count(agent)) {
    worker_status(worker_agents_.at(agent), *status, out);
  } else if (status) {
    auto cam = cameras_.find(status->camera);
    if (cam == cameras_.end() || cam->second.agent != agent) {
      error("unknown_camera", "this agent did not announce camera " + status->camera, "");
      return out;
    }
    auto &e = cam->second.entry;
    const auto before = e;
    // The camera failed or came back: the agent ended its sessions itself.
    cam->second.capturing = status->capturing;
    e.error = status->capturing ? std::string() : status->error;
    refresh_online(cam->second);
    // One decimal: a change in the noise of a measurement is not news.
    const auto tenth = [](double v) { return std::round(v * 10) / 10; };
    e.branches = status->branches;
    e.fps_measured = tenth(status->fps);
    e.bitrate_kbps = tenth(status->bitrate_kbps);
    e.configured_kbps = status->configured_kbps;
    e.target_kbps = status->target_kbps;
    e.lower = status->lower;
    if (status->width) {  // the size changes while playing (set_video)
      e.info.width = status->width;
      e.info.height = status->height;
    }
    if (!(before == e)) changed(status->camera, urgent_change(before, e));
  } else if (auto *report = std::get_if<proto::Error>(&message)) {
    out.logs.push_back({agent, true, "reports: " + report->code + ": " + report->message});
  }
  // Heartbeat: nothing to do.
  send_updates(out);
  return out;
}

Actions SessionTable::viewer_joined(PeerId viewer, CameraFilter only, std::string client, auth::Role role,
                                    int64_t token_expires_at_s, ViewerKind kind) {
  Actions out;
  Viewer &v = viewers_[viewer];
  const bool lists = kind == ViewerKind::Page;
  v.feed = kind == ViewerKind::Feed;
  v.scope = std::move(only);
  v.role = role;
  v.client = std::move(client);
  v.token_expires_at_s = token_expires_at_s;
  v.lists = lists;
  if (!lists) {
    ++listless_;
    return out;
  }
  // It starts subscribed to the first page of the list.
  proto::CameraPage page = list(v.scope, proto::CameraQuery{});
  std::vector<std::string> ids;
  for (const auto &e : page.cameras) ids.push_back(e.info.id);
  subscribe(viewer, v, std::move(ids), proto::CameraQuery{});
  to_viewer(out, viewer, proto::ViewerWelcome{ice_servers_, std::move(page), sync_delay_ms_});
  return out;
}

Actions SessionTable::viewer_gone(PeerId viewer) {
  Actions out;
  auto it = viewers_.find(viewer);
  if (it == viewers_.end()) return out;
  subscribe(viewer, it->second, {}, std::nullopt);
  const std::set<std::string> ending = it->second.sessions;
  for (const auto &id : ending) {
    Session &s = sessions_.at(id);
    // A page's playing session waits for the page to come back (its network
    // changed: it reconnects and restarts ICE on it); the camera goes on sending.
    if (limits_.session_hold_ms > 0 && it->second.lists && s.answered) {
      set_viewer(s, 0);
      s.held_since_ms = std::max<int64_t>(now_ms_, 1);
      ++held_;
      continue;
    }
    end_session(id, "viewer_gone", true, false, out);
  }
  if (!it->second.lists) --listless_;
  viewers_.erase(viewer);
  urgent_.erase(viewer);
  send_updates(out);
  return out;
}

Actions SessionTable::viewer_subscribe(PeerId viewer, const proto::Subscribe &request) {
  Actions out;
  auto it = viewers_.find(viewer);
  if (it == viewers_.end()) return out;
  Viewer &v = it->second;
  auto refuse = [&](const std::string &code, const std::string &text) {
    out.logs.push_back({viewer, true, "subscribe refused: " + text});
    to_viewer(out, viewer, proto::Error{code, text, "", request.ref});
  };
  if (request.ids.size() > proto::kMaxSubscription) {
    refuse("too_large", "subscribe: " + std::to_string(request.ids.size()) + " ids; at most " +
                            std::to_string(proto::kMaxSubscription) + " (page through the list instead)");
    return out;
  }
  if (request.query.limit > proto::kMaxSubscription) {
    refuse("too_large", "subscribe: limit " + std::to_string(request.query.limit) + "; at most " +
                            std::to_string(proto::kMaxSubscription));
    return out;
  }
  proto::Cameras reply{request.ref, {}};
  std::vector<std::string> ids;
  if (!request.ids.empty()) {
    // Cameras outside the token's scope are as if they did not exist; ids not seen
    // yet are kept, so a page waiting for its camera hears when it comes.
    for (const auto &id : request.ids)
      if (in_scope(v, id) && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    for (const auto &id : ids)
      if (auto cam = cameras_.find(id); cam != cameras_.end()) reply.page.cameras.push_back(cam->second.entry);
    reply.page.total = reply.page.cameras.size();
    reply.page.totals = totals(v.scope);
  } else {
    reply.page = list(v.scope, request.query);
    for (const auto &e : reply.page.cameras) ids.push_back(e.info.id);
  }
  subscribe(viewer, v, std::move(ids), request.ids.empty() ? std::optional(request.query) : std::nullopt);
  to_viewer(out, viewer, std::move(reply));
  return out;
}

Actions SessionTable::viewer_command(PeerId viewer, const proto::CommandRequest &command) {
  Actions out;
  const auto v = viewers_.find(viewer);
  if (v == viewers_.end()) return out;
  auth::Claims claims;
  claims.cameras = v->second.scope;
  claims.role = v->second.role;
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

Actions SessionTable::viewer_watch(PeerId viewer, const proto::Watch &watch, int64_t now_ms) {
  Actions out;
  now_ms_ = std::max(now_ms_, now_ms);
  auto refuse = [&](const std::string &code, const std::string &text) {
    to_viewer(out, viewer, proto::Error{code, text, "", watch.ref});
  };
  auto vit = viewers_.find(viewer);
  if (vit == viewers_.end()) return out;
  Viewer &v = vit->second;
  auto cam = cameras_.find(watch.camera);
  // A camera outside the viewer's token is answered like one that does not exist.
  if (cam == cameras_.end() || !in_scope(v, watch.camera)) {
    refuse("unknown_camera", "there is no camera '" + watch.camera + "'");
    return out;
  }
  if (cam->second.agent == 0 && cam->second.holder.empty()) {
    refuse("camera_offline", "camera '" + watch.camera + "' is offline");
    return out;
  }
  if (!cam->second.capturing) {
    const std::string &why = cam->second.entry.error;
    refuse("camera_offline", "camera '" + watch.camera + "' delivers no video" +
                                 (why.empty() ? ": it failed or was unplugged" : " (" + why + ")") +
                                 ", and its agent is trying to open it again");
    return out;
  }
  size_t pending = 0;
  for (const auto &id : v.sessions)
    if (auto s = sessions_.find(id); s != sessions_.end()) pending += !s->second.answered;
  const auto of_client_it = v.client.empty() ? client_sessions_.end() : client_sessions_.find(v.client);
  const size_t of_client = of_client_it == client_sessions_.end() ? 0 : of_client_it->second;
  const size_t of_camera = size_t(cam->second.entry.viewers);
  if (of_client >= limits_.sessions_per_client) {
    refuse("too_many_sessions", "this client already watches " + std::to_string(of_client) + " sessions");
    return out;
  }
  if (pending >= limits_.pending_per_viewer) {
    refuse("too_many_pending", "this connection already has " + std::to_string(pending) +
                                   " unanswered sessions; ask again once one is answered");
    return out;
  }
  if (v.sessions.size() >= limits_.sessions_per_viewer) {
    refuse("too_many_sessions", "this connection already watches " + std::to_string(v.sessions.size()) + " sessions");
    return out;
  }
  if (of_camera >= limits_.sessions_per_camera) {
    refuse("too_many_sessions", "camera '" + watch.camera + "' already has " + std::to_string(of_camera) + " viewers");
    return out;
  }
  // Its agent here, or on the relay that holds it (the offer goes there over the broker).
  Session s{new_session_id_(),
            watch.camera,
            cam->second.agent,
            viewer,
            now_ms,
            false,
            cam->second.agent ? std::string() : cam->second.holder,
            {},
            {},
            v.feed};
  // Or its fan-out worker, serving it already; else one may be started for it.
  if (!v.feed) {
    if (auto w = workers_.find(watch.camera); w != workers_.end() && w->second.ready) {
      s.agent = w->second.agent;
      s.agent_relay.clear();
      s.via = w->second.camera;
    } else if (w == workers_.end()) {
      consider_worker(watch.camera, of_camera + 1, out);
    }
  }
  // Both ends get the same ICE servers: the relay's own plus TURN credentials
  // for this session alone, valid for its lifetime.
  std::vector<proto::IceServer> servers = ice_servers_;
  if (mint_ice_) {
    const int64_t lifetime_ms = limits_.session_lifetime_ms ? limits_.session_lifetime_ms : 24LL * 3600 * 1000;
    // ...and never past the viewer's token: a revoked or expired viewer's relay access ends with it.
    for (auto &server : mint_ice_(s.id, lifetime_ms / 1000, v.token_expires_at_s)) servers.push_back(std::move(server));
  }
  to_viewer(out, viewer, proto::SessionStarted{watch.ref, s.id, s.camera, servers});
  // Talking back through the camera's speaker is an operator's, like commands.
  to_agent_of(out, s,
              proto::Offer{s.id, s.via.empty() ? s.camera : s.via, watch.sdp, servers,
                           v.role >= auth::Role::Operator && s.via.empty(),
                           // A WHEP client may be a forwarder too (another agent, MediaMTX).
                           v.feed || !v.lists});
  add_session(std::move(s));
  send_updates(out);
  return out;
}

void SessionTable::set_viewer(Session &s, PeerId viewer) {
  if (auto v = viewers_.find(s.viewer); s.viewer && v != viewers_.end()) {
    v->second.sessions.erase(s.id);
    if (auto c = client_sessions_.find(v->second.client); c != client_sessions_.end() && --c->second == 0)
      client_sessions_.erase(c);
  }
  s.viewer = viewer;
  if (auto v = viewers_.find(viewer); viewer && v != viewers_.end()) {
    v->second.sessions.insert(s.id);
    if (!v->second.client.empty()) ++client_sessions_[v->second.client];
  }
}

Actions SessionTable::viewer_restart(PeerId viewer, const proto::Restart &restart) {
  Actions out;
  auto vit = viewers_.find(viewer);
  if (vit == viewers_.end()) return out;
  auto it = sessions_.find(restart.session);
  const auto unknown = [&] {
    to_viewer(out, viewer,
              proto::Error{"unknown_session", "no session " + restart.session + " to restart", restart.session, ""});
    return out;
  };
  // The session id is the page's proof (128 random bits, only ever sent to it);
  // and its token must still allow the camera.
  if (!vit->second.lists) return unknown();
  if (it == sessions_.end()) return restart_elsewhere(viewer, restart, out) ? out : unknown();
  if (it->second.feed || !in_scope(vit->second, it->second.camera)) return unknown();
  Session &s = it->second;
  if (!s.viewer_relay.empty()) {
    // Its page was on another relay and came here (a load balancer without sticky
    // sessions); its agent is here: that relay lets go of it without a word.
    out.remote.push_back({s.viewer_relay, proto::SessionEnd{s.id, kTakenOver}});
    set_viewer_relay(s, {});
  }
  if (s.viewer != viewer) {
    out.logs.push_back({viewer, false,
                        "session " + s.id + " taken back by its page on a new connection" +
                            (s.held_since_ms ? " after " + std::to_string(now_ms_ - s.held_since_ms) + " ms" : "")});
    set_viewer(s, viewer);
  }
  take_back(s);
  proto::Offer offer{s.id, s.via.empty() ? s.camera : s.via, restart.sdp};
  offer.restart = true;
  offer.renew = restart.renew;
  to_agent_of(out, s, std::move(offer));
  return out;
}

bool SessionTable::restart_elsewhere(PeerId viewer, const proto::Restart &restart, Actions &out) {
  // A session this relay does not know, for a camera whose agent is on another
  // relay: its page reconnected here from the relay it started on. The camera's
  // relay has the session and moves its viewer end here (relay_message); this
  // relay keeps the viewer's end from now on.
  auto cam = cameras_.find(restart.camera);
  if (restart.camera.empty() || cam == cameras_.end() || cam->second.agent != 0 || cam->second.holder.empty() ||
      !in_scope(viewers_.at(viewer), restart.camera))
    return false;
  Session s{restart.session, restart.camera, 0, 0, now_ms_, true, cam->second.holder};
  proto::Offer offer{s.id, s.camera, restart.sdp};
  offer.restart = true;
  offer.renew = restart.renew;
  out.remote.push_back({s.agent_relay, std::move(offer)});
  out.logs.push_back({viewer, false, "session " + s.id + " taken over from another relay by its page"});
  s.viewer = viewer;
  add_session(std::move(s));
  return true;
}

void SessionTable::set_agent(Session &s, PeerId agent) {
  if (auto a = agent_sessions_.find(s.agent); s.agent && a != agent_sessions_.end()) {
    a->second.erase(s.id);
    if (a->second.empty()) agent_sessions_.erase(a);
  }
  s.agent = agent;
  if (agent) agent_sessions_[agent].insert(s.id);
}

void SessionTable::take_back(Session &s) {
  if (!s.held_since_ms) return;
  s.held_since_ms = 0;
  --held_;
}

void SessionTable::set_viewer_relay(Session &s, std::string relay) {
  if (auto r = relay_sessions_.find(s.viewer_relay); !s.viewer_relay.empty() && r != relay_sessions_.end()) {
    r->second.erase(s.id);
    if (r->second.empty()) relay_sessions_.erase(r);
  }
  s.viewer_relay = std::move(relay);
  if (!s.viewer_relay.empty()) relay_sessions_[s.viewer_relay].insert(s.id);
}

Actions SessionTable::viewer_message(PeerId viewer, const proto::ViewerToRelay &message, int64_t now_ms) {
  if (auto *command = std::get_if<proto::CommandRequest>(&message)) return viewer_command(viewer, *command);
  if (auto *watch = std::get_if<proto::Watch>(&message)) return viewer_watch(viewer, *watch, now_ms);
  if (auto *request = std::get_if<proto::Subscribe>(&message)) return viewer_subscribe(viewer, *request);
  now_ms_ = std::max(now_ms_, now_ms);
  if (auto *restart = std::get_if<proto::Restart>(&message)) return viewer_restart(viewer, *restart);
  Actions out;
  if (auto *ice = std::get_if<proto::Ice>(&message)) {
    Session *s = session_for(ice->session, &Session::viewer, viewer);
    if (!s) {
      to_viewer(out, viewer, proto::Error{"unknown_session", "no session " + ice->session, ice->session, ""});
      return out;
    }
    to_agent_of(out, *s, *ice);
  } else if (auto *stop = std::get_if<proto::Stop>(&message)) {
    if (!session_for(stop->session, &Session::viewer, viewer)) {
      to_viewer(out, viewer, proto::Error{"unknown_session", "no session " + stop->session, stop->session, ""});
      return out;
    }
    end_session(stop->session, "viewer_left", true, false, out);
    send_updates(out);
  }
  return out;
}

Actions SessionTable::tick(int64_t now_ms) {
  Actions out;
  now_ms_ = now_ms;
  std::vector<std::string> late;
  std::vector<std::string> old;
  std::vector<std::string> abandoned;
  for (const auto &[id, s] : sessions_) {
    if (s.held_since_ms && now_ms - s.held_since_ms > limits_.session_hold_ms)
      abandoned.push_back(id);
    else if (!s.answered && now_ms - s.created_ms > session_timeout_ms_)
      late.push_back(id);
    else if (limits_.session_lifetime_ms && now_ms - s.created_ms > limits_.session_lifetime_ms)
      old.push_back(id);
  }
  for (const auto &id : late) end_session(id, "timeout", true, true, out);
  // Pages that did not come back for their sessions.
  for (const auto &id : abandoned) end_session(id, "viewer_gone", true, false, out);
  // Fan-out workers that never came to serve, and those nobody watches through any more.
  std::vector<std::pair<std::string, bool>> drop;  // camera, failed
  for (const auto &[camera, w] : workers_) {
    if (!w.ready && now_ms - w.started_ms > fanout_.start_timeout_ms)
      drop.emplace_back(camera, true);
    else if (w.ready && w.sessions == 0 && w.idle_since_ms && now_ms - w.idle_since_ms > fanout_.idle_ms)
      drop.emplace_back(camera, false);
  }
  for (const auto &[camera, failed] : drop)
    drop_worker(camera, failed ? "it did not deliver the camera's video in time" : "nobody watches through it", failed,
                out);
  // Past its lifetime (its TURN credentials expire): the page asks again.
  for (const auto &id : old) end_session(id, "lifetime", true, true, out);
  // Figures that changed since the last tick, one camera_update per page.
  for (const auto &id : dirty_) {
    auto pages = watchers_.find(id);
    if (pages == watchers_.end()) continue;
    for (PeerId viewer : pages->second) {
      auto &ids = urgent_[viewer];
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
  }
  dirty_.clear();
  send_updates(out);
  if (totals_changed_) {
    totals_changed_ = false;
    const proto::Totals all = totals(CameraFilter{});
    for (const auto &[viewer, v] : viewers_)
      if (v.lists) to_viewer(out, viewer, proto::TotalsUpdate{v.scope.empty() ? all : totals(v.scope)});
  }
  return out;
}

// ---- fan-out (docs/fanout.md) ----

size_t SessionTable::relayed_session_count() const {
  size_t n = 0;
  for (const auto &[camera, w] : workers_) n += w.sessions;
  return n;
}

void SessionTable::consider_worker(const std::string &camera, size_t count, Actions &out) {
  auto cam = cameras_.find(camera);
  if (cam == cameras_.end()) return;
  const auto &e = cam->second.entry;
  const int kbps = e.configured_kbps ? e.configured_kbps : e.target_kbps;
  if (!fanout_.through_relay(camera, int(count), kbps, e.info.uplink_kbps, e.info.talk)) return;
  if (auto until = direct_until_.find(camera); until != direct_until_.end()) {
    if (now_ms_ < until->second) return;
    direct_until_.erase(until);
  }
  Worker w;
  w.device = kFanoutDevicePrefix + std::to_string(++workers_started_);
  w.started_ms = now_ms_;
  worker_devices_[w.device] = camera;
  out.start_workers.push_back({w.device, camera, !e.info.audio.empty()});
  out.logs.push_back({0, false,
                      "camera " + camera + ": " + std::to_string(count) +
                          " viewers, fanning out through the relay (worker " + w.device + ")"});
  workers_[camera] = std::move(w);
}

bool SessionTable::worker_hello(PeerId agent, const proto::Hello &hello, Actions &out) {
  const auto proven = devices_.find(agent);
  const std::string device = proven == devices_.end() ? std::string() : proven->second;
  auto known = worker_devices_.find(hello.agent);
  auto w = known == worker_devices_.end() ? workers_.end() : workers_.find(known->second);
  // Only the worker started under that id, once, and proven so (or insecure-dev).
  if (w == workers_.end() || w->second.agent || (!device.empty() && device != hello.agent) ||
      hello.cameras.size() != 1) {
    out.logs.push_back({agent, true, "claims to be fan-out worker " + hello.agent + ", which it is not; closing"});
    to_agent(out, agent, proto::Error{"forbidden", "no such fan-out worker: " + hello.agent, "", ""});
    out.closes.push_back(Close{agent, 1008, "not a worker"});
    return false;
  }
  w->second.agent = agent;
  w->second.camera = hello.cameras.front().id;
  worker_agents_[agent] = w->first;
  agents_[agent];  // said hello; announces no camera of the fleet
  return true;
}

void SessionTable::worker_status(const std::string &camera, const proto::Status &status, Actions &out) {
  auto w = workers_.find(camera);
  auto cam = cameras_.find(camera);
  if (w == workers_.end() || cam == cameras_.end()) return;
  auto &e = cam->second.entry;
  if (e.relay_branches != status.branches) {
    e.relay_branches = status.branches;
    changed(camera, false);
  }
  const bool serving = status.capturing && status.fps > 0;
  if (serving == w->second.ready) return;
  w->second.ready = serving;
  e.fanout = serving ? "relay" : "direct";
  changed(camera, true);
  if (!serving) {
    out.logs.push_back({0, true, "camera " + camera + ": its fan-out worker lost the camera's video"});
    return;
  }
  out.logs.push_back({0, false, "camera " + camera + ": fan-out worker " + w->second.device + " serving"});
  w->second.idle_since_ms = w->second.sessions ? 0 : now_ms_;
  // The pages watching directly move over: each asks again at once and is
  // served through the worker (WHEP players and other relays' pages stay).
  std::vector<std::string> moving;
  if (auto own = agent_sessions_.find(cam->second.agent); cam->second.agent && own != agent_sessions_.end())
    for (const auto &id : own->second) {
      const Session &s = sessions_.at(id);
      auto v = viewers_.find(s.viewer);
      if (s.camera == camera && !s.feed && s.viewer_relay.empty() && v != viewers_.end() && v->second.lists)
        moving.push_back(id);
    }
  for (const auto &id : moving) end_session(id, "moved", true, true, out);
}

void SessionTable::drop_worker(const std::string &camera, const std::string &why, bool failed, Actions &out) {
  auto it = workers_.find(camera);
  if (it == workers_.end()) return;
  const Worker w = it->second;
  workers_.erase(it);
  worker_devices_.erase(w.device);
  if (w.agent) {
    worker_agents_.erase(w.agent);
    // Its viewers ask again at once, and are served by the camera itself.
    if (auto own = agent_sessions_.find(w.agent); own != agent_sessions_.end()) {
      const std::set<std::string> ending = own->second;
      for (const auto &id : ending) end_session(id, "moved", true, true, out);
    }
  }
  if (failed) direct_until_[camera] = now_ms_ + fanout_.retry_after_ms;
  // Its feed from the camera ends with it (the camera drops that branch at once).
  if (auto cam = cameras_.find(camera); cam != cameras_.end() && cam->second.agent) {
    std::vector<std::string> feeds;
    if (auto own = agent_sessions_.find(cam->second.agent); own != agent_sessions_.end())
      for (const auto &id : own->second)
        if (const Session &s = sessions_.at(id); s.feed && s.camera == camera) feeds.push_back(id);
    for (const auto &id : feeds) end_session(id, "worker_stopped", true, true, out);
  }
  if (auto cam = cameras_.find(camera); cam != cameras_.end()) {
    cam->second.entry.fanout = "direct";
    cam->second.entry.relay_branches = 0;
    changed(camera, true);
  }
  out.stop_workers.push_back(w.device);
  out.logs.push_back({0, failed, "camera " + camera + ": fan-out worker " + w.device + " stopped: " + why});
}

// ---- several relays on one broker ----

std::vector<std::string> SessionTable::held_cameras() const {
  std::vector<std::string> out;
  for (const auto &[agent, ids] : agents_)
    for (const auto &id : ids)
      if (auto cam = cameras_.find(id); cam != cameras_.end() && cam->second.agent == agent) out.push_back(id);
  return out;
}

Actions SessionTable::camera_holder(const std::string &camera, const std::string &relay) {
  Actions out;
  auto it = cameras_.find(camera);
  const bool fresh = it == cameras_.end();
  if (fresh) {
    if (relay.empty()) return out;
    it = cameras_.emplace(camera, Camera{}).first;
    it->second.entry.info.id = camera;
  }
  Camera &c = it->second;
  if (c.holder == relay) return out;
  const auto before = c.entry;
  c.holder = relay;
  refresh_online(c);
  if (fresh) added(camera);
  if (fresh || !(before == c.entry)) changed(camera, true);
  send_updates(out);
  return out;
}

Actions SessionTable::relay_message(const std::string &relay, const proto::RelayToRelay &message) {
  Actions out;
  if (auto *offer = std::get_if<proto::Offer>(&message); offer && offer->restart) {
    // A viewer on `relay` restarts ICE on its session with a camera here: its page
    // may have been on another relay (or here) until now, and is on `relay` now.
    auto it = sessions_.find(offer->session);
    if (it == sessions_.end() || it->second.agent == 0 || !it->second.via.empty() ||
        it->second.camera != offer->camera) {
      out.remote.push_back({relay, proto::SessionEnd{offer->session, "unknown_session"}});
      return out;
    }
    Session &s = it->second;
    if (s.viewer_relay != relay) {
      if (!s.viewer_relay.empty()) out.remote.push_back({s.viewer_relay, proto::SessionEnd{s.id, kTakenOver}});
      set_viewer(s, 0);
      take_back(s);
      set_viewer_relay(s, relay);
      out.logs.push_back({0, false, "session " + s.id + ": its page is on relay " + relay + " now"});
    }
    to_agent(out, s.agent, *offer);
  } else if (offer) {
    // A viewer on `relay` asks for a camera whose agent is here.
    auto cam = cameras_.find(offer->camera);
    const char *refusal = cam == cameras_.end() || cam->second.agent == 0 || !cam->second.capturing ? "camera_offline"
                          : size_t(cam->second.entry.viewers) >= limits_.sessions_per_camera ? "too_many_sessions"
                          : sessions_.count(offer->session)                                  ? "duplicate"
                                                                                             : nullptr;
    if (refusal) {
      out.remote.push_back({relay, proto::SessionEnd{offer->session, refusal}});
      return out;
    }
    Session s{offer->session, offer->camera, cam->second.agent, 0, now_ms_, false, {}, relay};
    to_agent(out, s.agent, *offer);
    add_session(std::move(s));
  } else if (auto *answer = std::get_if<proto::Answer>(&message)) {
    if (Session *s = session_via(answer->session, &Session::agent_relay, relay)) {
      s->answered = true;
      to_viewer(out, s->viewer, *answer);
    }
  } else if (auto *renew = std::get_if<proto::Renew>(&message)) {
    if (Session *s = session_via(renew->session, &Session::agent_relay, relay)) to_viewer(out, s->viewer, *renew);
  } else if (auto *ice = std::get_if<proto::Ice>(&message)) {
    if (Session *s = session_via(ice->session, &Session::agent_relay, relay))
      to_viewer(out, s->viewer, *ice);
    else if (Session *t = session_via(ice->session, &Session::viewer_relay, relay))
      to_agent(out, t->agent, *ice);
  } else if (auto *end = std::get_if<proto::SessionEnd>(&message)) {
    // Taken over: its page went on through another relay, which is not told either.
    if (session_via(end->session, &Session::agent_relay, relay))
      end_session(end->session, end->reason, false, end->reason != kTakenOver, out);
    else if (session_via(end->session, &Session::viewer_relay, relay))
      end_session(end->session, end->reason, true, false, out);
  }
  send_updates(out);
  return out;
}

Actions SessionTable::relay_gone(const std::string &relay) {
  Actions out;
  if (auto through = relay_sessions_.find(relay); through != relay_sessions_.end()) {
    const std::set<std::string> ending = through->second;
    for (const auto &id : ending) {
      const Session &s = sessions_.at(id);
      // Only the end here is told; the other end went with its relay.
      if (s.agent_relay == relay)
        end_session(id, "camera_offline", false, true, out);
      else
        end_session(id, "viewer_gone", true, false, out);
    }
  }
  for (auto &[id, camera] : cameras_) {  // a relay's death is rare: a pass over the list is fine
    if (camera.holder != relay) continue;
    camera.holder.clear();
    refresh_online(camera);
    changed(id, true);
  }
  send_updates(out);
  return out;
}

}  // namespace sl::relay
