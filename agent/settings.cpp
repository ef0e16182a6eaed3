#include "settings.hpp"
#include "stamp_geometry.hpp"

#include "control.hpp"
#include "gobj.hpp"
#include "mqtt_url.hpp"
#include "protocol.hpp"
#include "rtsp_url.hpp"
#include "whep_url.hpp"

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
      {"id", Kind::String, "",
       "This device's id (A-Z a-z 0-9 . _ -), also its camera's id; the cameras of [camera NAME] groups are ID/NAME. "
       "Default: this machine's host name."},
      {"relay", Kind::String, "ws://127.0.0.1:8080",
       "The relay's address: ws://HOST:PORT or wss://HOST; several, comma-separated, are tried in turn."},
      {"source", Kind::String, "test",
       "Video source: test (moving test pattern), v4l2:/dev/videoN (USB or V4L2 camera), libcamera[:NAME] (CSI "
       "camera module; --list-devices names them), rtsp://HOST[:PORT]/PATH (IP camera), or "
       "whep:http[s]://HOST[:PORT]/PATH "
       "(a WHEP server's stream, e.g. another relay's or MediaMTX's, its H.264 passed through). For tests and demos "
       "only: "
       "emulate:FORMAT, a stand-in for a V4L2 camera (yuyv, nv12, mjpeg, h264-baseline, h264-main, h264-high, "
       "h264-high-bframes, h264-high422, h264-high10; docs/cameras.md)."},
      {"rtsp-transport", Kind::String, "tcp",
       "rtsp:// sources: how the camera sends its video, tcp (inside the RTSP connection) or udp."},
      {"rtsp-credentials-file", Kind::String, "",
       "rtsp:// sources: file holding the camera's user:password (never put them in the URL)."},
      {"whep-token-file", Kind::String, "",
       "whep: sources: file holding the token sent to the WHEP server (Authorization: Bearer). Default: none."},
      {"pattern", Kind::String, "smpte", "Test source pattern (videotestsrc: smpte, ball, snow, red, ...)."},
      {"width", Kind::Int, "1280", "Frame width in pixels.", 16, 7680},
      {"height", Kind::Int, "720", "Frame height in pixels.", 16, 4320},
      {"fps", Kind::Int, "30", "Frames per second.", 1, 120},
      {"bitrate", Kind::Int, "2000", "Encoder bitrate in kbit/s.", 50, 50000},
      {"uplink-kbps", Kind::Int, "0",
       "This camera's share of the device's uplink in kbit/s: past it, the relay forwards the camera's one stream "
       "to its viewers instead of one stream each (fanout = auto, docs/fanout.md). 0: not given.",
       0, 10000000},
      {"encoder", Kind::String, "auto", "Encoder: auto, v4l2h264enc, x264enc, openh264enc or vp8enc."},
      {"stamp", Kind::Bool, "false",
       "Stamp every test frame with its capture time (LTS1, for latency measurement; test and emulate: sources)."},
      {"audio", Kind::String, "none",
       "Sound sent with the video, as Opus: none, alsa[:DEVICE] (a microphone, e.g. alsa:hw:1,0; arecord -l lists "
       "them), camera (an rtsp:// camera's own sound: G.711, AAC, Opus, ...; a whep: server's Opus), or test (a tone, "
       "for "
       "trying it out)."},
      {"speaker", Kind::String, "none",
       "Where what an operator says on the camera's page is played (talk-back): none, alsa[:DEVICE] (e.g. "
       "alsa:hw:0,0; aplay -l lists them), or test (measured and logged, not played)."},
      {"test-frames", Kind::Int, "0",
       "Test source only: it ends after this many frames, as an unplugged camera would, and is restarted like one "
       "(for trying out recovery). 0: never.",
       0, 100000000},
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
       "decoded (lowest latency; for a camera with sound, the browser decides, so the picture can wait for the "
       "sound), -1 = the browser decides.",
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

const config::SectionKind &camera_sections() {
  static const config::SectionKind kind{
      "camera ",
      {"source", "pattern", "width", "height", "fps", "bitrate", "encoder", "stamp", "keyframe-interval", "test-frames",
       "audio", "speaker", "rtsp-transport", "rtsp-credentials-file", "whep-token-file", "uplink-kbps"}};
  return kind;
}

Result<CameraSettings> camera_settings(const config::Settings &s, const std::string &id) {
  CameraSettings c;
  c.id = id;
  c.source = s.str("source");
  const bool emulated = c.source.rfind("emulate:", 0) == 0;  // the camera stand-in (tests, demos)
  if (c.source != "test" && c.source.rfind("v4l2:", 0) != 0 && c.source != "libcamera" &&
      c.source.rfind("libcamera:", 0) != 0 && !is_rtsp_source(c.source) && !is_whep_source(c.source) && !emulated)
    return fail(
        "Setting 'source' must be test, v4l2:/dev/videoN, libcamera[:NAME], rtsp://HOST/PATH or "
        "whep:http://HOST/PATH, not '" +
        redact_rtsp_url(c.source) + "'.");
  if (is_whep_source(c.source)) {
    auto endpoint = whep_endpoint(c.source);
    if (!endpoint) return fail("Setting 'source': " + endpoint.error() + ".");
  }
  if (is_rtsp_source(c.source)) {
    auto url = parse_rtsp_url(c.source);
    if (!url) return fail("Setting 'source': " + url.error() + ".");
    if (!url->user.empty() || !url->password.empty())
      return fail(
          "Setting 'source': put the camera's user name and password in rtsp-credentials-file, not in the "
          "URL (a URL shows in process lists and logs).");
  }
  c.rtsp_transport = s.str("rtsp-transport");
  if (c.rtsp_transport != "tcp" && c.rtsp_transport != "udp")
    return fail("Setting 'rtsp-transport' must be tcp or udp, not '" + c.rtsp_transport + "'.");
  if (const std::string file = s.str("rtsp-credentials-file"); !file.empty()) {
    auto credentials = read_rtsp_credentials(file);
    if (!credentials) return fail("Setting 'rtsp-credentials-file': " + credentials.error() + ".");
    c.rtsp_user = credentials->user;
    c.rtsp_password = credentials->password;
  }
  if (const std::string file = s.str("whep-token-file"); !file.empty()) {
    gchar *text = nullptr;
    GError *raw = nullptr;
    if (!g_file_get_contents(file.c_str(), &text, nullptr, &raw)) {
      Owned<GError> error(raw);
      return fail("Setting 'whep-token-file': cannot read " + file + " (" + error->message + ").");
    }
    OwnedStr owned(text);
    c.whep_token = g_strstrip(text);
    if (c.whep_token.empty() || c.whep_token.find_first_of(" \r\n") != std::string::npos)
      return fail("Setting 'whep-token-file': " + file + " must hold one token on one line.");
  }
  if (c.source.find_first_of("\"!'\\") != std::string::npos)
    return fail("Setting 'source' may not contain quotes, '!' or backslashes.");
  if (c.source.rfind("v4l2:", 0) == 0 && c.source.size() <= 5)
    return fail("Setting 'source' needs a device after v4l2:, e.g. v4l2:/dev/video0.");
  c.pattern = s.str("pattern");
  c.width = int(s.integer("width"));
  c.height = int(s.integer("height"));
  c.fps = int(s.integer("fps"));
  c.bitrate_kbps = int(s.integer("bitrate"));
  c.encoder = s.str("encoder");
  static const char *const encoders[] = {"auto", "v4l2h264enc", "x264enc", "openh264enc", "vp8enc"};
  if (std::find(std::begin(encoders), std::end(encoders), c.encoder) == std::end(encoders))
    return fail("Setting 'encoder' must be auto, v4l2h264enc, x264enc, openh264enc or vp8enc, not '" + c.encoder +
                "'.");
  c.stamp = s.flag("stamp");
  if (c.stamp && c.source != "test" && !emulated)
    return fail("Setting 'stamp' works with the test source and the camera stand-in (emulate:) only.");
  if (c.stamp && (c.width < kStampWidth || c.height < kStampHeight))
    return fail("Setting 'stamp' needs a frame at least 384x32 pixels; 'width' is " + std::to_string(c.width) + ".");
  if (c.width % 2 || c.height % 2) return fail("Settings 'width' and 'height' must be even numbers.");
  c.keyframe_interval_s = int(s.integer("keyframe-interval"));
  c.uplink_kbps = int(s.integer("uplink-kbps"));
  c.test_frames = int(s.integer("test-frames"));
  c.audio = s.str("audio");
  c.speaker = s.str("speaker");
  // Only an IP camera's or a WHEP server's stream carries sound of its own; a speaker is never the camera.
  if (c.audio == "camera" && !is_rtsp_source(c.source) && !is_whep_source(c.source))
    return fail(
        "Setting 'audio' camera is an IP camera's (or a WHEP server's) own sound: it needs an rtsp:// or "
        "whep: source (this source is '" +
        redact_rtsp_url(c.source) + "'); use alsa[:DEVICE] for a microphone.");
  for (const auto &[key, value] : {std::pair{"audio", c.audio}, std::pair{"speaker", c.speaker}}) {
    if (key == std::string("audio") && value == "camera") continue;
    if (value != "none" && value != "test" && value != "alsa" && value.rfind("alsa:", 0) != 0)
      return fail("Setting '" + std::string(key) + "' must be none, test or alsa[:DEVICE]" +
                  (key == std::string("audio") ? " or camera" : "") + ", not '" + value + "'.");
    if (value.find_first_of("\"!'\\ ") != std::string::npos)
      return fail("Setting '" + std::string(key) + "' may not contain quotes, spaces, '!' or backslashes.");
  }
  if (c.test_frames && c.source != "test") return fail("Setting 'test-frames' works with the test source only.");
  return c;
}

Result<AgentSettings> agent_settings(const config::Settings &s, const std::vector<config::Section> &sections) {
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
  if (sections.empty()) {
    auto camera = camera_settings(s, a.id);
    if (!camera) return fail(camera.error());
    a.cameras.push_back(*std::move(camera));
  }
  for (const auto &section : sections) {
    if (!proto::valid_id(section.name))
      return fail("Camera group [camera " + section.name + "]: the name must be 1-64 characters of A-Z a-z 0-9 . _ -.");
    const std::string id = a.id + "/" + section.name;
    for (const auto &other : a.cameras)
      if (other.id == id) return fail("Camera group [camera " + section.name + "] is given twice.");
    auto camera = camera_settings(section.settings, id);
    if (!camera) return fail("[camera " + section.name + "]: " + camera.error());
    a.cameras.push_back(*std::move(camera));
  }
  a.ice_addresses = s.list("ice-address");
  a.stun = s.list("stun");
  for (auto &camera : a.cameras) {
    camera.ice_addresses = a.ice_addresses;
    camera.stun = a.stun;
  }
  a.ice_relay_only = s.flag("ice-relay-only");
  a.heartbeat_interval_s = int(s.integer("heartbeat-interval"));
  a.reconnect_max_s = int(s.integer("reconnect-max"));
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
