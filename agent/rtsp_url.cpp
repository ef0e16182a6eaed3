#include "rtsp_url.hpp"

#include <glib.h>

#include <cctype>

namespace sl::agent {

namespace {

bool starts_with(const std::string &s, const char *prefix) { return s.rfind(prefix, 0) == 0; }

std::string trimmed(const std::string &s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

}  // namespace

bool is_rtsp_source(const std::string &source) {
  return starts_with(source, "rtsp://") || starts_with(source, "rtsps://");
}

Result<RtspUrl> parse_rtsp_url(const std::string &url) {
  RtspUrl u;
  size_t at = 0;
  if (starts_with(url, "rtsp://")) {
    u.scheme = "rtsp";
    at = 7;
  } else if (starts_with(url, "rtsps://")) {
    u.scheme = "rtsps";
    u.port = 322;
    at = 8;
  } else {
    return fail("an IP camera's address starts with rtsp:// or rtsps://");
  }
  const size_t slash = url.find('/', at);
  std::string authority = url.substr(at, slash == std::string::npos ? std::string::npos : slash - at);
  u.path = slash == std::string::npos ? "/" : url.substr(slash);
  if (const size_t userinfo = authority.rfind('@'); userinfo != std::string::npos) {
    const std::string info = authority.substr(0, userinfo);
    const size_t colon = info.find(':');
    u.user = info.substr(0, colon);
    if (colon != std::string::npos) u.password = info.substr(colon + 1);
    authority = authority.substr(userinfo + 1);
  }
  std::string port;
  if (starts_with(authority, "[")) {
    const size_t close = authority.find(']');
    if (close == std::string::npos) return fail("the IPv6 address in the camera's address lacks its ']'");
    u.host = authority.substr(1, close - 1);
    const std::string rest = authority.substr(close + 1);
    if (!rest.empty() && rest[0] != ':') return fail("unexpected text after the camera's IPv6 address");
    if (!rest.empty()) port = rest.substr(1);
  } else {
    const size_t colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return fail("the camera's address has no host");
  for (char c : u.host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '_'))
      return fail("the camera's host name holds a character hosts cannot have");
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
      return fail("the camera's port must be a number");
    u.port = std::stoi(port);
    if (u.port < 1 || u.port > 65535) return fail("the camera's port must be 1-65535");
  }
  for (char c : u.path)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return fail("the camera's path holds spaces or controls");
  return u;
}

std::string redact_rtsp_url(const std::string &url) {
  // The last '@' anywhere: a password may hold an unencoded '/', and a path
  // with an '@' shown mangled is better than a password shown.
  const size_t at = url.rfind('@');
  if (at == std::string::npos) return url;
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos || scheme_end > at) return "***@" + url.substr(at + 1);
  return url.substr(0, scheme_end + 3) + url.substr(at + 1);
}

Result<RtspCredentials> parse_rtsp_credentials(const std::string &text) {
  const std::string line = trimmed(text);
  if (line.find('\n') != std::string::npos) return fail("holds more than one line; it must be user:password");
  const size_t colon = line.find(':');
  if (colon == std::string::npos) return fail("must hold user:password (no ':' found)");
  RtspCredentials c{line.substr(0, colon), line.substr(colon + 1)};
  if (c.user.empty()) return fail("has an empty user name; it must be user:password");
  return c;
}

Result<RtspCredentials> read_rtsp_credentials(const std::string &path) {
  gchar *raw = nullptr;
  gsize length = 0;
  GError *error = nullptr;
  if (!g_file_get_contents(path.c_str(), &raw, &length, &error)) {
    std::string why = error ? error->message : "unreadable";
    g_clear_error(&error);
    return fail("cannot read " + path + " (" + why + ")");
  }
  const std::string text(raw, length);
  g_free(raw);
  auto parsed = parse_rtsp_credentials(text);
  if (!parsed) return fail(path + " " + parsed.error());
  return parsed;
}

}  // namespace sl::agent
