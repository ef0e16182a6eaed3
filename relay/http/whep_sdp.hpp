// The text of WHEP (draft-ietf-wish-whep), without sockets: what a player's offer
// must hold to be brokered, its trickled candidates (application/trickle-ice-sdpfrag,
// RFC 8840), the agent's answer with the candidates it gathered, and the Link
// headers that carry the session's STUN/TURN servers (RFC 8288, WHIP §4.6).
// relay/http/whep.cpp is the HTTP shell around it.
#pragma once

#include "protocol.hpp"
#include "result.hpp"

#include <string>
#include <vector>

namespace sl::relay::whep {

// What the relay needs of a player's offer.
struct OfferFacts {
  std::vector<std::string> mids;  // per m-line, in order ("" when it has none)
  std::string ice_ufrag;          // the first one found (session or media level)
};
// The offer's facts, or why it cannot be brokered (the 400's body): not SDP, no
// video m-line, or no video codec the camera sends (`codec`, e.g. "H264", "VP8").
Result<OfferFacts> check_offer(const std::string &sdp, const std::string &codec);

struct Candidate {
  std::string mid;
  std::string candidate;  // "candidate:..." (without "a=")
};
// A trickle-ice-sdpfrag: the player's ICE credentials and new candidates.
struct Fragment {
  std::string ice_ufrag, ice_pwd;
  std::vector<Candidate> candidates;
  bool end_of_candidates = false;
};
Result<Fragment> parse_fragment(const std::string &text);

struct AgentCandidate {
  int mline = 0;
  std::string candidate;  // "candidate:..."
};
// The agent's answer with its candidates written into their m-sections, and
// a=end-of-candidates in each when `complete`.
std::string answer_with_candidates(const std::string &answer, const std::vector<AgentCandidate> &candidates,
                                   bool complete);

// One Link header value per URL of `server`: <stun:...>; rel="ice-server", and
// for TURN its username and credential (credential-type "password").
std::vector<std::string> link_headers(const proto::IceServer &server);

// The m-line index a candidate for `mid` belongs to (the offer's order); 0 when unknown.
int mline_of(const OfferFacts &offer, const std::string &mid);

}  // namespace sl::relay::whep
