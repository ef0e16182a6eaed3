// The relay's WebSocket as a signaller (viewers/signaller.hpp): the offers,
// candidates and ends the relay forwards go to the sessions, and what the
// sessions say goes back as protocol messages on the same link. Also carries
// the camera's status to the relay.
#pragma once

#include "protocol.hpp"
#include "relay_link.hpp"
#include "viewers/sessions.hpp"
#include "viewers/signaller.hpp"

namespace sl::agent {

class RelaySignaller : public Signaller {
 public:
  RelaySignaller(RelayLink &link, Sessions &sessions) : link_(link), sessions_(sessions) {}

  // A message from the relay.
  void handle(const proto::RelayToAgent &message);
  void report(const proto::Status &status) { link_.send(proto::to_json(status)); }

  void send_answer(const std::string &session, const std::string &sdp) override;
  void send_candidate(const std::string &session, int mline, const std::string &candidate) override;
  void send_refusal(const std::string &session, const std::string &code, const std::string &message,
                    const std::string &end_reason) override;
  void send_end(const std::string &session, const std::string &reason) override;

 private:
  RelayLink &link_;
  Sessions &sessions_;
};

}  // namespace sl::agent
