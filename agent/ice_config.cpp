#include "ice_config.hpp"

#include <glib.h>

namespace sl::agent {

namespace {
std::string escape(const std::string &s) {
  char *e = g_uri_escape_string(s.c_str(), nullptr, FALSE);
  std::string out(e);
  g_free(e);
  return out;
}
}  // namespace

WebrtcbinIce to_webrtcbin(const std::vector<proto::IceServer> &servers) {
  WebrtcbinIce out;
  for (const auto &server : servers) {
    for (const auto &url : server.urls) {
      const auto colon = url.find(':');
      if (colon == std::string::npos) continue;
      const std::string scheme = url.substr(0, colon);
      std::string rest = url.substr(colon + 1);
      if (rest.rfind("//", 0) == 0) rest = rest.substr(2);
      if (scheme == "stun" && out.stun_server.empty()) {
        out.stun_server = "stun://" + rest;
      } else if (scheme == "turn" || scheme == "turns") {
        out.turn_servers.push_back(scheme + "://" + escape(server.username) + ":" + escape(server.credential) + "@" +
                                   rest);
      }
    }
  }
  return out;
}

}  // namespace sl::agent
