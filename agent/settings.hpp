// The agent's settings: the option table (file keys = flags) and the checked
// values the rest of the agent uses.
#pragma once

#include "config.hpp"
#include "result.hpp"

#include <string>
#include <vector>

namespace sl::agent {

// One camera of the agent: the only one (settings in [agent] and flags), or a
// [camera NAME] group of the config file.
struct CameraSettings {
  std::string id;      // what viewers see: the agent's id, or ID/NAME for a [camera NAME] group
  std::string source;  // "test", "v4l2:/dev/videoN", "libcamera[:NAME]", "rtsp://..." or "whep:http(s)://..."
  std::string rtsp_transport = "tcp";    // rtsp:// sources: "tcp" or "udp"
  std::string rtsp_user, rtsp_password;  // rtsp:// sources: from rtsp-credentials-file
  std::string whep_token;                // whep: sources: the Bearer token, from whep-token-file
  // whep: sources gather ICE as viewer sessions do: the agent's ice-address and stun.
  std::vector<std::string> ice_addresses, stun;
  std::string pattern;
  int width = 1280;
  int height = 720;
  int fps = 30;
  int bitrate_kbps = 2000;
  std::string encoder = "auto";
  bool stamp = false;
  int keyframe_interval_s = 2;
  int uplink_kbps = 0;  // its share of the device's uplink (the relay's fan-out policy); 0: not given
  int test_frames = 0;  // the test source ends after this many (as if unplugged); 0: never
  // "none", "test" (a tone), "alsa[:DEVICE]" or "camera" (an rtsp:// camera's own): sent as Opus with the video
  std::string audio = "none";
  std::string speaker = "none";  // "none", "alsa[:DEVICE]" or "test" (measured, not played): talk-back
};

struct AgentSettings {
  std::string id;
  std::vector<CameraSettings> cameras;  // at least one; ids unique
  std::string relay_url;                // ws(s)://host[:port]/ws/agent, path added: the first of
  std::vector<std::string> relay_urls;  // every relay given, tried in turn
  std::string tls_cert, tls_key;        // a client certificate for the relay (mutual TLS)
  std::vector<std::string> ice_addresses;
  std::vector<std::string> stun;
  bool ice_relay_only = false;  // only TURN-relayed candidate pairs
  int heartbeat_interval_s = 5;
  int reconnect_max_s = 10;
  int max_playout_delay_ms = 0;  // sent to browsers; -1: not sent
  std::string device_secret;     // proves this agent's id to the relay
  std::string ca_file;           // wss://: the CA to trust (default: the system's)
  // Control plane (MQTT); no url = no control plane, video works the same.
  std::string mqtt_url;
  std::string mqtt_user, mqtt_password, mqtt_ca_file;
  std::string mqtt_prefix = "sightline";
  int state_interval_s = 5;
  bool homeassistant_discovery = false;
  std::string homeassistant_prefix = "homeassistant";
};

const std::vector<config::Option> &agent_options();
// The keys a [camera NAME] group may set (and the group's prefix).
const config::SectionKind &camera_sections();

// Checks what the table cannot (URL shape, id, stamp fits the frame). The
// cameras: one per section, or (without sections) one from `s`, with the agent's id.
Result<AgentSettings> agent_settings(const config::Settings &s, const std::vector<config::Section> &sections = {});
// One camera's settings, checked; `id` its camera id.
Result<CameraSettings> camera_settings(const config::Settings &s, const std::string &id);

// "ws://host:8080" -> "ws://host:8080/ws/agent"; error text for other schemes.
Result<std::string> agent_socket_url(const std::string &relay);

}  // namespace sl::agent
