// An ICE restart answered on the same session. webrtcbin 1.22 has none: a new
// offer with the viewer's new credentials reaches its libnice agent, but libnice
// keeps the old selected pair (the path that is gone) and will not switch to a
// new pair of the same or lower priority (a viewer's new host address, or a
// peer-reflexive one, as the browser's checks from a new network are), so the
// session never plays again. Restarting the libnice agent (ICE's own restart,
// RFC 8445 section 9: remote candidates dropped, the selected pair's priority
// cleared so the viewer's next nomination replaces it) before webrtcbin takes the
// offer fixes that; the old pair carries media until then. webrtcbin sets its
// local credentials back to those of its answer (unchanged), so the viewer's
// checks match them. (docs/protocol.md, "Restarting ICE")
#pragma once

#include "result.hpp"

#include <gst/gst.h>

namespace sl::agent {

// Restarts the ICE agent of `webrtc`, a webrtcbin; fails when that agent is not libnice's.
Result<void> restart_ice_agent(GstElement *webrtc);

}  // namespace sl::agent
