// The one seam between viewer sessions and whatever carries their signaling:
// a session takes an offer and hands back its answer, its trickled candidates
// and its end through a Signaller, without knowing which one it is. The relay's
// WebSocket (signaling/relay_signaller) is one; WHEP and relay-to-relay
// signaling are more implementations of the same interface, not special cases.
//
// Offers, the viewer's candidates and the viewer's end come in through
// Sessions (sessions.hpp), naming the signaller they came by; everything about
// a session goes back through that signaller. Called on the main loop only.
#pragma once

#include <string>

namespace sl::agent {

class Signaller {
 public:
  virtual ~Signaller() = default;
  // The answer to the viewer's offer (SDP).
  virtual void send_answer(const std::string &session, const std::string &sdp) = 0;
  // One of our ICE candidates, as it is found (trickle ICE).
  virtual void send_candidate(const std::string &session, int mline, const std::string &candidate) = 0;
  // The offer was not taken: a protocol error code (unknown_camera,
  // camera_offline, bad_message), a sentence for the viewer, and the reason the
  // session ends (empty when the offer named a session already live, which goes on).
  virtual void send_refusal(const std::string &session, const std::string &code, const std::string &message,
                            const std::string &end_reason) = 0;
  // The agent ended the session (camera gone, ICE failed, agent stopping...).
  virtual void send_end(const std::string &session, const std::string &reason) = 0;
  // The session's path died on our side (our address went): the viewer is asked
  // to offer again on a new connection, for the same session.
  virtual void send_renew(const std::string &session) = 0;
};

}  // namespace sl::agent
