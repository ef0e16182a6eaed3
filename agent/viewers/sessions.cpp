#include "sessions.hpp"

#include <glib.h>

#include <vector>

namespace sl::agent {

Sessions::Sessions(CapturePipeline &pipeline, const AgentSettings &settings, Send send)
    : pipeline_(pipeline), settings_(settings), send_(std::move(send)), events_(std::make_shared<SessionEvents>()) {
  events_->find = [this](const std::string &id) -> ViewerSession * {
    auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : it->second.get();
  };
  events_->answer = [this](const std::string &id, const std::string &sdp) {
    if (sessions_.count(id)) send_(proto::to_json(proto::Answer{id, sdp}));
  };
  events_->candidate = [this](const std::string &id, int mline, const std::string &candidate) {
    if (sessions_.count(id)) send_(proto::to_json(proto::Ice{id, candidate, mline}));
  };
  events_->connected = [this](const std::string &id) {
    auto it = sessions_.find(id);
    if (it != sessions_.end())
      g_message("session %s: viewer connected %.0f ms after the offer (RTP stream shared by %ld viewer(s)%s)",
                id.c_str(), it->second->ms_since_start(), it->second->rtp_stream_viewers(),
                it->second->send_path_trimmed() ? ", send path trimmed" : "");
  };
  events_->failed = [this](const std::string &id, const std::string &reason) { end(id, reason, true); };
}

void Sessions::handle(const proto::RelayToAgent &message) {
  if (auto *offer = std::get_if<proto::Offer>(&message)) {
    on_offer(*offer);
  } else if (auto *ice = std::get_if<proto::Ice>(&message)) {
    auto it = sessions_.find(ice->session);
    if (it != sessions_.end())
      it->second->add_remote_candidate(ice->sdp_mline_index, ice->candidate);
    else
      g_debug("candidate for unknown session %s ignored", ice->session.c_str());
  } else if (auto *end_msg = std::get_if<proto::SessionEnd>(&message)) {
    end(end_msg->session, end_msg->reason, false);
  } else if (auto *error = std::get_if<proto::Error>(&message)) {
    g_warning("relay reports an error: %s: %s%s%s", error->code.c_str(), error->message.c_str(),
              error->session.empty() ? "" : " (session ", error->session.empty() ? "" : (error->session + ")").c_str());
  }
}

void Sessions::on_offer(const proto::Offer &offer) {
  if (offer.camera != pipeline_.info().id) {
    send_(proto::to_json(proto::Error{"unknown_camera", "this agent has no camera '" + offer.camera + "'", offer.session, ""}));
    send_(proto::to_json(proto::SessionEnd{offer.session, "error"}));
    return;
  }
  if (!pipeline_.running()) {
    send_(proto::to_json(proto::Error{"camera_offline", "camera '" + offer.camera +
                                      "' delivers no video: it failed or was unplugged; the agent is trying to open it again",
                                      offer.session, ""}));
    send_(proto::to_json(proto::SessionEnd{offer.session, "camera_offline"}));
    return;
  }
  if (sessions_.count(offer.session)) {
    send_(proto::to_json(proto::Error{"bad_message", "session already exists", offer.session, ""}));
    return;
  }
  auto started = ViewerSession::start(pipeline_, offer, settings_, events_);
  if (auto *error = std::get_if<std::string>(&started)) {
    g_warning("session %s: cannot start: %s", offer.session.c_str(), error->c_str());
    send_(proto::to_json(proto::Error{"bad_message", *error, offer.session, ""}));
    send_(proto::to_json(proto::SessionEnd{offer.session, "error"}));
    return;
  }
  sessions_[offer.session] = std::move(std::get<0>(started));
  g_message("session %s: started for camera %s (%zu live)", offer.session.c_str(), offer.camera.c_str(),
            sessions_.size());
  report_status();
}

void Sessions::end(std::string id, const std::string &reason, bool tell_relay) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  sessions_.erase(it);  // the session's destructor removes its branch
  g_message("session %s: ended (%s), %zu live", id.c_str(), reason.c_str(), sessions_.size());
  if (tell_relay) send_(proto::to_json(proto::SessionEnd{id, reason}));
  report_status();
}

void Sessions::end_all(const std::string &reason, bool tell_relay) {
  while (!sessions_.empty()) end(sessions_.begin()->first, reason, tell_relay);
}

void Sessions::end_for_branch(GstElement *branch, const std::string &reason) {
  std::vector<std::string> ids;
  for (auto &[id, session] : sessions_)
    if (session->branch() == branch || session->stream_bin() == branch) ids.push_back(id);
  for (const auto &id : ids) end(id, reason, true);
}

proto::Status Sessions::status() const {
  const auto &info = pipeline_.info();
  return proto::Status{info.id,           int(sessions_.size()), figures_.fps, figures_.bitrate_kbps,
                       info.width,        info.height,           pipeline_.running()};
}

void Sessions::measure_and_report() {
  figures_ = pipeline_.take_figures();
  report_status();
}

void Sessions::report_status() {
  send_(proto::to_json(status()));
  if (on_change_) on_change_();
}

}  // namespace sl::agent
