// The relay's WebSocket as a signaller (viewers/signaller.hpp): the offers,
// candidates and ends the relay forwards go to the sessions of the camera they
// are for, and what the sessions say goes back as protocol messages on the same
// link. Also carries each camera's status to the relay.
#pragma once

#include "protocol.hpp"
#include "relay_link.hpp"
#include "viewers/sessions.hpp"
#include "viewers/signaller.hpp"

#include <vector>

namespace sl::agent {

class RelaySignaller : public Signaller {
 public:
  // Every camera's sessions (they outlive the signaller).
  RelaySignaller(RelayLink &link, std::vector<Sessions *> cameras) : link_(link), cameras_(std::move(cameras)) {}

  // A message from the relay.
  void handle(const proto::RelayToAgent &message);
  void report(const proto::Status &status) { link_.send(proto::to_json(status)); }

  void send_answer(const std::string &session, const std::string &sdp) override;
  void send_candidate(const std::string &session, int mline, const std::string &candidate) override;
  void send_refusal(const std::string &session, const std::string &code, const std::string &message,
                    const std::string &end_reason) override;
  void send_end(const std::string &session, const std::string &reason) override;
  void send_renew(const std::string &session) override { link_.send(proto::to_json(proto::Renew{session})); }

 private:
  Sessions *holding(const std::string &session) const;

  RelayLink &link_;
  std::vector<Sessions *> cameras_;
};

}  // namespace sl::agent
