// One RTP stream of the camera's encoded video, shared by every viewer whose
// offer asked for the same format (payload type, codec parameters, header
// extensions): a bin `payloader ! tee` fed from the encoder's tee.
// Packetising then runs once per format, not once per viewer; each viewer's
// branch (webrtcbin) hangs off the stream's tee behind its own gate. Browsers of
// one kind offer the same format, so their viewers share one stream.
//
// Viewers of one stream share its SSRC and sequence numbers: each viewer is its
// own RTP session (its own peer connection), where they are unique, and a viewer
// that joins starts at a keyframe wherever the numbers are.
//
// The first packet of each keyframe is the one without GST_BUFFER_FLAG_DELTA_UNIT
// (the stream marks it, whatever the payloader does): what the gates start on.
#pragma once

#include "encoder_choice.hpp"
#include "gst_owned.hpp"

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace sl::agent {

struct RtpFormat {
  // The RTP caps of the viewer's offer (sdp_payload's PayloadChoice::rtp_caps).
  std::string caps;
  // The offer's id for the playout-delay extension, 0 when not offered or not wanted.
  unsigned playout_delay_id = 0;
  int max_playout_delay_ms = 0;
  // The offer's id for the transport-wide sequence number (congestion control), 0 when not offered.
  unsigned twcc_id = 0;

  // Viewers whose formats have the same key share a stream.
  std::string key() const { return caps + "|" + std::to_string(playout_delay_id) + "|" + std::to_string(twcc_id); }
};

class RtpStream {
 public:
  // Makes the bin (not yet in a pipeline); `release` is called with the bin when
  // the last holder lets the stream go (the pipeline takes the bin out).
  // `wall_us_at_zero`: the wall clock (Unix, microseconds) at the pipeline's
  // running time zero; when known, the stream's RTP timestamps are wall-clock
  // capture times (media_clock.hpp) and its answer says so.
  static std::shared_ptr<RtpStream> make(Codec codec, const RtpFormat &format, std::string name,
                                         std::function<void(GstElement *bin)> release,
                                         std::optional<int64_t> wall_us_at_zero = std::nullopt);
  ~RtpStream();
  RtpStream(const RtpStream &) = delete;
  RtpStream &operator=(const RtpStream &) = delete;

  // The caps of what the stream sends (the format's, with its SSRC and
  // extensions): what a viewer's webrtcbin is told to expect, and answers with.
  // As text, and parsed once for every viewer (transfer none).
  const std::string &caps() const { return caps_; }
  GstCaps *rtp_caps() const { return rtp_caps_.get(); }
  GstElement *bin() const { return bin_.get(); }
  GstElement *tee() const { return tee_.get(); }
  // When its RTP timestamps are wall-clock capture times (media_clock.hpp): the
  // answer's a=ts-refclk value ("ntp=/traceable/" or "local"); else empty.
  const std::string &reference_clock() const { return reference_clock_; }

 private:
  RtpStream() = default;

  Owned<GstElement> bin_;
  Owned<GstElement> tee_;
  std::string caps_;
  std::string reference_clock_;
  Owned<GstCaps> rtp_caps_;
  std::function<void(GstElement *)> release_;
};

}  // namespace sl::agent
