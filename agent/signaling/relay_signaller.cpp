#include "relay_signaller.hpp"

#include <glib.h>

namespace sl::agent {

void RelaySignaller::handle(const proto::RelayToAgent &message) {
  if (auto *offer = std::get_if<proto::Offer>(&message)) {
    sessions_.offer(*offer, *this);
  } else if (auto *ice = std::get_if<proto::Ice>(&message)) {
    sessions_.remote_candidate(ice->session, ice->sdp_mline_index, ice->candidate);
  } else if (auto *end = std::get_if<proto::SessionEnd>(&message)) {
    sessions_.remote_end(end->session, end->reason);
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
