#include "relay_signaller.hpp"

#include <glib.h>

namespace sl::agent {

Sessions *RelaySignaller::holding(const std::string &session) const {
  for (Sessions *s : cameras_)
    if (s->has(session)) return s;
  return nullptr;
}

void RelaySignaller::handle(const proto::RelayToAgent &message) {
  if (auto *offer = std::get_if<proto::Offer>(&message)) {
    for (Sessions *s : cameras_)
      if (s->camera() == offer->camera) return s->offer(*offer, *this);
    send_refusal(offer->session, "unknown_camera", "this agent has no camera '" + offer->camera + "'", "error");
  } else if (auto *ice = std::get_if<proto::Ice>(&message)) {
    if (Sessions *s = holding(ice->session))
      s->remote_candidate(ice->session, ice->sdp_mline_index, ice->candidate);
    else
      g_debug("candidate for unknown session %s ignored", ice->session.c_str());
  } else if (auto *end = std::get_if<proto::SessionEnd>(&message)) {
    if (Sessions *s = holding(end->session)) s->remote_end(end->session, end->reason);
  } else if (auto *error = std::get_if<proto::Error>(&message)) {
    g_warning("relay reports an error: %s: %s%s%s", error->code.c_str(), error->message.c_str(),
              error->session.empty() ? "" : " (session ", error->session.empty() ? "" : (error->session + ")").c_str());
  }
}

void RelaySignaller::send_answer(const std::string &session, const std::string &sdp) {
  link_.send(proto::to_json(proto::Answer{session, sdp}));
}

void RelaySignaller::send_candidate(const std::string &session, int mline, const std::string &candidate) {
  link_.send(proto::to_json(proto::Ice{session, candidate, mline}));
}

void RelaySignaller::send_refusal(const std::string &session, const std::string &code, const std::string &message,
                                  const std::string &end_reason) {
  link_.send(proto::to_json(proto::Error{code, message, session, ""}));
  if (!end_reason.empty()) link_.send(proto::to_json(proto::SessionEnd{session, end_reason}));
}

void RelaySignaller::send_end(const std::string &session, const std::string &reason) {
  link_.send(proto::to_json(proto::SessionEnd{session, reason}));
}

}  // namespace sl::agent
