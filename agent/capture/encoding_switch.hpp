// Moves one viewer between the camera's encodings on the same session (issue 20):
// the full one, which its branch is linked to (its RTP stream's tee pad), and a
// lower one (lower_encoding.hpp), whose RTP stream of the same format feeds no
// pad of its own: the switch takes its packets at that stream's tee.
//
// A switch happens at the first packet of a keyframe of the encoding switched
// to: before it the viewer keeps the one it has, after it gets nothing of the
// other. Whatever encoding it comes from, the viewer sees one RTP stream: the
// full stream's SSRC, sequence numbers that go on by one (each encoding's are
// moved by an offset set at the switch), and the same RTP timestamps (every
// stream of the camera stamps capture times on one clock: media_clock.hpp). So
// the browser's decoder sees a new size at a keyframe, nothing else; its
// retransmission requests and congestion feedback refer to the packets it got.
//
// From its first use on, the switch hands every packet of the viewer to the
// branch itself, under one lock (the two encodings come on two threads): a
// packet of the encoding left never lands after the keyframe of the one taken.
// Until then the full stream passes untouched. Keyframe requests from the
// viewer (upstream events through the full stream's pad) go to the encoding
// it is on.
#pragma once

#include "gst_owned.hpp"
#include "rtp_stream.hpp"

#include <gst/gst.h>

#include <functional>
#include <memory>

namespace sl::agent {

class EncodingSwitch {
 public:
  enum Encoding { Full = 0, Lower = 1 };
  // On the full stream's tee pad that feeds a viewer's branch (its gate open);
  // `ssrc`: the full stream's (what the viewer's answer says). `switched` is
  // called on the main loop when the viewer's packets come from the other
  // encoding from then on.
  static std::unique_ptr<EncodingSwitch> install(GstPad *full_tee_pad, guint32 ssrc,
                                                 std::function<void(Encoding now)> switched);
  ~EncodingSwitch();
  EncodingSwitch(const EncodingSwitch &) = delete;
  EncodingSwitch &operator=(const EncodingSwitch &) = delete;

  // Feeds from `lower` too and switches to it at its next keyframe.
  // `ask_keyframe` is called on a streaming thread when the viewer asks for a
  // keyframe while on (or going to) the lower encoding.
  void to_lower(std::shared_ptr<RtpStream> lower, std::function<void()> ask_keyframe);
  // Switches back to the full stream at its next keyframe; the lower stream is
  // let go once the switch is made (or at once if it never was).
  void to_full();
  Encoding wanted() const;
  Encoding active() const;

  // The viewer's requests for retransmissions of packets of the encoding it has
  // left are dropped at `rtx_sender` (webrtcbin's rtprtxsend for the session):
  // their frames are of no use after the other encoding's keyframe, and on a thin
  // path resending them kept it full for seconds after the move, so that the
  // keyframe it waited for was lost again and again (measured: 4-6 s without a
  // frame, instead of none).
  void guard_retransmissions(GstElement *rtx_sender);

 private:
  struct State;
  EncodingSwitch() = default;
  void let_go_of_lower();  // main loop

  std::shared_ptr<State> state_;
  Owned<GstPad> full_pad_;
  gulong full_probe_ = 0;
  std::shared_ptr<RtpStream> lower_;
  Owned<GstPad> lower_pad_;  // the lower stream's tee's sink pad
  gulong lower_probe_ = 0;
  Owned<GstPad> rtx_pad_;  // the retransmission sender's source pad
  gulong rtx_probe_ = 0;
};

}  // namespace sl::agent
