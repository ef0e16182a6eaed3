#include "sessions.hpp"

#include <glib.h>

#include <vector>

namespace sl::agent {

Sessions::Sessions(CapturePipeline &pipeline, const AgentSettings &settings)
    : pipeline_(pipeline), settings_(settings), events_(std::make_shared<SessionEvents>()) {
  events_->find = [this](const std::string &id) -> ViewerSession * {
    auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : it->second.session.get();
  };
  events_->answer = [this](const std::string &id, const std::string &sdp) {
    if (auto it = sessions_.find(id); it != sessions_.end()) it->second.via->send_answer(id, sdp);
  };
  events_->candidate = [this](const std::string &id, int mline, const std::string &candidate) {
    if (auto it = sessions_.find(id); it != sessions_.end()) it->second.via->send_candidate(id, mline, candidate);
  };
  events_->connected = [this](const std::string &id) {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    const ViewerSession &s = *it->second.session;
    g_message("session %s: viewer connected %.0f ms after the offer (RTP stream shared by %ld viewer(s)%s)", id.c_str(),
              s.ms_since_start(), s.rtp_stream_viewers(), s.send_path_trimmed() ? ", send path trimmed" : "");
  };
  events_->failed = [this](const std::string &id, const std::string &reason) { end(id, reason, true); };
}

void Sessions::offer(const proto::Offer &offer, Signaller &via) {
  if (offer.camera != pipeline_.info().id) {
    via.send_refusal(offer.session, "unknown_camera", "this agent has no camera '" + offer.camera + "'", "error");
    return;
  }
  if (!pipeline_.running()) {
    via.send_refusal(offer.session, "camera_offline",
                     "camera '" + offer.camera +
                         "' delivers no video: it failed or was unplugged; the agent is trying to open it again",
                     "camera_offline");
    return;
  }
  if (sessions_.count(offer.session)) {
    via.send_refusal(offer.session, "bad_message", "session already exists", "");
    return;
  }
  auto started = ViewerSession::start(pipeline_, offer, settings_, events_);
  if (!started) {
    g_warning("session %s: cannot start: %s", offer.session.c_str(), started.error().c_str());
    via.send_refusal(offer.session, "bad_message", started.error(), "error");
    return;
  }
  sessions_[offer.session] = Live{*std::move(started), &via};
  g_message("session %s: started for camera %s (%zu live)", offer.session.c_str(), offer.camera.c_str(),
            sessions_.size());
  changed();
}

void Sessions::remote_candidate(const std::string &session, int mline, const std::string &candidate) {
  auto it = sessions_.find(session);
  if (it != sessions_.end())
    it->second.session->add_remote_candidate(mline, candidate);
  else
    g_debug("candidate for unknown session %s ignored", session.c_str());
}

void Sessions::remote_end(const std::string &session, const std::string &reason) { end(session, reason, false); }

void Sessions::end(std::string id, const std::string &reason, bool tell) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  Signaller *via = it->second.via;
  sessions_.erase(it);  // the session's destructor removes its branch
  g_message("session %s: ended (%s), %zu live", id.c_str(), reason.c_str(), sessions_.size());
  if (tell) via->send_end(id, reason);
  changed();
}

void Sessions::forget(Signaller &via, const std::string &reason) {
  std::vector<std::string> ids;
  for (const auto &[id, live] : sessions_)
    if (live.via == &via) ids.push_back(id);
  for (const auto &id : ids) end(id, reason, false);
}

void Sessions::end_all(const std::string &reason) {
  while (!sessions_.empty()) end(sessions_.begin()->first, reason, true);
}

void Sessions::end_for_branch(GstElement *branch, const std::string &reason) {
  std::vector<std::string> ids;
  for (const auto &[id, live] : sessions_)
    if (live.session->branch() == branch || live.session->stream_bin() == branch) ids.push_back(id);
  for (const auto &id : ids) end(id, reason, true);
}

proto::Status Sessions::status() const {
  const auto &info = pipeline_.info();
  return proto::Status{info.id,    int(sessions_.size()), figures_.fps,       figures_.bitrate_kbps,
                       info.width, info.height,           pipeline_.running()};
}

void Sessions::measure() {
  figures_ = pipeline_.take_figures();
  changed();
}

void Sessions::changed() {
  for (const auto &listener : listeners_) listener();
}

}  // namespace sl::agent
