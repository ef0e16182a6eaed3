#include "settings.hpp"
#include "stamp_geometry.hpp"

#include "control.hpp"
#include "gobj.hpp"
#include "mqtt_url.hpp"
#include "protocol.hpp"

#include <glib.h>

#include <algorithm>
#include <iterator>

namespace sl::agent {

namespace {
// "a, b,,c" -> {"a", "b", "c"}
std::vector<std::string> split_list(const std::string &text) {
  std::vector<std::string> out;
  gchar **parts = g_strsplit(text.c_str(), ",", -1);
  for (gchar **p = parts; *p; ++p)
    if (*g_strstrip(*p)) out.emplace_back(*p);
  g_strfreev(parts);
  return out;
}
}  // namespace

using config::Kind;

const std::vector<config::Option> &agent_options() {
  static const std::vector<config::Option> options = {
      {"id", Kind::String, "", "Camera id shown to viewers (A-Z a-z 0-9 . _ -). Default: this machine's host name."},
      {"relay", Kind::String, "ws://127.0.0.1:8080",
       "The relay's address: ws://HOST:PORT or wss://HOST; several, comma-separated, are tried in turn."},
      {"source", Kind::String, "test",
       "Video source: test (moving test pattern), v4l2:/dev/videoN (USB or V4L2 camera), or libcamera[:NAME] (CSI "
       "camera module; --list-devices names them). For tests and demos only: emulate:FORMAT, a stand-in for a V4L2 "
       "camera (yuyv, nv12, mjpeg, h264-baseline, h264-main, h264-high, h264-high-bframes, h264-high422, "
       "h264-high10; docs/cameras.md)."},
      {"pattern", Kind::String, "smpte", "Test source pattern (videotestsrc: smpte, ball, snow, red, ...)."},
      {"width", Kind::Int, "1280", "Frame width in pixels.", 16, 7680},
      {"height", Kind::Int, "720", "Frame height in pixels.", 16, 4320},
      {"fps", Kind::Int, "30", "Frames per second.", 1, 120},
      {"bitrate", Kind::Int, "2000", "Encoder bitrate in kbit/s.", 50, 50000},
      {"encoder", Kind::String, "auto", "Encoder: auto, v4l2h264enc, x264enc, openh264enc or vp8enc."},
      {"stamp", Kind::Bool, "false",
       "Stamp every test frame with its capture time (LTS1, for latency measurement; test and emulate: sources)."},
      {"ice-address", Kind::StringList, "",
       "Only gather ICE candidates on this local address (repeatable). Default: every address."},
      {"ice-relay-only", Kind::Bool, "false", "Use only TURN-relayed paths (for checking a TURN setup)."},
      {"stun", Kind::StringList, "", "STUN server URL, e.g. stun:stun.example.org:3478 (repeatable)."},
      {"heartbeat-interval", Kind::Int, "5", "Seconds between heartbeats to the relay; 3 missed ones drop the link.", 1,
       300},
      {"reconnect-max", Kind::Int, "10", "Longest wait in seconds between attempts to reach the relay or broker.", 1,
       3600},
      {"device-secret", Kind::String, "", "This device's secret, as listed in the relay's device-secrets file."},
      {"device-secret-file", Kind::String, "", "File holding the device secret (instead of device-secret)."},
      {"ca-file", Kind::String, "", "wss:// only: the CA certificate to trust for the relay (default: the system's)."},
      {"tls-cert", Kind::String, "",
       "wss:// only: this device's client certificate (PEM; its common name is the id), instead of a device secret."},
      {"tls-key", Kind::String, "", "The private key of tls-cert (PEM)."},
      {"max-playout-delay", Kind::Int, "0",
       "Longest time in ms a browser may hold frames to smooth playback: 0 = show each frame as soon as it is "
       "decoded (lowest latency), -1 = the browser decides.",
       -1, 40950},
      {"keyframe-interval", Kind::Int, "2", "Seconds between keyframes (viewers joining get one at once anyway).", 1,
       600},
      {"mqtt", Kind::String, "",
       "MQTT broker for commands and state: tcp://HOST:PORT or ssl://HOST:PORT. Default: none."},
      {"mqtt-user", Kind::String, "", "MQTT user name."},
      {"mqtt-password", Kind::String, "", "MQTT password."},
      {"mqtt-ca-file", Kind::String, "", "ssl:// only: the CA certificate to trust (default: the system's)."},
      {"mqtt-prefix", Kind::String, "sightline", "Topic prefix: topics are PREFIX/CAMERA/cmd, ack, state, snapshot."},
      {"state-interval", Kind::Int, "5", "Seconds between state messages (also sent on every change).", 1, 3600},
      {"homeassistant-discovery", Kind::Bool, "false", "Publish Home Assistant MQTT discovery configs."},
      {"homeassistant-prefix", Kind::String, "homeassistant", "Home Assistant's discovery prefix."},
  };
  return options;
}

Result<std::string> agent_socket_url(const std::string &relay) {
  GError *raw = nullptr;
  auto uri = adopt(g_uri_parse(relay.c_str(), G_URI_FLAGS_NONE, &raw));
  Owned<GError> error(raw);
  if (!uri)
    return fail("Setting 'relay' is not a URL (" + std::string(error ? error->message : "invalid") + "): " + relay);
  const std::string scheme = g_uri_get_scheme(uri.get());
  const char *host = g_uri_get_host(uri.get());
  const int port = g_uri_get_port(uri.get());
  if ((scheme != "ws" && scheme != "wss") || !host || !*host)
    return fail("Setting 'relay' must look like ws://HOST:PORT or wss://HOST, not '" + relay + "'.");
  std::string path = g_uri_get_path(uri.get());
  std::string h = host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  while (!path.empty() && path.back() == '/') path.pop_back();
  return scheme + "://" + h + (port > 0 ? ":" + std::to_string(port) : "") + path + "/ws/agent";
}

Result<AgentSettings> agent_settings(const config::Settings &s) {
  AgentSettings a;
  a.id = s.str("id");
  if (a.id.empty()) {
    // Host names may hold characters ids do not allow; keep the allowed ones.
    for (char c : std::string(g_get_host_name()))
      if (proto::valid_id(std::string(1, c))) a.id += c;
    if (a.id.empty()) a.id = "camera";
    if (a.id.size() > proto::kMaxIdLength) a.id.resize(proto::kMaxIdLength);
  }
  if (!proto::valid_id(a.id))
    return fail("Setting 'id' must be 1-64 characters of A-Z a-z 0-9 . _ -, not '" + a.id + "'.");
  for (const auto &one : split_list(s.str("relay"))) {
    auto url = agent_socket_url(one);
    if (!url) return fail(url.error());
    a.relay_urls.push_back(*url);
  }
  if (a.relay_urls.empty()) return fail("Setting 'relay' is empty: give the relay's address, ws://HOST:PORT.");
  a.relay_url = a.relay_urls.front();
  a.source = s.str("source");
  const bool emulated = a.source.rfind("emulate:", 0) == 0;  // the camera stand-in (tests, demos)
  if (a.source != "test" && a.source.rfind("v4l2:", 0) != 0 && a.source != "libcamera" &&
      a.source.rfind("libcamera:", 0) != 0 && !emulated)
    return fail("Setting 'source' must be test, v4l2:/dev/videoN or libcamera[:NAME], not '" + a.source + "'.");
  if (a.source.find_first_of("\"!'\\") != std::string::npos)
    return fail("Setting 'source' may not contain quotes, '!' or backslashes.");
  if (a.source.rfind("v4l2:", 0) == 0 && a.source.size() <= 5)
    return fail("Setting 'source' needs a device after v4l2:, e.g. v4l2:/dev/video0.");
  a.pattern = s.str("pattern");
  a.width = int(s.integer("width"));
  a.height = int(s.integer("height"));
  a.fps = int(s.integer("fps"));
  a.bitrate_kbps = int(s.integer("bitrate"));
  a.encoder = s.str("encoder");
  static const char *const encoders[] = {"auto", "v4l2h264enc", "x264enc", "openh264enc", "vp8enc"};
  if (std::find(std::begin(encoders), std::end(encoders), a.encoder) == std::end(encoders))
    return fail("Setting 'encoder' must be auto, v4l2h264enc, x264enc, openh264enc or vp8enc, not '" + a.encoder +
                "'.");
  a.stamp = s.flag("stamp");
  if (a.stamp && a.source != "test" && !emulated)
    return fail("Setting 'stamp' works with the test source and the camera stand-in (emulate:) only.");
  if (a.stamp && (a.width < kStampWidth || a.height < kStampHeight))
    return fail("Setting 'stamp' needs a frame at least 384x32 pixels; 'width' is " + std::to_string(a.width) + ".");
  if (a.width % 2 || a.height % 2) return fail("Settings 'width' and 'height' must be even numbers.");
  a.ice_addresses = s.list("ice-address");
  a.stun = s.list("stun");
  a.ice_relay_only = s.flag("ice-relay-only");
  a.heartbeat_interval_s = int(s.integer("heartbeat-interval"));
  a.reconnect_max_s = int(s.integer("reconnect-max"));
  a.keyframe_interval_s = int(s.integer("keyframe-interval"));
  a.max_playout_delay_ms = int(s.integer("max-playout-delay"));
  auto device_secret = config::read_secret(s, "device-secret");
  if (!device_secret) return fail(device_secret.error());
  a.device_secret = *device_secret;
  a.ca_file = s.str("ca-file");
  a.tls_cert = s.str("tls-cert");
  a.tls_key = s.str("tls-key");
  if (a.tls_cert.empty() != a.tls_key.empty()) return fail("Settings 'tls-cert' and 'tls-key' go together.");
  for (const auto &[name, file] : {std::pair{"tls-cert", a.tls_cert}, std::pair{"tls-key", a.tls_key}})
    if (!file.empty() && !g_file_test(file.c_str(), G_FILE_TEST_IS_REGULAR))
      return fail("Setting '" + std::string(name) + "': no such file " + file + ".");
  if (!a.ca_file.empty() && !g_file_test(a.ca_file.c_str(), G_FILE_TEST_IS_REGULAR))
    return fail("Setting 'ca-file': no such file " + a.ca_file + ".");
  a.mqtt_url = s.str("mqtt");
  if (!a.mqtt_url.empty()) {
    if (auto uri = broker_uri(a.mqtt_url); !uri) return fail("Setting 'mqtt' " + uri.error() + ".");
  }
  a.mqtt_user = s.str("mqtt-user");
  a.mqtt_password = s.str("mqtt-password");
  a.mqtt_ca_file = s.str("mqtt-ca-file");
  a.mqtt_prefix = s.str("mqtt-prefix");
  if (!control::valid_prefix(a.mqtt_prefix))
    return fail("Setting 'mqtt-prefix' must be 1-128 characters of A-Z a-z 0-9 . _ - /, not '" + a.mqtt_prefix + "'.");
  a.state_interval_s = int(s.integer("state-interval"));
  a.homeassistant_discovery = s.flag("homeassistant-discovery");
  a.homeassistant_prefix = s.str("homeassistant-prefix");
  if (!control::valid_prefix(a.homeassistant_prefix))
    return fail("Setting 'homeassistant-prefix' must be 1-128 characters of A-Z a-z 0-9 . _ - /.");
  return a;
}

}  // namespace sl::agent
