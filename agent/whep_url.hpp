// A WHEP server as the camera's source (`source = whep:URL`), as plain text:
// reading the setting, the Link headers of a WHEP answer that name ICE servers
// (RFC 9725 section 4.6, `<stun:host:port>; rel="ice-server"`, TURN with
// username and credential), and the one sentence a refused POST becomes. No
// GStreamer or libsoup here: settings check these at start-up and the unit
// tests drive them directly.
#pragma once

#include "protocol.hpp"
#include "result.hpp"

#include <string>
#include <vector>

namespace sl::agent {

inline constexpr const char *kWhepPrefix = "whep:";

// True for settings that start with whep: (whatever follows).
bool is_whep_source(const std::string &source);

// "whep:http://host:port/path" -> "http://host:port/path"; the error says what
// is wrong (not http or https, no host, user:password in the URL).
Result<std::string> whep_endpoint(const std::string &source);

// The ICE servers named by Link header values (each value may hold several
// links, comma-separated). Links of another rel, and schemes other than stun,
// stuns, turn and turns, are left out; a TURN link without credentials too.
std::vector<proto::IceServer> ice_servers_from_links(const std::vector<std::string> &values);

// A resource URL (the Location header, maybe relative) resolved against the endpoint.
std::string resolve_location(const std::string &endpoint, const std::string &location);

// Why a WHEP server refused the offer, as a sentence saying what to do.
// `reason` is the body of its answer (the server's own words, trimmed and cut short).
std::string describe_whep_refusal(unsigned status, const std::string &reason, const std::string &endpoint,
                                  bool token_given);

}  // namespace sl::agent
