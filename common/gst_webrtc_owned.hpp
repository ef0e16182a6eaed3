// Owners for the SDP and WebRTC libraries' types, beside gst_owned.hpp's:
// Owned<GstSDPMessage>, Owned<GstWebRTCSessionDescription>. Only for code that
// links those libraries (the viewer sessions).
#pragma once

#include "gst_owned.hpp"

#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

namespace sl {

template <>
struct Unref<GstSDPMessage> {
  void operator()(GstSDPMessage *p) const {
    if (p) gst_sdp_message_free(p);
  }
};
template <>
struct Unref<GstWebRTCSessionDescription> {
  void operator()(GstWebRTCSessionDescription *p) const {
    if (p) gst_webrtc_session_description_free(p);
  }
};

}  // namespace sl
