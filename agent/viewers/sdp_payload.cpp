#include "sdp_payload.hpp"

#include "capture/h264_profile.hpp"
#include "capture/playout_delay.hpp"
#include "congestion/twcc_feedback.hpp"
#include "gst_webrtc_owned.hpp"

#include <gst/sdp/sdp.h>

#include <cstdlib>
#include <optional>
#include <string_view>
#include <tuple>

namespace sl::agent {

namespace {

// "a=fmtp:<pt> k=v;k=v" parameter lookup.
std::optional<std::string> fmtp_param(const GstSDPMedia *media, int pt, std::string_view key) {
  const std::string prefix = std::to_string(pt) + " ";
  for (guint i = 0; i < gst_sdp_media_attributes_len(media); ++i) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute(media, i);
    if (g_strcmp0(a->key, "fmtp") != 0 || !a->value) continue;
    std::string_view v(a->value);
    if (v.substr(0, prefix.size()) != prefix) continue;
    v.remove_prefix(prefix.size());
    while (!v.empty()) {
      size_t semi = v.find(';');
      std::string_view item = v.substr(0, semi);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      size_t eq = item.find('=');
      if (eq != std::string_view::npos && item.substr(0, eq) == key) return std::string(item.substr(eq + 1));
      if (semi == std::string_view::npos) break;
      v.remove_prefix(semi + 1);
    }
  }
  return std::nullopt;
}

// How well an offered H.264 payload takes the stream `sent`: lower is better,
// nullopt when it cannot (no packetization-mode 1, or a profile whose decoder
// does not take the stream). A payload whose level covers the stream's comes
// first, then one of the very same profile, then the offer's order.
struct Fit {
  int level_short = 0;  // 1: the stream's level is above the offer's
  int other_profile = 0;
  bool operator<(const Fit &o) const {
    return std::tie(level_short, other_profile) < std::tie(o.level_short, o.other_profile);
  }
};
std::optional<Fit> h264_fit(const GstSDPMedia *media, int pt, const ProfileLevel &sent) {
  auto pm = fmtp_param(media, pt, "packetization-mode");
  if (!pm || *pm != "1") return std::nullopt;
  auto plid = fmtp_param(media, pt, "profile-level-id");
  // Without one, RFC 6184 means baseline level 1.
  const auto offered = plid ? parse_profile_level_id(*plid) : ProfileLevel{0x42, 0x00, 0x0a};
  if (!offered) return std::nullopt;
  const H264Profile theirs = h264_profile(*offered), ours = h264_profile(sent);
  if (!profile_takes(theirs, ours)) return std::nullopt;
  return Fit{level_rank(sent) > level_rank(*offered) ? 1 : 0, theirs == ours ? 0 : 1};
}

// "a=extmap:<id>[/direction] <uri>": the id the offer gives `uri`, 0 if none.
unsigned extmap_id(const GstSDPMedia *media, std::string_view uri) {
  for (guint i = 0; i < gst_sdp_media_attributes_len(media); ++i) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute(media, i);
    if (g_strcmp0(a->key, "extmap") != 0 || !a->value) continue;
    std::string_view v(a->value);
    const size_t space = v.find(' ');
    if (space == std::string_view::npos) continue;
    std::string_view rest = v.substr(space + 1);
    if (rest.substr(0, rest.find(' ')) != uri) continue;  // extension attributes may follow
    const long id = std::strtol(std::string(v.substr(0, space)).c_str(), nullptr, 10);
    if (id >= 1 && id <= 255) return unsigned(id);
  }
  return 0;
}

// "a=rtcp-fb:<pt> <kind>" (or "*" for every payload) is in the offer.
bool has_rtcp_fb(const GstSDPMedia *media, int pt, std::string_view kind) {
  const std::string mine = std::to_string(pt) + " ", any = "* ";
  for (guint i = 0; i < gst_sdp_media_attributes_len(media); ++i) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute(media, i);
    if (g_strcmp0(a->key, "rtcp-fb") != 0 || !a->value) continue;
    std::string_view v(a->value);
    for (const std::string &prefix : {mine, any})
      if (v.substr(0, prefix.size()) == prefix && v.substr(prefix.size()) == kind) return true;
  }
  return false;
}

}  // namespace

Result<PayloadChoice> choose_payload(const std::string &offer_sdp, Codec codec, const ProfileLevel &sent) {
  GstSDPMessage *raw = nullptr;
  const GstSDPResult parsed = gst_sdp_message_new_from_text(offer_sdp.c_str(), &raw);
  // Owned whatever the result: the message is allocated before parsing fails
  // (a leak found by tests/fuzz/fuzz_sdp_offer.cpp).
  Owned<GstSDPMessage> msg(raw);
  if (parsed != GST_SDP_OK || !raw) return fail("the offer is not valid SDP");

  for (guint m = 0; m < gst_sdp_message_medias_len(msg.get()); ++m) {
    const GstSDPMedia *media = gst_sdp_message_get_media(msg.get(), m);
    if (g_strcmp0(gst_sdp_media_get_media(media), "video") != 0) continue;
    int best_pt = -1;
    std::optional<Fit> best_fit;
    for (guint f = 0; f < gst_sdp_media_formats_len(media); ++f) {
      const int pt = std::atoi(gst_sdp_media_get_format(media, f));
      // rtpmap: "<pt> H264/90000"
      std::string encoding;
      const std::string prefix = std::to_string(pt) + " ";
      for (guint i = 0; i < gst_sdp_media_attributes_len(media); ++i) {
        const GstSDPAttribute *a = gst_sdp_media_get_attribute(media, i);
        if (g_strcmp0(a->key, "rtpmap") == 0 && a->value &&
            std::string_view(a->value).substr(0, prefix.size()) == prefix) {
          std::string_view rest = std::string_view(a->value).substr(prefix.size());
          encoding = std::string(rest.substr(0, rest.find('/')));
        }
      }
      std::optional<Fit> fit;
      if (codec == Codec::H264 && g_ascii_strcasecmp(encoding.c_str(), "H264") == 0) fit = h264_fit(media, pt, sent);
      if (codec == Codec::VP8 && g_ascii_strcasecmp(encoding.c_str(), "VP8") == 0) fit = Fit{};
      if (fit && (!best_fit || *fit < *best_fit)) {
        best_fit = fit;
        best_pt = pt;
      }
    }
    if (best_pt < 0)
      return fail(std::string("the offer's video has no ") +
                  (codec == Codec::H264 ? std::string("H.264 payload (packetization-mode 1) whose profile takes ") +
                                              profile_name(h264_profile(sent)) + " (what this camera sends)"
                                        : std::string("VP8 payload")));
    PayloadChoice c;
    c.mline = m;
    c.pt = best_pt;
    if (codec == Codec::H264) {
      // The answer's level-asymmetry-allowed is 1 only when both ends say so (RFC 6184 8.1).
      const bool asymmetry = fmtp_param(media, best_pt, "level-asymmetry-allowed") == "1";
      c.rtp_caps =
          "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=" + std::to_string(best_pt) +
          ",packetization-mode=(string)1,profile-level-id=(string)" + sent.hex() +
          (asymmetry ? ",level-asymmetry-allowed=(string)1" : "");
      if (best_fit->level_short)
        c.note = "the stream's H.264 level " + level_name(sent) + " is above the level this viewer offered (" +
                 fmtp_param(media, best_pt, "profile-level-id").value_or("none") + ")";
    } else
      c.rtp_caps =
          "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=" + std::to_string(best_pt);
    c.playout_delay_id = extmap_id(media, kPlayoutDelayUri);
    if (has_rtcp_fb(media, best_pt, "transport-cc")) c.twcc_id = extmap_id(media, kTwccUri);
    return c;
  }
  return fail("the offer has no video m-line");
}

std::optional<PayloadChoice> choose_audio_payload(const std::string &offer_sdp) {
  GstSDPMessage *raw = nullptr;
  const GstSDPResult parsed = gst_sdp_message_new_from_text(offer_sdp.c_str(), &raw);
  Owned<GstSDPMessage> msg(raw);
  if (parsed != GST_SDP_OK || !raw) return std::nullopt;
  for (guint m = 0; m < gst_sdp_message_medias_len(msg.get()); ++m) {
    const GstSDPMedia *media = gst_sdp_message_get_media(msg.get(), m);
    // Port 0 refuses the m-line, unless it is bundle-only (RFC 8843 6: it rides
    // the bundle's transport; webrtcbin offers so with max-bundle, a WHEP source too).
    const bool refused = gst_sdp_media_get_port(media) == 0 && !gst_sdp_media_get_attribute_val(media, "bundle-only");
    if (g_strcmp0(gst_sdp_media_get_media(media), "audio") != 0 || refused) continue;
    for (guint i = 0; i < gst_sdp_media_attributes_len(media); ++i) {
      const GstSDPAttribute *a = gst_sdp_media_get_attribute(media, i);
      if (g_strcmp0(a->key, "rtpmap") != 0 || !a->value) continue;
      // "<pt> opus/48000/2"
      std::string_view v(a->value);
      const size_t space = v.find(' ');
      if (space == std::string_view::npos || g_ascii_strncasecmp(v.data() + space + 1, "opus/48000", 10) != 0) continue;
      const int pt = std::atoi(std::string(v.substr(0, space)).c_str());
      if (pt < 0 || pt > 127) continue;
      PayloadChoice c;
      c.mline = m;
      c.pt = pt;
      c.rtp_caps = "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=" + std::to_string(pt) +
                   ",encoding-params=(string)2";
      return c;
    }
    return std::nullopt;  // the first audio m-line decides
  }
  return std::nullopt;
}

}  // namespace sl::agent
