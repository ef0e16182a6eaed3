#include "settings.hpp"

#include "control.hpp"
#include "mqtt_url.hpp"

#include <glib.h>

#include <cstdlib>

namespace sl::relay {

using config::Kind;

const std::vector<config::Option> &relay_options() {
  static const std::vector<config::Option> options = {
      {"listen", Kind::String, "127.0.0.1:8080", "Address and port to serve HTTP and WebSockets on (HOST:PORT)."},
      {"web-root", Kind::String, "", "Folder of the web app. Default: the installed one, or the source tree's web/."},
      {"stun", Kind::StringList, "", "STUN server URL handed to viewers and agents, e.g. stun:stun.example.org:3478 (repeatable)."},
      {"heartbeat-interval", Kind::Int, "5", "Seconds between heartbeats; a socket silent for 3 intervals is dropped.", 1, 300},
      {"session-timeout", Kind::Int, "10", "Seconds a session may wait for the camera's answer.", 1, 300},
      {"max-message-size", Kind::Int, "65536", "Largest WebSocket message accepted, in bytes.", 1024, 16 * 1024 * 1024},
      {"mqtt", Kind::String, "", "MQTT broker for commands and camera state: tcp://HOST:PORT or ssl://HOST:PORT."},
      {"mqtt-user", Kind::String, "", "MQTT user name."},
      {"mqtt-password", Kind::String, "", "MQTT password."},
      {"mqtt-ca-file", Kind::String, "", "ssl:// only: the CA certificate to trust (default: the system's)."},
      {"mqtt-prefix", Kind::String, "sightline", "Topic prefix, as the agents use it."},
      {"command-timeout", Kind::Int, "10", "Seconds to wait for a camera's ack before answering 504.", 1, 300},
  };
  return options;
}

bool parse_listen(const std::string &text, std::string &host, int &port) {
  std::string h, p;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') return false;
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return false;
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
  }
  char *end = nullptr;
  const long n = std::strtol(p.c_str(), &end, 10);
  if (h.empty() || p.empty() || *end != '\0' || n < 0 || n > 65535) return false;
  GInetAddress *address = g_inet_address_new_from_string(h.c_str());
  if (!address && h != "localhost") return false;
  if (address) g_object_unref(address);
  host = h == "localhost" ? "127.0.0.1" : h;
  port = int(n);
  return true;
}

std::string default_web_root() {
  auto has_index = [](const std::string &dir) {
    return g_file_test((dir + "/index.html").c_str(), G_FILE_TEST_EXISTS);
  };
  if (has_index(SL_WEB_INSTALL_DIR)) return SL_WEB_INSTALL_DIR;
  if (has_index(SL_SOURCE_WEB_DIR)) return SL_SOURCE_WEB_DIR;
  return SL_WEB_INSTALL_DIR;
}

std::variant<RelaySettings, std::string> relay_settings(const config::Settings &s) {
  RelaySettings r;
  if (!parse_listen(s.str("listen"), r.listen_host, r.listen_port))
    return "Setting 'listen' must be HOST:PORT with an IP address (e.g. 127.0.0.1:8080 or [::]:8080), not '" +
           s.str("listen") + "'.";
  r.web_root = s.str("web-root").empty() ? default_web_root() : s.str("web-root");
  if (!g_file_test((r.web_root + "/index.html").c_str(), G_FILE_TEST_EXISTS))
    return "Setting 'web-root': no index.html in " + r.web_root + ".";
  for (const auto &url : s.list("stun")) {
    if (url.rfind("stun:", 0) != 0 && url.rfind("stuns:", 0) != 0)
      return "Setting 'stun' must be a stun: URL such as stun:stun.example.org:3478, not '" + url + "'.";
    r.ice_servers.push_back(proto::IceServer{{url}, "", ""});
  }
  r.heartbeat_interval_s = int(s.integer("heartbeat-interval"));
  r.session_timeout_s = int(s.integer("session-timeout"));
  r.max_message_size = int(s.integer("max-message-size"));
  r.mqtt_url = s.str("mqtt");
  if (!r.mqtt_url.empty()) {
    auto uri = paho_server_uri(r.mqtt_url);
    if (uri.index() == 1) return "Setting 'mqtt' " + std::get<1>(uri) + ".";
  }
  r.mqtt_user = s.str("mqtt-user");
  r.mqtt_password = s.str("mqtt-password");
  r.mqtt_ca_file = s.str("mqtt-ca-file");
  r.mqtt_prefix = s.str("mqtt-prefix");
  if (!control::valid_prefix(r.mqtt_prefix))
    return "Setting 'mqtt-prefix' must be 1-128 characters of A-Z a-z 0-9 . _ - /, not '" + r.mqtt_prefix + "'.";
  r.command_timeout_s = int(s.integer("command-timeout"));
  return r;
}

}  // namespace sl::relay
