// Our SDP handling (which payload of a viewer's offer we answer with) on any
// bytes: a choice or a refusal, never a crash.
#include "viewers/sdp_payload.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string sdp(reinterpret_cast<const char *>(data), size);
  (void)sl::agent::choose_payload(sdp, sl::agent::Codec::H264);
  (void)sl::agent::choose_payload(sdp, sl::agent::Codec::VP8);
  return 0;
}
