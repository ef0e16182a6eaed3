#include "webrtcbin_ice.hpp"

#include "gobj.hpp"
#include "gst_webrtc_owned.hpp"
#include "ice_config.hpp"

#include <gst/webrtc/webrtc.h>

namespace sl::agent {

void configure_webrtcbin_ice(GstElement *webrtc, const std::vector<proto::IceServer> &servers,
                             const std::vector<std::string> &addresses, const std::string &who) {
  const WebrtcbinIce ice = to_webrtcbin(servers);
  GST_DEBUG_OBJECT(webrtc, "%s: STUN %s, %zu TURN server(s)", who.c_str(),
                   ice.stun_server.empty() ? "none" : ice.stun_server.c_str(), ice.turn_servers.size());
  if (!ice.stun_server.empty()) g_object_set(webrtc, "stun-server", ice.stun_server.c_str(), nullptr);
  for (const auto &turn : ice.turn_servers) {
    gboolean added = FALSE;
    g_signal_emit_by_name(webrtc, "add-turn-server", turn.c_str(), &added);
    if (!added) g_warning("%s: webrtcbin refused a TURN server", who.c_str());
  }
  if (addresses.empty()) return;
  GstWebRTCICE *raw = nullptr;
  g_object_get(webrtc, "ice-agent", &raw, nullptr);
  auto agent = adopt(raw);
  for (const auto &address : addresses) {
    gboolean added = FALSE;
    if (agent) g_signal_emit_by_name(agent.get(), "add-local-ip-address", address.c_str(), &added);
    if (!added) g_warning("%s: cannot restrict ICE to %s", who.c_str(), address.c_str());
  }
}

}  // namespace sl::agent
