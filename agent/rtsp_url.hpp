// IP cameras' addresses and credentials, as plain text: reading an rtsp://
// URL, the same URL with any user:password taken out (what logs and the relay
// may show), and the credentials file (one line, user:password) that keeps the
// password off the command line. No GStreamer here: settings check these at
// start-up and the unit tests drive them directly.
#pragma once

#include "result.hpp"

#include <string>

namespace sl::agent {

struct RtspUrl {
  std::string scheme;  // "rtsp" or "rtsps"
  std::string user, password;
  std::string host;  // without brackets for IPv6
  int port = 554;
  std::string path;  // from the first '/' on, query included; "/" when absent
};

// True for rtsp:// and rtsps:// addresses (the agent's `source` setting).
bool is_rtsp_source(const std::string &source);

// Reads rtsp[s]://[user[:password]@]host[:port][/path]; the error says what is wrong.
Result<RtspUrl> parse_rtsp_url(const std::string &url);

// The URL as it may be shown: everything between "://" and the last '@' taken
// out (a user:password, even one holding '/'). Text without "://" loses what
// comes before its last '@'.
std::string redact_rtsp_url(const std::string &url);

struct RtspCredentials {
  std::string user, password;
  bool operator==(const RtspCredentials &) const = default;
};

// "user:password" (the first ':' separates them; the password may hold more),
// surrounding white space and a final newline ignored.
Result<RtspCredentials> parse_rtsp_credentials(const std::string &text);

// The file's content read as above; errors name the file, never its content.
Result<RtspCredentials> read_rtsp_credentials(const std::string &path);

}  // namespace sl::agent
