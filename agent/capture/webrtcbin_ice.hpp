// Gives a webrtcbin its ICE servers and the local addresses it may gather on:
// the same for a viewer's session and for a WHEP source's (ice_config.hpp turns
// the relay's server shape into webrtcbin's).
#pragma once

#include "protocol.hpp"

#include <gst/gst.h>

#include <string>
#include <vector>

namespace sl::agent {

// `addresses` empty: every local address. `who` names the session in warnings
// ("session ID", "camera ID's WHEP session").
void configure_webrtcbin_ice(GstElement *webrtc, const std::vector<proto::IceServer> &servers,
                             const std::vector<std::string> &addresses, const std::string &who);

}  // namespace sl::agent
