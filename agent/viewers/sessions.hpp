// The agent's viewer sessions: starts one per offer, whichever signaller brought
// it (signaller.hpp), routes the viewer's candidates and end to it, sends its
// answer, candidates and end back through the same signaller, and tells its
// listeners whenever the set of sessions or the figures change.
#pragma once

#include "capture/capture_pipeline.hpp"
#include "gobj.hpp"
#include "protocol.hpp"
#include "settings.hpp"
#include "signaller.hpp"
#include "viewer_session.hpp"

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace sl::agent {

class Sessions {
 public:
  Sessions(CapturePipeline &pipeline, const AgentSettings &settings);
  ~Sessions();

  // A viewer's offer, brought by `via`, which carries everything about the
  // session from then on and must outlive it (or forget() it first).
  void offer(const proto::Offer &offer, Signaller &via);
  // A candidate of the viewer's (an empty one ends its candidates).
  void remote_candidate(const std::string &session, int mline, const std::string &candidate);
  // The viewer's side ended the session: it is not told again.
  void remote_end(const std::string &session, const std::string &reason);
  // `via` is gone (its link dropped): its sessions end, and nobody is told,
  // since the other end forgot them with the link; viewers ask again.
  void forget(Signaller &via, const std::string &reason);

  // Local addresses went away (address_watch.hpp): each session whose candidates
  // stood on one asks its viewer, through its signaller, to renew it on a new
  // connection (an ICE restart cannot bring a new address to webrtcbin's agent).
  void addresses_gone(const std::set<std::string> &gone);
  // Asks again for the renewals not offered yet (their word was lost with a link
  // to the relay that died with the address).
  void renew_again();
  // The sessions' ids.
  std::vector<std::string> ids() const;

  // Ends every session, telling each one's signaller why.
  void end_all(const std::string &reason);
  // Ends the sessions fed by `branch`: a viewer's branch bin, or an RTP stream's
  // bin (all the viewers of that stream).
  void end_for_branch(GstElement *branch, const std::string &reason);

  // The camera these sessions are of, and whether one of them is `session`.
  const std::string &camera() const { return pipeline_.info().id; }
  bool has(const std::string &session) const { return sessions_.count(session) != 0; }

  proto::Status status() const;
  // The camera's lower encoding while one is live: its size, bitrate and viewers.
  control::LowerEncoding lower_encoding() const;
  // Called every few seconds: measures what the encoder produced and tells the listeners.
  void measure();
  size_t count() const { return sessions_.size(); }
  const Figures &figures() const { return figures_; }
  // Called after every change of the session count and every measurement.
  void on_change(std::function<void()> listener) { listeners_.push_back(std::move(listener)); }
  // Tells the listeners now (e.g. after the camera stopped or the size changed).
  void changed();

 private:
  struct Live {
    std::unique_ptr<ViewerSession> session;
    Signaller *via;
    // Since when (monotonic µs) its path has carried clearly less than the
    // camera's encoding, or, on the lower one, enough for the full one again.
    gint64 poor_since_us = 0, fine_since_us = 0;
    // Since when (monotonic µs) its viewer has been asked to renew it, until it
    // connects again on the new connection; 0: not asked.
    gint64 renew_asked_us = 0;
    bool renew_offered = false;  // the viewer's new connection offered, since it was asked
  };
  // The viewer's offer on a new connection for a session whose path died on our
  // side: a new branch under the same id replaces the old one.
  void renew(Live &live, const proto::Offer &offer, Signaller &via);
  // By value: callers pass keys of the map this erases from.
  void end(std::string id, const std::string &reason, bool tell);
  // Sets the encoder for the best path among the connected viewers, then the
  // lower encoding (docs/adaptation.md); true when either changed.
  bool adapt();
  bool adapt_encoder(int configured);  // true when it changed the encoder
  // Moves the viewers whose paths carry clearly less than the camera's encoding
  // (`full` kbit/s: what its encoder makes now, or a camera passed through sends)
  // to its lower encoding, and back (docs/adaptation.md), and sets the lower
  // encoder for the best of its viewers' paths, up to 60% of `configured`; true
  // when anything changed.
  bool adapt_lower(int full, int configured);
  // Tells the listeners of an encoder change adaptation made: at once, or when a
  // second has passed since the last such word (a path's estimate moves many
  // times a second; the relay and the broker hear of it at most once a second).
  void report_adaptation();

  CapturePipeline &pipeline_;
  const AgentSettings &settings_;
  std::shared_ptr<SessionEvents> events_;
  std::map<std::string, Live> sessions_;
  Figures figures_;
  int ceiling_kbps_ = 0;  // the bitrate the viewers' estimates were told (kbit/s, before the 0.9 share)
  std::vector<std::function<void()>> listeners_;
  int64_t adaptation_told_us_ = 0;    // monotonic time of the last report_adaptation() word
  gint64 lower_paused_until_us_ = 0;  // the lower encoding failed: none made before this (monotonic µs)
  SourceId adaptation_report_;        // a word due when its second is up
};

}  // namespace sl::agent
