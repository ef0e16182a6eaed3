// A camera's lower encoding (issue 20, docs/adaptation.md): the same pictures at
// half the size, encoded a second time at a lower bitrate, for the viewers whose
// paths carry clearly less than the best one's. The camera's pipeline makes it
// while some viewer is on it (a bin fed from the raw tee before the camera's
// encoder, on a thread of its own behind a leaky queue, so the full encoding
// never waits for it) and takes it out when the last one has left. One lower
// encoding at most: on a Raspberry Pi the hardware encoder runs 1080p30 in all,
// and 720p plus 360p fit in that; a third at quarter size would buy little more
// than the half size at a lower bitrate does.
#pragma once

#include "encoder_choice.hpp"

#include <string>

namespace sl::agent {

struct LowerSize {
  int width = 0, height = 0;
};

// Half of `width`x`height`, rounded down to even numbers (what encoders take),
// at least 16x16.
LowerSize lower_size(int width, int height);

// gst-launch description of the bin from the raw tee's pad ("sink", a ghost of
// its first element's) to a tee named "lowtee": queue, scale to `size`
// (capsfilter "lowsize"), the encoder (named "lowencoder"), a send queue.
std::string describe_lower_encoding(const EncoderChoice &encoder, LowerSize size, int fps, int kbps,
                                    int keyframe_interval_s);

// gst-launch description of what comes before describe_lower_encoding() for a
// camera passed through: a leaky queue of encoded frames (named "lowin", up to a
// second of them, so that the decoder, on its own thread, never holds the full
// stream up) and `decoder` (named "lowdecoder"). The pipeline lets frames into
// the decoder from a keyframe on only (capture_pipeline.cpp).
std::string describe_lower_decoding(const std::string &decoder);

// The caps of the lower encoding's raw pictures (for "lowsize").
std::string lower_size_caps(LowerSize size);

}  // namespace sl::agent
