#include "sessions.hpp"

#include "main_context.hpp"

#include <glib.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <vector>

namespace sl::agent {

Sessions::Sessions(CapturePipeline &pipeline, const AgentSettings &settings)
    : pipeline_(pipeline), settings_(settings), events_(std::make_shared<SessionEvents>()) {
  events_->find = [this](const std::string &id) -> ViewerSession * {
    auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : it->second.session.get();
  };
  events_->answer = [this](const std::string &id, const std::string &sdp) {
    if (auto it = sessions_.find(id); it != sessions_.end()) it->second.via->send_answer(id, sdp);
  };
  events_->candidate = [this](const std::string &id, int mline, const std::string &candidate) {
    if (auto it = sessions_.find(id); it != sessions_.end()) it->second.via->send_candidate(id, mline, candidate);
  };
  events_->connected = [this](const std::string &id) {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    const ViewerSession &s = *it->second.session;
    g_message("session %s: viewer connected %.0f ms after the offer (RTP stream shared by %ld viewer(s)%s)", id.c_str(),
              s.ms_since_start(), s.rtp_stream_viewers(), s.send_path_trimmed() ? ", send path trimmed" : "");
    if (gint64 &asked = it->second.renew_asked_us) {
      g_message("session %s: renewed on a new connection, connected %.0f ms after its viewer was asked", id.c_str(),
                double(g_get_monotonic_time() - asked) / 1000.0);
      asked = 0;
      it->second.renew_offered = false;
    }
  };
  events_->failed = [this](const std::string &id, const std::string &reason) { end(id, reason, true); };
  events_->link_target = [this](const std::string &, int) {
    if (adapt()) report_adaptation();
  };
  events_->encoding = [this](const std::string &) { report_adaptation(); };
}

// What a session's threads posted before it ended may reach the main loop after
// the sessions are gone (seen in the unit tests: an answer made as the session
// ended): it finds no session, and nobody to tell.
Sessions::~Sessions() {
  *events_ = SessionEvents{[](const std::string &) -> ViewerSession * { return nullptr; }};
}

namespace {
constexpr int kMinEncoderKbps = 100;
// A change of the encoder's bitrate smaller than this is not made.
constexpr double kAdaptStep = 0.05;
// At most one word of adaptation to the listeners (relay, broker) per this.
constexpr int64_t kAdaptationReportUs = G_USEC_PER_SEC;
// The lower encoding: a viewer whose path carries under kLowerBelow of the
// camera's encoding for kLowerAfterUs moves to it; back when its path carries
// kFullAbove of it for kFullAfterUs. The lower encoder follows the best of its
// viewers' paths, up to kLowerCeiling of the configured bitrate (so that a
// viewer's estimate, which rises only while what it gets through keeps up, can
// reach kFullAbove: 1.5 x 0.6 = 0.9).
constexpr double kLowerBelow = 0.5, kFullAbove = 0.7, kLowerCeiling = 0.6;
constexpr gint64 kLowerAfterUs = G_USEC_PER_SEC, kFullAfterUs = 3 * G_USEC_PER_SEC;
// After the lower encoding failed, none is made for this long.
constexpr gint64 kLowerPauseUs = 30 * G_USEC_PER_SEC;
}  // namespace

// Encode once for the best path: the encoder follows the connected viewer whose
// path carries the most, never above the configured bitrate. A viewer that sends
// no congestion feedback counts as a path that carries everything (it cannot be
// judged, and it must not be the one that lowers the others' picture).
// A camera whose own H.264 is passed through has no encoder of ours to set: only
// the lower encoding, judged against what the camera sends (measured).
bool Sessions::adapt() {
  if (pipeline_.passthrough()) {
    const int measured = int(std::lround(figures_.bitrate_kbps));
    return measured > 0 && adapt_lower(measured, measured);
  }
  const int configured = pipeline_.bitrate_kbps();
  if (configured <= 0) return false;
  const bool encoder = adapt_encoder(configured);
  const bool lower = adapt_lower(pipeline_.sending_kbps(), configured);
  return encoder || lower;
}

bool Sessions::adapt_encoder(int configured) {
  std::optional<int> best_bps;
  bool unjudged = false;
  for (const auto &[id, live] : sessions_) {
    if (!live.session->connected()) continue;
    if (auto bps = live.session->link_target_bps())
      best_bps = std::max(best_bps.value_or(0), *bps);
    else
      unjudged = true;
  }
  int wanted = unjudged || !best_bps
                   ? 0
                   : std::clamp(int(std::lround(*best_bps * kEncoderShare / 1000)), kMinEncoderKbps, configured);
  if (wanted >= (1 - kAdaptStep) * configured) wanted = 0;  // close enough: the configured bitrate
  const int now = pipeline_.sending_kbps(), next = wanted ? wanted : configured;
  if (next == now || (std::abs(next - now) < kAdaptStep * now && next != configured)) return false;
  if (auto adapted = pipeline_.adapt_bitrate(wanted); !adapted) {
    g_debug("camera %s: bitrate not adapted: %s", camera().c_str(), adapted.error().c_str());
    return false;
  }
  g_message("camera %s: encoder at %d kbit/s for its viewers' paths (configured %d)", camera().c_str(),
            pipeline_.sending_kbps(), configured);
  return true;
}

// A viewer on a path that carries clearly less than the best one's gets the
// lower encoding (half the size, its own bitrate): it never lowers the others'
// picture, and is not sent more than its path carries.
bool Sessions::adapt_lower(int full, int configured) {
  const gint64 now = g_get_monotonic_time();
  const int ceiling = std::max(kMinEncoderKbps, int(configured * kLowerCeiling));
  bool changed = false;
  int lower_best = 0;
  for (auto &[id, live] : sessions_) {
    ViewerSession &s = *live.session;
    auto bps = s.link_target_bps();
    if (!s.connected() || !bps) continue;
    const int media_kbps = int(std::lround(*bps * kEncoderShare / 1000));
    const bool lower = s.wants_lower();
    const bool poor = !lower && media_kbps < kLowerBelow * full && now >= lower_paused_until_us_;
    const bool fine = lower && media_kbps >= kFullAbove * full;
    live.poor_since_us = poor ? (live.poor_since_us ? live.poor_since_us : now) : 0;
    live.fine_since_us = fine ? (live.fine_since_us ? live.fine_since_us : now) : 0;
    bool move = false;
    if (poor && now - live.poor_since_us >= kLowerAfterUs) move = true;
    if (fine && now - live.fine_since_us >= kFullAfterUs) move = true;
    if (move) {
      const int start_kbps = std::clamp(media_kbps, kMinEncoderKbps, ceiling);
      if (auto used = s.use_lower(!lower, start_kbps); !used) {
        g_warning("session %s: encoding not changed: %s", id.c_str(), used.error().c_str());
        live.poor_since_us = live.fine_since_us = 0;  // tried again later, not at every estimate
      } else {
        g_message("session %s: its path carries %d kbit/s of the camera's %d: to the %s encoding", id.c_str(),
                  media_kbps, full, lower ? "full" : "lower");
        live.poor_since_us = live.fine_since_us = 0;
        changed = true;
      }
    }
    if (s.wants_lower()) lower_best = std::max(lower_best, media_kbps);
  }
  if (auto made = pipeline_.lower(); made && lower_best > 0) {
    const int next = std::clamp(lower_best, kMinEncoderKbps, ceiling);
    if (std::abs(next - made->kbps) >= kAdaptStep * made->kbps && pipeline_.set_lower_bitrate(next)) {
      g_debug("camera %s: lower encoder at %d kbit/s", camera().c_str(), next);
      changed = true;
    }
  }
  return changed;
}

void Sessions::report_adaptation() {
  if (adaptation_report_) return;  // one is due: it carries this change too
  const auto tell = [this] {
    adaptation_told_us_ = g_get_monotonic_time();
    changed();
  };
  const int64_t wait_us = adaptation_told_us_ + kAdaptationReportUs - g_get_monotonic_time();
  if (wait_us <= 0) return tell();
  adaptation_report_.reset(after_ms(guint(wait_us / 1000 + 1), [this, tell] {
    adaptation_report_.release();
    tell();
  }));
}

void Sessions::offer(const proto::Offer &offer, Signaller &via) {
  if (offer.camera != pipeline_.info().id) {
    via.send_refusal(offer.session, "unknown_camera", "this agent has no camera '" + offer.camera + "'", "error");
    return;
  }
  if (!pipeline_.running()) {
    via.send_refusal(offer.session, "camera_offline",
                     "camera '" + offer.camera +
                         "' delivers no video: it failed or was unplugged; the agent is trying to open it again",
                     "camera_offline");
    return;
  }
  if (offer.restart) {  // the viewer's ICE restart on a session under way
    auto it = sessions_.find(offer.session);
    if (it == sessions_.end()) {
      via.send_refusal(offer.session, "unknown_session", "no session " + offer.session + " to restart",
                       "restart_failed");
      return;
    }
    it->second.via = &via;  // a session taken over by another relay socket answers through it
    if (offer.renew) return renew(it->second, offer, via);
    if (it->second.renew_asked_us) {
      // Its path died with our address: an ICE restart cannot bring it back, a
      // new connection can (the viewer may not have heard the first word: it was away).
      via.send_renew(offer.session);
      return;
    }
    if (auto restarted = it->second.session->restart(offer.sdp); !restarted) {
      g_warning("session %s: cannot restart: %s", offer.session.c_str(), restarted.error().c_str());
      via.send_refusal(offer.session, "bad_message", restarted.error(), "");
    }
    return;
  }
  if (sessions_.count(offer.session)) {
    via.send_refusal(offer.session, "bad_message", "session already exists", "");
    return;
  }
  auto started = ViewerSession::start(pipeline_, offer, settings_, events_);
  if (!started) {
    g_warning("session %s: cannot start: %s", offer.session.c_str(), started.error().c_str());
    via.send_refusal(offer.session, "bad_message", started.error(), "error");
    return;
  }
  // Its estimate starts at the ceiling the others have (a camera passed through:
  // what it measures), not under it: a good path is not taken for a thin one.
  if (ceiling_kbps_ > 0) (*started)->set_link_ceiling(path_ceiling_bps(ceiling_kbps_));
  sessions_[offer.session] = Live{*std::move(started), &via};
  g_message("session %s: started for camera %s (%zu live)", offer.session.c_str(), offer.camera.c_str(),
            sessions_.size());
  changed();
}

void Sessions::renew(Live &live, const proto::Offer &offer, Signaller &via) {
  proto::Offer fresh = offer;
  fresh.restart = fresh.renew = false;
  auto started = ViewerSession::start(pipeline_, fresh, settings_, events_);
  if (!started) {
    g_warning("session %s: cannot renew: %s", offer.session.c_str(), started.error().c_str());
    via.send_refusal(offer.session, "bad_message", started.error(), "restart_failed");
    end(offer.session, "restart_failed", false);
    return;
  }
  if (ceiling_kbps_ > 0) (*started)->set_link_ceiling(path_ceiling_bps(ceiling_kbps_));
  live.session = *std::move(started);  // the old one's destructor takes its branch out
  live.poor_since_us = live.fine_since_us = 0;
  if (!live.renew_asked_us) live.renew_asked_us = g_get_monotonic_time();
  live.renew_offered = true;
  g_message("session %s: the viewer renews it on a new connection", offer.session.c_str());
  changed();
}

void Sessions::addresses_gone(const std::set<std::string> &gone) {
  for (auto &[id, live] : sessions_) {
    if (live.renew_asked_us || !live.session->connected()) continue;
    for (const auto &address : live.session->local_addresses()) {
      if (!gone.count(address)) continue;
      g_message("session %s: its local address %s is gone: asking its viewer to renew it on a new connection",
                id.c_str(), address.c_str());
      live.renew_asked_us = g_get_monotonic_time();
      live.via->send_renew(id);
      break;
    }
  }
}

void Sessions::renew_again() {
  for (auto &[id, live] : sessions_)
    if (live.renew_asked_us && !live.renew_offered) live.via->send_renew(id);
}

std::vector<std::string> Sessions::ids() const {
  std::vector<std::string> out;
  for (const auto &[id, live] : sessions_) out.push_back(id);
  return out;
}

void Sessions::remote_candidate(const std::string &session, int mline, const std::string &candidate) {
  auto it = sessions_.find(session);
  if (it != sessions_.end())
    it->second.session->add_remote_candidate(mline, candidate);
  else
    g_debug("candidate for unknown session %s ignored", session.c_str());
}

void Sessions::remote_end(const std::string &session, const std::string &reason) { end(session, reason, false); }

void Sessions::end(std::string id, const std::string &reason, bool tell) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  Signaller *via = it->second.via;
  sessions_.erase(it);  // the session's destructor removes its branch
  g_message("session %s: ended (%s), %zu live", id.c_str(), reason.c_str(), sessions_.size());
  if (tell) via->send_end(id, reason);
  adapt();
  changed();
}

void Sessions::forget(Signaller &via, const std::string &reason) {
  std::vector<std::string> ids;
  for (const auto &[id, live] : sessions_)
    if (live.via == &via) ids.push_back(id);
  for (const auto &id : ids) end(id, reason, false);
}

void Sessions::end_all(const std::string &reason) {
  while (!sessions_.empty()) end(sessions_.begin()->first, reason, true);
}

void Sessions::end_for_branch(GstElement *branch, const std::string &reason) {
  if (pipeline_.is_lower(branch)) {  // the lower encoding failed: its viewers go back to the full one
    g_warning("camera %s: the lower encoding failed (%s): its viewers go back to the full one, none made for %d s",
              camera().c_str(), reason.c_str(), int(kLowerPauseUs / G_USEC_PER_SEC));
    lower_paused_until_us_ = g_get_monotonic_time() + kLowerPauseUs;
    for (auto &[id, live] : sessions_)
      if (live.session->wants_lower()) (void)live.session->use_lower(false, 0);
    return;
  }
  std::vector<std::string> ids;
  for (const auto &[id, live] : sessions_)
    if (live.session->branch() == branch || live.session->stream_bin() == branch) ids.push_back(id);
  for (const auto &id : ids) end(id, reason, true);
}

proto::Status Sessions::status() const {
  const auto &info = pipeline_.info();
  proto::Status s{info.id,    int(sessions_.size()), figures_.fps,       figures_.bitrate_kbps,
                  info.width, info.height,           pipeline_.running()};
  if (!pipeline_.passthrough()) {  // a camera's own H.264 has no bitrate of ours: unknown
    s.configured_kbps = pipeline_.bitrate_kbps();
    s.target_kbps = pipeline_.sending_kbps();
  }
  s.lower = lower_encoding();
  return s;
}

control::LowerEncoding Sessions::lower_encoding() const {
  auto lower = pipeline_.lower();
  if (!lower) return {};
  int viewers = 0;
  for (const auto &[id, live] : sessions_) viewers += live.session->on_lower() ? 1 : 0;
  return control::LowerEncoding{lower->width, lower->height, lower->kbps, viewers};
}

void Sessions::measure() {
  // The viewers' estimates reach up to the configured bitrate (set_video changes
  // it); a camera passed through sends what it sends: up to that, when more (an
  // estimate held under half of it would move every viewer to the lower encoding).
  int ceiling = pipeline_.bitrate_kbps();
  if (pipeline_.passthrough()) ceiling = std::max(ceiling, int(std::lround(figures_.bitrate_kbps)));
  if (ceiling != ceiling_kbps_ &&
      (!pipeline_.passthrough() || std::abs(ceiling - ceiling_kbps_) >= kAdaptStep * ceiling)) {
    ceiling_kbps_ = ceiling;
    for (auto &[id, live] : sessions_) live.session->set_link_ceiling(path_ceiling_bps(ceiling));
  }
  adapt();  // also when no estimate moved: a viewer's time on a thin path counts
  // The lower encoding is made only while some viewer is on it.
  pipeline_.drop_lower_if_unused();
  figures_ = pipeline_.take_figures();
  changed();
}

void Sessions::changed() {
  for (const auto &listener : listeners_) listener();
}

}  // namespace sl::agent
