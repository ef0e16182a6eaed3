// Turns the ICE servers the relay hands out (browser RTCIceServer shape:
// "stun:host:port", "turn:host:port?transport=udp" with username/credential)
// into what webrtcbin takes ("stun://host:port", "turn://user:pass@host:port").
#pragma once

#include "protocol.hpp"

#include <string>
#include <vector>

namespace sl::agent {

struct WebrtcbinIce {
  std::string stun_server;                // webrtcbin holds one
  std::vector<std::string> turn_servers;  // for the add-turn-server signal
};

WebrtcbinIce to_webrtcbin(const std::vector<proto::IceServer> &servers);

}  // namespace sl::agent
