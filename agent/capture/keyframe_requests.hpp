// Keyframe requests from many viewers, coalesced and rate-limited before they
// reach the one encoder. Each viewer's browser asks for a keyframe (RTCP PLI/FIR)
// when it lost part of a picture; webrtcbin turns each into a force-key-unit event
// that travels up the shared pipeline. Ten viewers on a lossy link would each ask,
// and an encoder that obeys every request sends a keyframe (ten times a P-frame's
// size) every frame, which makes the loss worse for everyone.
//  - A request that arrives while one is on its way (forwarded, no keyframe out
//    since) is served by that keyframe: dropped.
//  - A request within `min_interval` of the last keyframe is held back, and one
//    request goes to the encoder once the interval has passed (frame()).
// The agent's own requests (a viewer starting) pass at once: a new viewer's first
// frame must not wait. Plain logic with its times given; used from the streaming
// threads (CapturePipeline keeps it under a lock).
#pragma once

#include <cstdint>

namespace sl::agent {

class KeyframeRequests {
 public:
  explicit KeyframeRequests(int64_t min_interval_us = 500'000) : min_interval_us_(min_interval_us) {}

  // A viewer's request at `now_us`: whether it goes on to the encoder.
  bool request(int64_t now_us);
  // The agent's own request: always goes on.
  void own_request(int64_t now_us);
  // A keyframe left the encoder.
  void keyframe(int64_t now_us);
  // A frame left the encoder: whether a request held back is due now (the caller
  // then asks the encoder for a keyframe).
  bool frame(int64_t now_us);

  uint64_t received() const { return received_; }
  uint64_t forwarded() const { return forwarded_; }

 private:
  void forward(int64_t now_us);
  int64_t min_interval_us_;
  bool pending_ = false;  // forwarded, no keyframe out since
  bool owed_ = false;     // held back, to be sent once the interval has passed
  int64_t last_keyframe_us_ = INT64_MIN / 2;
  int64_t last_forward_us_ = INT64_MIN / 2;
  uint64_t received_ = 0, forwarded_ = 0;
};

// One viewer's requests, before they join the others': the first goes on, and
// more within `interval` of the last that went on are dropped, so the viewer
// waits for the camera's next keyframe, which comes within the interval anyway
// (the camera's keyframe interval). A viewer that falls behind (a link that
// cannot carry the stream, steady loss) asks again and again; every keyframe it
// forced would be sent to every viewer (heavier than a P-frame, and at a cost to
// their picture's quality). Its first request (it joined, or lost its picture
// once) is served at once. Plain logic with its times given; one viewer's RTCP
// thread calls it.
class ViewerKeyframeRequests {
 public:
  explicit ViewerKeyframeRequests(int64_t interval_us) : interval_us_(interval_us) {}
  // A request of this viewer at `now_us`: whether it goes on.
  bool request(int64_t now_us);
  uint64_t dropped() const { return dropped_; }

 private:
  int64_t interval_us_;
  int64_t last_us_ = INT64_MIN / 2;
  uint64_t dropped_ = 0;
};

}  // namespace sl::agent
