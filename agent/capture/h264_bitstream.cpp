#include "h264_bitstream.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>

namespace sl::agent {

namespace {

// Reads the bits of a NAL unit's payload, skipping emulation prevention bytes
// (00 00 03). Reading past the end sets `overrun` and yields zeros.
class BitReader {
 public:
  explicit BitReader(std::span<const uint8_t> data) : data_(data) {}

  unsigned bit() {
    if (bit_ == 0) {
      if (pos_ >= data_.size()) {
        overrun = true;
        return 0;
      }
      if (zeros_ >= 2 && data_[pos_] == 3) {  // emulation prevention byte
        zeros_ = 0;
        ++pos_;
        if (pos_ >= data_.size()) {
          overrun = true;
          return 0;
        }
      }
      current_ = data_[pos_++];
      zeros_ = current_ == 0 ? zeros_ + 1 : 0;
      bit_ = 8;
    }
    --bit_;
    return (current_ >> bit_) & 1u;
  }
  uint32_t bits(int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 1) | bit();
    return v;
  }
  uint32_t ue() {  // Exp-Golomb, unsigned
    int leading = 0;
    while (bit() == 0) {
      if (overrun || ++leading > 31) {
        overrun = true;
        return 0;
      }
    }
    return leading ? ((1u << leading) - 1) + bits(leading) : 0;
  }
  int32_t se() {
    const uint32_t k = ue();
    return (k & 1) ? int32_t((k + 1) / 2) : -int32_t(k / 2);
  }

  bool overrun = false;

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  int bit_ = 0;
  uint8_t current_ = 0;
  int zeros_ = 0;
};

// A field that is small in any valid stream, bounded for any other.
int small(uint32_t v) { return int(std::min<uint32_t>(v, 255)); }

void skip_scaling_list(BitReader &r, int size) {
  int last = 8, next = 8;
  for (int j = 0; j < size; ++j) {
    if (next != 0) next = int((int64_t(last) + r.se() + 256) % 256 + 256) % 256;
    last = next == 0 ? last : next;
  }
}

void skip_hrd(BitReader &r) {
  const uint32_t cpb_count = r.ue() + 1;
  r.bits(8);  // bit_rate_scale, cpb_size_scale
  for (uint32_t i = 0; i < cpb_count && !r.overrun; ++i) {
    r.ue();
    r.ue();
    r.bit();
  }
  r.bits(20);  // four 5-bit lengths
}

// The VUI up to max_num_reorder_frames, when its bitstream restriction is present.
std::optional<int> read_vui_reorder(BitReader &r) {
  if (r.bit() && r.bits(8) == 255) r.bits(32);  // aspect ratio (extended SAR)
  if (r.bit()) r.bit();                         // overscan
  if (r.bit()) {                                // video signal type
    r.bits(4);
    if (r.bit()) r.bits(24);  // colour description
  }
  if (r.bit()) {  // chroma location
    r.ue();
    r.ue();
  }
  if (r.bit()) r.bits(65);  // timing: num_units_in_tick, time_scale, fixed_frame_rate
  const bool nal_hrd = r.bit();
  if (nal_hrd) skip_hrd(r);
  const bool vcl_hrd = r.bit();
  if (vcl_hrd) skip_hrd(r);
  if (nal_hrd || vcl_hrd) r.bit();  // low_delay_hrd
  r.bit();                          // pic_struct_present
  if (!r.bit()) return std::nullopt;
  r.bit();  // motion_vectors_over_pic_boundaries
  for (int i = 0; i < 4; ++i) r.ue();
  const int reorder = small(r.ue());
  r.ue();  // max_dec_frame_buffering
  if (r.overrun) return std::nullopt;
  return reorder;
}

bool has_chroma_info(int profile_idc) {
  switch (profile_idc) {
    case 100:
    case 110:
    case 122:
    case 244:
    case 44:
    case 83:
    case 86:
    case 118:
    case 128:
    case 138:
    case 139:
    case 134:
    case 135:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string ProfileLevel::hex() const {
  char text[7];
  std::snprintf(text, sizeof text, "%02x%02x%02x", profile_idc, constraints, level_idc);
  return text;
}

std::optional<ProfileLevel> parse_profile_level_id(const std::string &text) {
  if (text.size() != 6) return std::nullopt;
  for (char c : text)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
  const unsigned long v = std::strtoul(text.c_str(), nullptr, 16);
  return ProfileLevel{uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
}

std::vector<std::span<const uint8_t>> split_annexb(std::span<const uint8_t> s) {
  std::vector<std::span<const uint8_t>> units;
  size_t i = 0, start = std::string::npos;
  while (i + 2 < s.size()) {
    if (s[i] == 0 && s[i + 1] == 0 && s[i + 2] == 1) {
      if (start != std::string::npos) {
        size_t end = i;
        while (end > start && s[end - 1] == 0) --end;  // trailing zeros belong to the next start code
        if (end > start) units.push_back(s.subspan(start, end - start));
      }
      i += 3;
      start = i;
    } else {
      ++i;
    }
  }
  if (start != std::string::npos && start < s.size()) units.push_back(s.subspan(start));
  return units;
}

std::optional<H264Sps> parse_sps(std::span<const uint8_t> unit) {
  if (nal_type(unit) != nal::kSps || unit.size() < 4) return std::nullopt;
  H264Sps sps;
  sps.profile = ProfileLevel{unit[1], unit[2], unit[3]};
  BitReader r(unit.subspan(4));
  r.ue();  // seq_parameter_set_id
  if (has_chroma_info(sps.profile.profile_idc)) {
    sps.chroma_format_idc = small(r.ue());
    if (sps.chroma_format_idc == 3) r.bit();  // separate_colour_plane
    sps.bit_depth_luma = small(r.ue()) + 8;
    sps.bit_depth_chroma = small(r.ue()) + 8;
    r.bit();  // qpprime_y_zero_transform_bypass
    if (r.bit()) {
      const int lists = sps.chroma_format_idc == 3 ? 12 : 8;
      for (int i = 0; i < lists && !r.overrun; ++i)
        if (r.bit()) skip_scaling_list(r, i < 6 ? 16 : 64);
    }
  }
  r.ue();  // log2_max_frame_num_minus4
  sps.pic_order_cnt_type = small(r.ue());
  if (sps.pic_order_cnt_type == 0) {
    r.ue();
  } else if (sps.pic_order_cnt_type == 1) {
    r.bit();
    r.se();
    r.se();
    const uint32_t cycle = r.ue();
    for (uint32_t i = 0; i < cycle && !r.overrun; ++i) r.se();
  }
  r.ue();   // max_num_ref_frames
  r.bit();  // gaps_in_frame_num_value_allowed
  r.ue();   // pic_width_in_mbs_minus1
  r.ue();   // pic_height_in_map_units_minus1
  sps.frame_mbs_only = r.bit();
  if (!sps.frame_mbs_only) r.bit();  // mb_adaptive_frame_field
  r.bit();                           // direct_8x8_inference
  if (r.bit())
    for (int i = 0; i < 4; ++i) r.ue();  // frame cropping
  if (r.overrun) return std::nullopt;
  if (r.bit()) sps.max_num_reorder_frames = read_vui_reorder(r);
  return sps;
}

std::optional<int> slice_type(std::span<const uint8_t> unit) {
  const int type = nal_type(unit);
  if (type != nal::kNonIdrSlice && type != nal::kIdrSlice) return std::nullopt;
  BitReader r(unit.subspan(1));
  r.ue();  // first_mb_in_slice
  const uint32_t t = r.ue();
  if (r.overrun) return std::nullopt;
  return int(t % 5);
}

AccessUnitFacts read_access_unit(std::span<const uint8_t> stream) {
  AccessUnitFacts facts;
  for (const auto &unit : split_annexb(stream)) {
    switch (nal_type(unit)) {
      case nal::kSps:
        facts.sps = true;
        if (auto sps = parse_sps(unit)) facts.parsed_sps = sps;
        break;
      case nal::kPps:
        facts.pps = true;
        break;
      case nal::kIdrSlice:
        facts.idr = true;
        break;
      case nal::kNonIdrSlice:
        if (slice_type(unit) == 1) facts.b_slice = true;
        break;
      default:
        break;
    }
  }
  return facts;
}

}  // namespace sl::agent
