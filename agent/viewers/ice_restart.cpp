#include "ice_restart.hpp"

#include "gobj.hpp"
#include "gst_webrtc_owned.hpp"

#include <gst/webrtc/webrtc.h>
#include <nice/agent.h>

namespace sl::agent {

Result<void> restart_ice_agent(GstElement *webrtc) {
  GstWebRTCICE *raw = nullptr;
  g_object_get(webrtc, "ice-agent", &raw, nullptr);
  auto ice = adopt(raw);
  // GstWebRTCNice's "agent": its NiceAgent (read-only; other ICE implementations have none).
  if (!ice || !g_object_class_find_property(G_OBJECT_GET_CLASS(ice.get()), "agent"))
    return fail("webrtcbin's ICE agent is not libnice's: it cannot restart");
  NiceAgent *agent = nullptr;
  g_object_get(ice.get(), "agent", &agent, nullptr);
  if (!agent) return fail("webrtcbin has no libnice agent yet");
  const gboolean restarted = nice_agent_restart(agent);
  g_object_unref(agent);
  if (!restarted) return fail("libnice refused to restart ICE");
  return ok();
}

}  // namespace sl::agent
