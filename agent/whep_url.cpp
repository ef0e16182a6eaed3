#include "whep_url.hpp"

#include "gobj.hpp"

#include <glib.h>

#include <algorithm>

namespace sl::agent {

bool is_whep_source(const std::string &source) { return source.rfind(kWhepPrefix, 0) == 0; }

Result<std::string> whep_endpoint(const std::string &source) {
  if (!is_whep_source(source)) return fail("a WHEP source starts with whep:");
  const std::string url = source.substr(std::string(kWhepPrefix).size());
  GError *raw = nullptr;
  auto uri = adopt(g_uri_parse(url.c_str(), G_URI_FLAGS_NONE, &raw));
  Owned<GError> error(raw);
  if (!uri) return fail("'" + url + "' after whep: is not a URL; give whep:http://HOST:PORT/PATH");
  const std::string scheme = g_uri_get_scheme(uri.get());
  if (scheme != "http" && scheme != "https")
    return fail("a WHEP endpoint is an http:// or https:// URL, not " + scheme + "://");
  const char *host = g_uri_get_host(uri.get());
  if (!host || !*host) return fail("the WHEP endpoint '" + url + "' has no host");
  if (g_uri_get_userinfo(uri.get()))
    return fail("put the WHEP server's token in whep-token-file, not in the URL (a URL shows in logs)");
  return url;
}

namespace {

std::string trim(std::string s) {
  const auto not_space = [](char c) { return c != ' ' && c != '\t'; };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

// Splits on `sep` outside <...> and "...".
std::vector<std::string> split_outside(const std::string &text, char sep) {
  std::vector<std::string> out;
  std::string part;
  bool in_angle = false, in_quote = false;
  for (char c : text) {
    if (c == '"' && !in_angle) in_quote = !in_quote;
    if (c == '<' && !in_quote) in_angle = true;
    if (c == '>' && !in_quote) in_angle = false;
    if (c == sep && !in_angle && !in_quote) {
      out.push_back(trim(part));
      part.clear();
      continue;
    }
    part += c;
  }
  out.push_back(trim(part));
  return out;
}

std::string unquote(std::string s) {
  s = trim(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

}  // namespace

std::vector<proto::IceServer> ice_servers_from_links(const std::vector<std::string> &values) {
  std::vector<proto::IceServer> out;
  for (const auto &value : values)
    for (const auto &link : split_outside(value, ',')) {
      auto params = split_outside(link, ';');
      if (params.empty() || params[0].size() < 2 || params[0].front() != '<' || params[0].back() != '>') continue;
      const std::string url = params[0].substr(1, params[0].size() - 2);
      std::string rel, username, credential;
      for (size_t i = 1; i < params.size(); ++i) {
        const auto eq = params[i].find('=');
        if (eq == std::string::npos) continue;
        std::string key = trim(params[i].substr(0, eq));
        std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return char(g_ascii_tolower(c)); });
        const std::string val = unquote(params[i].substr(eq + 1));
        if (key == "rel") rel = val;
        if (key == "username") username = val;
        if (key == "credential") credential = val;
      }
      if (rel != "ice-server") continue;
      const std::string scheme = url.substr(0, url.find(':'));
      const bool turn = scheme == "turn" || scheme == "turns";
      if (url.find(':') == std::string::npos || (!turn && scheme != "stun" && scheme != "stuns")) continue;
      if (turn && (username.empty() || credential.empty())) continue;  // TURN servers refuse anonymous use
      out.push_back(proto::IceServer{{url}, turn ? username : "", turn ? credential : ""});
    }
  return out;
}

std::string resolve_location(const std::string &endpoint, const std::string &location) {
  GError *raw = nullptr;
  OwnedStr resolved(g_uri_resolve_relative(endpoint.c_str(), location.c_str(), G_URI_FLAGS_NONE, &raw));
  Owned<GError> error(raw);
  return resolved ? std::string(resolved.get()) : location;
}

std::string describe_whep_refusal(unsigned status, const std::string &reason, const std::string &endpoint,
                                  bool token_given) {
  std::string said = trim(reason);
  std::replace_if(
      said.begin(), said.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  said = trim(said);
  if (said.size() > 200) said = said.substr(0, 200) + "...";
  while (!said.empty() && said.back() == '.') said.pop_back();
  const std::string server = " (the server said: " + (said.empty() ? std::string("nothing") : said) + ").";
  const std::string code = std::to_string(status);
  switch (status) {
    case 401:
      return "The WHEP server at " + endpoint +
             (token_given ? " refused the token (401): check whep-token-file"
                          : " asks for a token (401): put it in a file and give it "
                            "as whep-token-file") +
             server;
    case 403:
      return "The WHEP server at " + endpoint + " does not let this token watch that stream (403)" + server;
    case 404:
      return "The WHEP server at " + endpoint + " has no such stream (404): check the URL in 'source'" + server;
    case 503:
      return "The WHEP server at " + endpoint + " cannot serve the stream now (503: is the camera behind it online?)" +
             server;
    default:
      break;
  }
  return "The WHEP server at " + endpoint + " refused the offer (" + code + ")" + server;
}

}  // namespace sl::agent
