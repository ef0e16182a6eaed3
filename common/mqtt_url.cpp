#include "mqtt_url.hpp"

#include <glib.h>

namespace sl {

Result<std::string> broker_uri(const std::string &url) {
  GError *raw = nullptr;
  GUri *uri = g_uri_parse(url.c_str(), G_URI_FLAGS_NONE, &raw);
  if (!uri) {
    std::string why = raw ? raw->message : "invalid";
    g_clear_error(&raw);
    return fail("is not a URL (" + why + "): " + url);
  }
  const std::string scheme = g_uri_get_scheme(uri);
  const std::string host = g_uri_get_host(uri) ? g_uri_get_host(uri) : "";
  const int port = g_uri_get_port(uri);
  g_uri_unref(uri);
  const bool tls = scheme == "ssl" || scheme == "mqtts";
  if ((!tls && scheme != "tcp" && scheme != "mqtt") || host.empty())
    return fail("must look like tcp://HOST:PORT or ssl://HOST:PORT, not '" + url + "'");
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return std::string(tls ? "ssl" : "tcp") + "://" + h + ":" + std::to_string(port > 0 ? port : tls ? 8883 : 1883);
}

std::string connect_failure_words(int code, bool tls) {
  switch (code) {
    case -1:
      return tls ? "TCP/TLS connect failed: the broker is not reachable there, or its certificate is not trusted "
                   "(check mqtt-ca-file) or not made for that host name"
                 : "TCP connect failed: is the broker running at that address and port?";
    case 1:
      return "the broker refused the protocol version (MQTT 3.1.1 needed)";
    case 2:
      return "the broker refused the client id";
    case 3:
      return "the broker says it is unavailable";
    case 4:
      return "bad user name or password (check mqtt-user and mqtt-password)";
    case 5:
      return "not authorized: wrong user name or password, or not allowed in (check mqtt-user, mqtt-password "
             "and the broker's password file)";
    default:
      return "connect failed (code " + std::to_string(code) + ")";
  }
}

}  // namespace sl
