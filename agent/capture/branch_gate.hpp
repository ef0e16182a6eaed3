// What lets frames into a viewer branch, on the branch's pad of its RTP stream's
// tee: nothing before a keyframe (what comes before it cannot be decoded), then
// the frames from that keyframe on are held until open(), then passed, in order,
// followed by the live ones. A frame comes as packets, in one or a few pushes
// (a buffer or a buffer list each); the first packet of a keyframe is the one
// without GST_BUFFER_FLAG_DELTA_UNIT (rtp_stream.hpp).
//
// Why hold: the camera has one send thread for all its viewers (the tee pushes
// into every branch on it), and webrtcbin blocks the thread that pushes into it
// until the session's DTLS keys are set. Holding also lets the join's keyframe be
// encoded early: a branch is linked as soon as its answer is out, with a keyframe
// asked for then, and open() (at DTLS connected) sends it the moment it can go
// instead of asking for one then and waiting a frame interval and an encode for it.
#pragma once

#include <gst/gst.h>

#include <memory>
#include <mutex>
#include <vector>

namespace sl::agent {

class BranchGate {
 public:
  // At most this much video is held, by timestamp (and never more than
  // kMaxHeldPushes): the first picture a viewer sees is never older. A handshake
  // slower than that drops what was held and waits for a keyframe again; open()
  // then says nothing was held, and the caller asks for one.
  static constexpr GstClockTime kMaxHeldSpan = 500 * GST_MSECOND;
  static constexpr size_t kMaxHeldPushes = 200;

  // Puts a gate on `tee_pad` (the pad that feeds the branch). The pad's probe
  // keeps the gate alive as long as the pad lives.
  static std::shared_ptr<BranchGate> install(GstPad *tee_pad);
  ~BranchGate();
  BranchGate(const BranchGate &) = delete;
  BranchGate &operator=(const BranchGate &) = delete;

  // Pushes what is held into the branch (on the calling thread, the send thread
  // waiting meanwhile) and lets everything through from then on. Returns how many
  // pushes were held: 0 when no keyframe has come yet (the caller may ask for
  // one), and when already open.
  size_t open();
  size_t held() const;

 private:
  explicit BranchGate(GstPad *tee_pad) { g_weak_ref_init(&tee_pad_, tee_pad); }
  static GstPadProbeReturn on_data(GstPad *, GstPadProbeInfo *, gpointer self);
  void drop_held();

  GWeakRef tee_pad_;  // weak: the pad's probe holds the gate
  mutable std::mutex mutex_;
  bool started_ = false;  // a keyframe has come
  bool open_ = false;
  std::vector<GstMiniObject *> held_;  // buffers and buffer lists
};

}  // namespace sl::agent
