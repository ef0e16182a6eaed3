// Reading H.264 byte streams (Annex B) as far as the agent needs to judge a
// camera's stream and what it sends: the NAL units of an access unit, the
// sequence parameter set's profile, level, chroma format, bit depth and
// reordering, and each slice's type (B or not). Pure functions over bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sl::agent {

// The first three bytes of an SPS, as SDP's profile-level-id names them.
struct ProfileLevel {
  uint8_t profile_idc = 0;
  uint8_t constraints = 0;  // constraint_set0..5 flags, high bit first
  uint8_t level_idc = 0;

  std::string hex() const;  // "42e01f"
  bool operator==(const ProfileLevel &) const = default;
};
// "42e01f" -> {0x42, 0xe0, 0x1f}; nullopt unless six hex digits.
std::optional<ProfileLevel> parse_profile_level_id(const std::string &text);

struct H264Sps {
  ProfileLevel profile;
  int chroma_format_idc = 1;  // 1 = 4:2:0
  int bit_depth_luma = 8;
  int bit_depth_chroma = 8;
  int pic_order_cnt_type = 0;
  bool frame_mbs_only = true;                 // false: interlaced coding allowed
  std::optional<int> max_num_reorder_frames;  // from the VUI's bitstream restriction, when given
};

namespace nal {
constexpr int kNonIdrSlice = 1, kIdrSlice = 5, kSps = 7, kPps = 8;
}

// The NAL units of a byte stream (without start codes; each begins with its header byte).
std::vector<std::span<const uint8_t>> split_annexb(std::span<const uint8_t> stream);

inline int nal_type(std::span<const uint8_t> unit) { return unit.empty() ? -1 : unit[0] & 0x1f; }

// An SPS NAL unit (header byte included); nullopt when it is cut short.
std::optional<H264Sps> parse_sps(std::span<const uint8_t> unit);

// A slice NAL unit's slice_type modulo 5 (0 P, 1 B, 2 I, 3 SP, 4 SI); nullopt if not a slice.
std::optional<int> slice_type(std::span<const uint8_t> unit);

// What one access unit (one frame) holds.
struct AccessUnitFacts {
  bool sps = false, pps = false, idr = false, b_slice = false;
  std::optional<H264Sps> parsed_sps;  // the last SPS in it
};
AccessUnitFacts read_access_unit(std::span<const uint8_t> stream);

}  // namespace sl::agent
