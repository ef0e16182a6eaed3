// The one capture pipeline of a camera: source -> (decode) -> encoder -> send
// queue -> tee -> RTP streams (rtp_stream.hpp: a payloader and a tee, one per
// format the viewers asked for) -> viewer branches. Capture and encoding run once
// whatever the number of viewers, on the source's thread; packetising once per
// format; the send queue's thread carries every frame through the tees into
// every viewer branch (RTP session, SRTP, send), so a viewer costs no thread of
// its own and no hand-over per frame. Each viewer session is a branch bin
// hanging off its stream's tee; streams and branches are attached and detached
// while the pipeline plays. Also measures what actually comes out of the encoder.
#pragma once

#include "branch_gate.hpp"
#include "encoder_choice.hpp"
#include "gst_owned.hpp"
#include "h264_bitstream.hpp"
#include "keyframe_requests.hpp"
#include "lower_encoding.hpp"
#include "protocol.hpp"
#include "result.hpp"
#include "rtp_stream.hpp"
#include "settings.hpp"
#include "source_choice.hpp"

#include <gst/gst.h>
#include <gst/video/video.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace sl::agent {

struct StampState {
  GstVideoInfo info;
  uint32_t seq = 0;
};

struct Figures {
  double fps = 0;
  double bitrate_kbps = 0;
};

class CapturePipeline {
 public:
  // Called on the main loop when the source or encoder fails (camera unplugged...).
  using ErrorHandler = std::function<void(const std::string &what)>;
  // Called on the main loop for an error posted by an element inside a branch bin
  // or an RTP stream's bin (`branch` is that bin): only its viewers are affected.
  using BranchErrorHandler = std::function<void(GstElement *branch, const std::string &what)>;

  static Result<std::unique_ptr<CapturePipeline>> create(const CameraSettings &settings);
  ~CapturePipeline();

  Result<void> play();
  void stop();
  // Started by play() and not stopped since (a failed camera is stopped, then
  // retried). A source that can stall (an IP camera: it connects, or is refused,
  // after play() returns) counts only once a frame has come out since, so that
  // a retry does not show the camera online while it is still down.
  bool running() const { return running_ && (!stall_timeout_ms_ || frames_out_.load() > frames_at_play_.load()); }
  void set_error_handlers(ErrorHandler on_error, BranchErrorHandler on_branch_error);
  // Called on the main loop when the first encoded frame after each start passes:
  // the camera delivers (its status need not wait for the next round).
  void on_first_frame(std::function<void()> first) { tap_->first_frame = std::move(first); }

  // The RTP stream of `format`, shared by every branch that asks for the same:
  // made, started and fed from the encoder's tee for the first, taken out when
  // the last holder lets it go.
  Result<std::shared_ptr<RtpStream>> rtp_stream(const RtpFormat &format);
  // The same for the camera's sound (Opus), when it has any (info().audio).
  Result<std::shared_ptr<RtpStream>> audio_rtp_stream(const RtpFormat &format);
  // Adds a branch bin (with a ghost "sink" pad) and brings it to the pipeline's
  // state; link() then feeds it from a new pad of its stream's tee. Two steps so
  // that the tee never pushes into a branch that is not running yet (that would
  // stall every viewer), and so that a session can negotiate before it receives
  // frames. A linked branch starts at the next keyframe and gets nothing until
  // its gate is opened (see BranchGate). The pipeline knows its viewers' bins
  // (branches and streams) by these calls: an error inside one is theirs alone.
  Result<void> add(GstElement *branch);
  Result<std::shared_ptr<BranchGate>> link(GstElement *branch, const RtpStream &stream, const char *pad = "sink");
  // Unlinks the branch (or stream) from an idle probe on the tee pad that feeds
  // it, then stops and removes it.
  void detach(GstElement *branch);
  // RTP streams alive now (the viewers' distinct formats).
  size_t rtp_streams() const;

  // ---- a lower encoding (lower_encoding.hpp), for viewers on thin paths ----
  // The RTP stream of `format` from the lower encoding, shared like rtp_stream()'s;
  // the encoding is made for the first (at `kbps`): from the raw pictures before
  // the camera's encoder, or, for a camera whose own H.264 is passed through, by
  // decoding that H.264 (the hardware decoder where there is one) and encoding it
  // again with the encoder the agent would use for such a camera. Fails when no
  // decoder or no H.264 encoder is installed.
  Result<std::shared_ptr<RtpStream>> lower_rtp_stream(const RtpFormat &format, int kbps);
  Result<void> set_lower_bitrate(int kbps);
  // What asks the lower encoder for a keyframe, from any thread (at most one per
  // kLowerKeyframeGapUs); does nothing when there is no lower encoding.
  std::function<void()> lower_keyframe_request() const;
  static constexpr gint64 kLowerKeyframeGapUs = 500000;
  // Takes the lower encoding out when none of its streams is left; true if it did.
  bool drop_lower_if_unused();
  struct Lower {
    int width = 0, height = 0, kbps = 0;
  };
  std::optional<Lower> lower() const;  // while there is one
  // Whether `bin` (a bin an error came from) is the lower encoding's or one of its streams'.
  bool is_lower(GstElement *bin) const;

  // Asks the encoder for a keyframe now (a viewer joined or lost its picture).
  void force_keyframe();
  // Calls `done(true)` on the main loop once `check()` holds, looked at each time
  // a keyframe or a new size leaves the encoder, or `done(false)` after
  // `timeout_ms`. Waits still open when the pipeline goes are dropped.
  void wait_for(std::function<bool()> check, guint timeout_ms, std::function<void(bool)> done);

  // ---- live changes (the control plane) ----
  // The configured bitrate (set_video): the ceiling, applied at once while playing.
  Result<void> set_bitrate(int kbps);
  // What adaptation asks of the encoder for its viewers' paths (viewers/sessions.cpp),
  // kept under the configured bitrate; 0 goes back to the configured one.
  // Fails for a camera whose own H.264 is passed through.
  Result<void> adapt_bitrate(int kbps);
  // What the encoder is set to now: the configured bitrate, or less while adapting.
  int sending_kbps() const { return adaptive_kbps_ ? std::min(adaptive_kbps_, bitrate_kbps_) : bitrate_kbps_; }
  // Asks the source for a new size and rate; frames of the new size follow a
  // moment later (see video()). Fails when the camera has no such mode.
  Result<void> reconfigure(int width, int height, int fps);
  // Stops and starts the whole pipeline again (the branches must be gone).
  Result<void> restart();
  // What comes out of the encoder now, from the caps at the tee.
  struct Video {
    int width = 0, height = 0, fps = 0;
  };
  Video video() const;
  uint64_t keyframes() const { return keyframes_.load(); }
  // Viewers' keyframe requests received, and the ones the encoder was asked for.
  std::pair<uint64_t, uint64_t> keyframe_requests();
  uint64_t frames_out() const { return frames_out_.load(); }  // since start-up
  uint64_t restarts() const { return restarts_; }
  int bitrate_kbps() const { return bitrate_kbps_; }
  // Seconds between the camera's own keyframes (its setting; a camera passed
  // through: the same setting, its sender's being unknown).
  int keyframe_interval_s() const { return keyframe_interval_s_; }
  bool passthrough() const { return passthrough_; }
  // Whether its viewers' congestion feedback (transport-cc) is worth reading: it
  // is what tells a thin path from a good one (the encoder, the lower encoding),
  // but not for a fan-out worker (a WHEP source, docs/fanout.md), where reading
  // it cost ~0.35% of a core per viewer and nothing follows it.
  bool reads_congestion_feedback() const { return !whep_source_; }
  // The profile and level of the H.264 sent now (from the SPS of the last
  // keyframe out; a camera passed through: from its first frames), nullopt
  // before the first keyframe of an encoder, and for VP8.
  std::optional<ProfileLevel> sent_profile() const;
  // The source element (v4l2src: its device-fd gives the camera's controls).
  GstElement *source() const { return source_.get(); }
  // Calls `done` on the main loop with the next encoded keyframe and its caps
  // (asks for one now). Several callers may wait for the same keyframe.
  void next_keyframe(std::function<void(GstSample *)> done);

  Figures take_figures();  // since the last call
  const proto::CameraInfo &info() const { return info_; }
  // Talk-back: what plays a viewer's sound on the camera's speaker (a
  // gst-launch description from its RTP on: depayload, decode, a level meter
  // whose readings the log shows, the speaker). For cameras with info().talk.
  std::string talk_chain(const std::string &session) const;
  Codec codec() const { return codec_; }

 private:
  Result<void> apply_bitrate(int kbps);  // to the running encoder
  CapturePipeline() = default;
  static gboolean on_bus_message(GstBus *, GstMessage *, gpointer self);
  static GstPadProbeReturn on_keyframe_request(GstPad *, GstPadProbeInfo *info, gpointer self);
  void ask_encoder_for_keyframe();  // from any thread
  static GstPadProbeReturn on_encoded(GstPad *, GstPadProbeInfo *, gpointer self);
  GstElement *branch_of(GstObject *src) const;

  // Keyframe samples wanted by the main loop, and who hears of new output;
  // shared with what the probe posts.
  struct KeyframeTap {
    std::atomic<bool> wanted{false};
    std::vector<std::function<void(GstSample *)>> waiters;  // main loop only
    std::function<void()> output_changed;                   // main loop only
    std::function<void()> ended;                            // main loop only: the source's stream ended
    std::function<void()> first_frame;                      // main loop only: see on_first_frame
  };
  struct Wait {
    std::function<bool()> check;
    std::function<void(bool)> done;
    SourceId deadline;
  };
  void check_waits();
  void end_wait(Wait *wait, bool ok);
  std::vector<std::unique_ptr<Wait>> waits_;
  std::shared_ptr<KeyframeTap> tap_ = std::make_shared<KeyframeTap>();

  Owned<GstElement> pipeline_;
  Owned<GstElement> tee_;
  Owned<GstElement> audio_tee_;  // null: no sound
  Result<std::shared_ptr<RtpStream>> stream_from(GstElement *tee, Codec codec, const RtpFormat &format,
                                                 std::map<std::string, std::weak_ptr<RtpStream>> &streams);
  std::map<std::string, std::weak_ptr<RtpStream>> streams_;  // by RtpFormat::key()
  std::set<GstElement *> viewer_bins_;                       // branches and streams in the pipeline (main loop only)
  unsigned stream_serial_ = 0;
  Owned<GstElement> encoder_;
  EncoderChoice encoder_choice_;
  std::string encoder_setting_;  // CameraSettings::encoder: a camera passed through, its lower encoder
  bool whep_source_ = false;
  // The lower encoding, while there is one (made from the raw tee, or from the
  // encoded tee through a decoder for a camera passed through), its encoder and
  // its streams.
  Result<void> make_lower(int kbps);
  Owned<GstElement> raw_tee_, lower_bin_, lower_tee_, lower_encoder_, lower_sizecaps_;
  EncoderChoice lower_choice_;
  std::map<std::string, std::weak_ptr<RtpStream>> lower_streams_;
  int lower_kbps_ = 0;
  LowerSize lower_size_;
  std::shared_ptr<std::atomic<gint64>> lower_keyframe_at_ = std::make_shared<std::atomic<gint64>>(0);
  proto::CameraInfo info_;
  Codec codec_ = Codec::H264;
  guint bus_watch_ = 0;
  ErrorHandler on_error_;
  BranchErrorHandler on_branch_error_;
  Owned<GstElement> source_;
  std::function<std::string(const GError *)> explain_source_error_;  // SourcePlan::explain_error
  std::function<void(GstElement *)> start_source_, stop_source_;     // SourcePlan::start, stop
  // SourcePlan::stall_timeout_ms: while running, a check each second that frames still come.
  void watch_for_stall();
  guint stall_timeout_ms_ = 0;
  std::atomic<uint64_t> frames_at_play_{0};
  SourceId stall_timer_;
  Owned<GstElement> srccaps_;
  std::string src_caps_;
  std::vector<CameraMode> modes_;
  CameraMode mode_;
  bool passthrough_ = false;
  std::string speaker_ = "none";
  bool stamped_ = false;
  int bitrate_kbps_ = 0;
  int keyframe_interval_s_ = 2;
  int adaptive_kbps_ = 0;  // 0: not adapting
  uint64_t restarts_ = 0;
  bool running_ = false;
  std::atomic<uint64_t> frames_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> keyframes_{0};
  // Viewers' keyframe requests on their way up to the encoder (keyframe_requests.hpp).
  std::mutex keyframe_mutex_;
  KeyframeRequests keyframe_requests_;
  std::atomic<uint64_t> frames_out_{0};
  std::atomic<int> width_{0}, height_{0}, fps_{0};
  std::atomic<uint32_t> sent_profile_{0};  // 0x1000000 | profile-level-id, 0 while unknown
  gint64 figures_since_us_ = 0;
  StampState stamp_;  // touched only by the source's streaming thread once playing
};

}  // namespace sl::agent
