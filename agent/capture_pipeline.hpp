// The one capture pipeline of a camera: source -> (decode) -> encoder -> tee.
// Capture and encoding run once whatever the number of viewers; each viewer
// session is a branch bin hanging off the tee, attached and detached while the
// pipeline plays. Also measures what actually comes out of the encoder.
#pragma once

#include "encoder_choice.hpp"
#include "gobj.hpp"
#include "protocol.hpp"
#include "settings.hpp"

#include <gst/gst.h>
#include <gst/video/video.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <variant>

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
  // Called on the main loop for an error posted by an element inside a branch bin.
  using BranchErrorHandler = std::function<void(GstElement *branch, const std::string &what)>;

  static std::variant<std::unique_ptr<CapturePipeline>, std::string> create(const AgentSettings &settings);
  ~CapturePipeline();

  bool play(std::string &error);
  void stop();
  void set_error_handlers(ErrorHandler on_error, BranchErrorHandler on_branch_error);

  // Adds a branch bin (with a ghost "sink" pad) and brings it to the pipeline's
  // state; link() then feeds it from a new tee pad. Two steps so that the tee
  // never pushes into a branch that is not running yet (that would stall every
  // viewer), and so that a session can negotiate before it receives frames.
  bool add(GstElement *branch, std::string &error);
  bool link(GstElement *branch, std::string &error);
  // Unlinks the branch from an idle probe on its tee pad, then stops and removes it.
  void detach(GstElement *branch);

  // Asks the encoder for a keyframe now (a viewer joined or lost its picture).
  void force_keyframe();

  Figures take_figures();  // since the last call
  const proto::CameraInfo &info() const { return info_; }
  Codec codec() const { return codec_; }

 private:
  CapturePipeline() = default;
  static gboolean on_bus_message(GstBus *, GstMessage *, gpointer self);
  GstElement *branch_of(GstObject *src) const;

  Owned<GstElement> pipeline_;
  Owned<GstElement> tee_;
  Owned<GstElement> encoder_;
  proto::CameraInfo info_;
  Codec codec_ = Codec::H264;
  guint bus_watch_ = 0;
  ErrorHandler on_error_;
  BranchErrorHandler on_branch_error_;
  std::atomic<uint64_t> frames_{0};
  std::atomic<uint64_t> bytes_{0};
  gint64 figures_since_us_ = 0;
  StampState stamp_;  // touched only by the source's streaming thread once playing
};

}  // namespace sl::agent
