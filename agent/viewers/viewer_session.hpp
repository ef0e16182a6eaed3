// One viewer watching the camera: a branch bin (webrtcbin) on the tee of the RTP
// stream of the viewer's format (shared with the viewers of the same format),
// fed by the camera's one send thread, and the answer to the viewer's offer.
// The session owns its branch and removes it in one place, its destructor,
// whatever the reason the session ends.
#pragma once

#include "capture/branch_gate.hpp"
#include "capture/capture_pipeline.hpp"
#include "capture/encoding_switch.hpp"
#include "gst_webrtc_owned.hpp"
#include "link_estimate.hpp"
#include "protocol.hpp"
#include "result.hpp"
#include "settings.hpp"

#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace sl::agent {

// What a session reports. Always called on the main loop, with the session id,
// possibly after the session is gone: the receiver looks the id up.
class ViewerSession;
struct SessionEvents {
  // The live session with this id, or nullptr once it has ended.
  std::function<ViewerSession *(const std::string &id)> find;
  std::function<void(const std::string &id, const std::string &sdp)> answer;
  std::function<void(const std::string &id, int mline, const std::string &candidate)> candidate;
  std::function<void(const std::string &id)> connected;
  std::function<void(const std::string &id, const std::string &reason)> failed;
  // The estimate of what the viewer's path carries changed (bit/s on the wire).
  std::function<void(const std::string &id, int bps)> link_target;
  // The viewer now gets the other of the camera's encodings (use_lower()).
  std::function<void(const std::string &id)> encoding;
};

class ViewerSession {
 public:
  // Makes the branch, joins it to the pipeline and sets the offer; the answer
  // follows through `events` once webrtcbin has made it.
  static Result<std::unique_ptr<ViewerSession>> start(CapturePipeline &pipeline, const proto::Offer &offer,
                                                      const AgentSettings &settings,
                                                      std::shared_ptr<SessionEvents> events);
  ~ViewerSession();
  ViewerSession(const ViewerSession &) = delete;
  ViewerSession &operator=(const ViewerSession &) = delete;

  const std::string &id() const { return id_; }
  // Tells this session from another with its id (one renewed on a new connection).
  uint64_t serial() const { return serial_; }
  // The local addresses its candidates were gathered on (a host candidate's
  // address, a server-reflexive or relayed one's base): when one of them goes
  // away, so does the path.
  std::set<std::string> local_addresses() const;
  GstElement *branch() const { return branch_.get(); }
  GstElement *stream_bin() const { return stream_ ? stream_->bin() : nullptr; }
  double ms_since_start() const { return double(g_get_monotonic_time() - started_us_) / 1000.0; }
  bool send_path_trimmed() const { return trimmed_; }
  // Viewers whose branches this session's RTP stream feeds, this one included.
  long rtp_stream_viewers() const { return stream_.use_count(); }

  bool connected() const { return connected_; }
  // What the viewer's path carries (bit/s on the wire) as its feedback says;
  // nullopt while unknown, or when the viewer sends no congestion feedback.
  std::optional<int> link_target_bps() const {
    return link_target_bps_ ? std::optional<int>(link_target_bps_) : std::nullopt;
  }
  // The camera's configured bitrate changed: the estimate's new ceiling.
  // Also before the estimate starts: it starts there (a camera passed through
  // sends what it measures, which may be more than its configured bitrate).
  void set_link_ceiling(int bps) {
    link_ceiling_bps_ = bps;
    if (link_) link_->set_max_bps(bps);
  }

  // The camera's lower encoding for this viewer, or the full one again
  // (encoding_switch.hpp): switched at the next keyframe of the one asked for.
  // `lower_kbps`: the lower encoder's bitrate, should this make it.
  Result<void> use_lower(bool lower, int lower_kbps);
  // On the lower encoding, or on its way there.
  bool wants_lower() const { return switch_ && switch_->wanted() == EncodingSwitch::Lower; }
  bool on_lower() const { return switch_ && switch_->active() == EncodingSwitch::Lower; }

  // The viewer's new offer on this session after its path changed (an ICE
  // restart, docs/protocol.md): webrtcbin takes its new credentials and candidates
  // and answers on the same connection (DTLS, SRTP, the branch all stay); the
  // answer goes out through `events` as the first one did.
  Result<void> restart(const std::string &sdp);
  void add_remote_candidate(int mline, const std::string &candidate);
  void on_connection_state(int state);

 private:
  Result<void> make_branch(const AgentSettings &settings);
  void configure_ice(const std::vector<proto::IceServer> &offered, const AgentSettings &settings);
  void connect_signals();
  Owned<GstPromise> promise(void (ViewerSession::*then)(const GstStructure *reply));
  // Steps of the negotiation, run on the main loop as webrtcbin's promises
  // resolve (the reply, or null when the step failed).
  void on_remote_description_set(const GstStructure *reply);
  void on_answer_created(const GstStructure *reply);
  void on_local_description_set(const GstStructure *reply);
  void on_restart_offer_set(const GstStructure *reply);
  ViewerSession(CapturePipeline &pipeline, std::shared_ptr<SessionEvents> events)
      : pipeline_(pipeline), events_(std::move(events)), serial_(++serials_) {}
  void give_up(const std::string &reason);
  bool start_feeding();  // links the branch to the tees (behind their gates), once
  // Points the branch's ghost `pad` at webrtcbin's input for `mline`, sending `caps`.
  bool connect_input(const char *pad, unsigned mline, GstCaps *caps, bool nack,
                     GstWebRTCRTPTransceiverDirection direction);
  void hear_talk(const std::string &chain);
  void watch_silence();            // from connected on: ends the session when the viewer's RTCP stops
  void estimate_link();            // its path, from its congestion feedback (link_estimate.hpp)
  void limit_keyframe_requests();  // past its first, one keyframe request per keyframe interval goes on

  CapturePipeline &pipeline_;
  std::shared_ptr<SessionEvents> events_;
  std::string id_;
  inline static uint64_t serials_ = 0;  // main loop only
  uint64_t serial_;
  unsigned mline_ = 0;
  Owned<GstElement> branch_;
  Owned<GstElement> webrtc_;
  std::shared_ptr<RtpStream> stream_;
  RtpFormat format_;                        // what stream_ sends: the lower encoding's stream takes the same
  std::shared_ptr<BranchGate> gate_;        // set once linked to the tee
  std::unique_ptr<EncodingSwitch> switch_;  // from the first move to the lower encoding on
  // The camera's sound, when it has some and the offer takes Opus: its m-line,
  // its RTP stream and the gate on the branch's "audio_sink" pad.
  unsigned audio_mline_ = 0;
  std::shared_ptr<RtpStream> audio_stream_;
  std::shared_ptr<BranchGate> audio_gate_;
  Owned<GstCaps> audio_caps_;  // the offer's Opus payload
  bool talk_ = false;          // the viewer's sound comes back to the camera's speaker
  bool feed_ = false;          // may forward (a fan-out worker, a WHEP client): requests may be its viewers
  std::vector<gulong> handlers_;
  Owned<GstElement> rtpbin_;  // webrtcbin's: the viewer's RTCP stopping says it is gone
  std::vector<gulong> rtpbin_handlers_;
  // When the viewer's last RTCP report came (monotonic µs), set on rtpbin's thread.
  std::shared_ptr<std::atomic<gint64>> heard_us_ = std::make_shared<std::atomic<gint64>>(0);
  SourceId silence_timer_;
  bool congestion_feedback_ = false;    // the answer asks the viewer for transport-cc feedback
  int media_pt_ = -1;                   // the video's payload type (its RTX's differs)
  std::unique_ptr<LinkEstimate> link_;  // from the answer on, when it does
  int link_target_bps_ = 0;
  int link_ceiling_bps_ = 0;  // set_link_ceiling's; 0: from the configured bitrate
  SourceId disconnect_timer_;
  SourceId connect_timer_;  // ends a session whose viewer never connects
  gint64 started_us_ = 0;   // for the join-time figures in the log
  bool connected_ = false;
  bool trimmed_ = false;  // webrtcbin's send path without its no-op elements (send_path.hpp)
  bool failed_ = false;
  bool renegotiating_ = false;  // a restart's answer is on its way
  int restarts_ = 0;
  std::vector<std::pair<int, std::string>> local_candidates_;  // as sent: again after a restart
  gint64 restarted_us_ = 0;  // when the last restart's offer came, until connected again
};

}  // namespace sl::agent
