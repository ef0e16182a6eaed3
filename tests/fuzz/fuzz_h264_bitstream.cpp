// Reading a camera's H.264 (its first frames decide whether it is passed
// through) on any bytes: facts and a verdict, never a crash or a read past the end.
#include "capture/camera_h264.hpp"
#include "capture/h264_bitstream.hpp"

#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  sl::agent::H264Observed seen;
  sl::agent::observe(seen, sl::agent::read_access_unit(bytes), false);
  for (const auto &unit : sl::agent::split_annexb(bytes)) {
    (void)sl::agent::parse_sps(unit);
    (void)sl::agent::slice_type(unit);
  }
  (void)sl::agent::judge_camera_h264(seen);
  return 0;
}
