#include "whep_sdp.hpp"

#include <glib.h>

#include <algorithm>

namespace sl::relay::whep {

namespace {
// SDP's lines, CRLF or LF, without the empty last one.
std::vector<std::string> lines_of(const std::string &text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(std::move(line));
    start = end + 1;
  }
  while (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

bool starts(const std::string &line, const char *prefix) { return line.rfind(prefix, 0) == 0; }

// Every line is "x=value" with printable text: anything else is not SDP.
Result<void> well_formed(const std::vector<std::string> &lines) {
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto &l = lines[i];
    if (l.size() < 2 || l[1] != '=' || !g_ascii_isalpha(l[0]))
      return fail("line " + std::to_string(i + 1) + " is not 'type=value'");
    if (std::any_of(l.begin(), l.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 && c != '\t'; }))
      return fail("line " + std::to_string(i + 1) + " holds a control character");
  }
  return ok();
}
}  // namespace

Result<OfferFacts> check_offer(const std::string &sdp, const std::string &codec) {
  const auto lines = lines_of(sdp);
  if (lines.empty() || lines[0] != "v=0") return fail("the body is not an SDP offer: it must start with v=0");
  if (auto formed = well_formed(lines); !formed) return fail("malformed SDP: " + formed.error());
  OfferFacts facts;
  bool video = false, in_video = false, has_codec = false;
  for (const auto &l : lines) {
    if (starts(l, "m=")) {
      facts.mids.emplace_back();
      in_video = starts(l, "m=video ");
      video = video || in_video;
    } else if (starts(l, "a=mid:") && !facts.mids.empty()) {
      facts.mids.back() = l.substr(6);
    } else if (starts(l, "a=ice-ufrag:") && facts.ice_ufrag.empty()) {
      facts.ice_ufrag = l.substr(12);
    } else if (in_video && starts(l, "a=rtpmap:")) {
      // a=rtpmap:96 H264/90000
      const size_t space = l.find(' '), slash = l.find('/', space);
      if (space != std::string::npos && slash != std::string::npos &&
          g_ascii_strcasecmp(l.substr(space + 1, slash - space - 1).c_str(), codec.c_str()) == 0)
        has_codec = true;
    }
  }
  if (!video) return fail("the offer has no video m-line (m=video): add a recvonly video transceiver");
  if (!has_codec) return fail("the offer's video has no codec the camera sends: it needs " + codec);
  if (facts.ice_ufrag.empty()) return fail("the offer has no a=ice-ufrag");
  return facts;
}

Result<Fragment> parse_fragment(const std::string &text) {
  const auto lines = lines_of(text);
  if (auto formed = well_formed(lines); !formed) return fail("malformed SDP fragment: " + formed.error());
  Fragment f;
  std::string mid;
  for (const auto &l : lines) {
    if (starts(l, "m="))
      mid.clear();
    else if (starts(l, "a=mid:"))
      mid = l.substr(6);
    else if (starts(l, "a=ice-ufrag:"))
      f.ice_ufrag = l.substr(12);
    else if (starts(l, "a=ice-pwd:"))
      f.ice_pwd = l.substr(10);
    else if (starts(l, "a=candidate:"))
      f.candidates.push_back({mid, l.substr(2)});
    else if (l == "a=end-of-candidates")
      f.end_of_candidates = true;
  }
  return f;
}

std::string answer_with_candidates(const std::string &answer, const std::vector<AgentCandidate> &candidates,
                                   bool complete) {
  const auto lines = lines_of(answer);
  std::string out;
  int mline = -1;
  // What goes at the end of m-section `index`.
  auto close_section = [&](int index) {
    if (index < 0) return;
    for (const auto &c : candidates)
      if (c.mline == index) out += "a=" + c.candidate + "\r\n";
    if (complete) out += "a=end-of-candidates\r\n";
  };
  for (const auto &l : lines) {
    if (starts(l, "m=")) close_section(mline++);
    // The agent's own end marker, if any, goes where its candidates end.
    if (l == "a=end-of-candidates") continue;
    out += l + "\r\n";
  }
  close_section(mline);
  return out;
}

std::vector<std::string> link_headers(const proto::IceServer &server) {
  std::vector<std::string> out;
  for (const auto &url : server.urls) {
    std::string link = "<" + url + ">; rel=\"ice-server\"";
    if (!server.username.empty())
      link += "; username=\"" + server.username + "\"; credential=\"" + server.credential +
              "\"; credential-type=\"password\"";
    out.push_back(std::move(link));
  }
  return out;
}

int mline_of(const OfferFacts &offer, const std::string &mid) {
  auto it = std::find(offer.mids.begin(), offer.mids.end(), mid);
  return it == offer.mids.end() || mid.empty() ? 0 : int(it - offer.mids.begin());
}

}  // namespace sl::relay::whep
