// Reading H.264: NAL units out of a byte stream, the SPS fields the agent
// judges a camera's stream by (SPS taken from x264's real output), slice types,
// and the profile rules a browser's decoder holds a stream to.
#include "capture/h264_bitstream.hpp"
#include "capture/h264_profile.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace sl::agent;

namespace {

std::vector<uint8_t> hex(const std::string &text) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < text.size(); i += 2) out.push_back(uint8_t(std::stoi(text.substr(i, 2), nullptr, 16)));
  return out;
}

// SPS NAL units from x264 (64x48; the bytes as x264enc wrote them).
const auto kConstrainedBaseline = hex("6742c015da11ec05a830303528000003000800000301e478b175");
const auto kHigh = hex("67640014acb423d80b5060606a50000003001000000303c8f142aa");
const auto kHighBframes = hex("67640014acd9447b016a0c0c0d4a000003000200000300791e28532c");
const auto kHigh422 = hex("677a000dbcb423d80b50606064000003000400000300f23c50aa80");
const auto kHigh10 = hex("676e000da6cb423d80b5060606a50000030001000003003c8f142aa0");

// Writes the bits of a hand-made SPS (for what x264 does not make: interlacing).
struct BitWriter {
  std::vector<uint8_t> bytes;
  int used = 8;
  void bit(unsigned b) {
    if (used == 8) bytes.push_back(0), used = 0;
    if (b) bytes.back() |= uint8_t(0x80 >> used);
    ++used;
  }
  void bits(uint32_t v, int n) {
    for (int i = n - 1; i >= 0; --i) bit((v >> i) & 1);
  }
  void ue(uint32_t v) {
    const uint32_t x = v + 1;
    int len = 0;
    while ((x >> len) > 1) ++len;
    bits(0, len);
    bits(x, len + 1);
  }
};

std::vector<uint8_t> interlaced_main_sps() {
  BitWriter w;
  w.bits(0x67, 8);  // NAL header: SPS
  w.bits(77, 8);    // main
  w.bits(0, 8);
  w.bits(30, 8);  // level 3
  w.ue(0);        // sps id
  w.ue(0);        // log2_max_frame_num_minus4
  w.ue(0);        // pic_order_cnt_type
  w.ue(0);        // log2_max_pic_order_cnt_lsb_minus4
  w.ue(1);        // max_num_ref_frames
  w.bit(0);       // gaps
  w.ue(44);       // width in MBs - 1
  w.ue(17);       // height in map units - 1
  w.bit(0);       // frame_mbs_only: no
  w.bit(1);       // mb_adaptive_frame_field
  w.bit(1);       // direct_8x8_inference
  w.bit(0);       // cropping
  w.bit(0);       // vui
  w.bit(1);       // rbsp stop bit
  return w.bytes;
}

std::vector<uint8_t> annexb(const std::vector<std::vector<uint8_t>> &units) {
  std::vector<uint8_t> out;
  for (const auto &u : units) {
    out.insert(out.end(), {0, 0, 0, 1});
    out.insert(out.end(), u.begin(), u.end());
  }
  return out;
}

// Slice NAL units: header, then first_mb_in_slice = 0 and slice_type (ue).
const std::vector<uint8_t> kIdrSliceI = {0x65, 0x88, 0x80};  // type 7 (I, all slices)
const std::vector<uint8_t> kSliceP = {0x41, 0xc0};           // type 0
const std::vector<uint8_t> kSliceB = {0x01, 0x9c};           // type 6 (B, all slices)
const std::vector<uint8_t> kPps = {0x68, 0xce, 0x3c, 0x80};

}  // namespace

TEST_CASE("a byte stream splits into its NAL units, with 3- and 4-byte start codes") {
  std::vector<uint8_t> stream = {0, 0, 0, 1, 0x09, 0x10, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x65, 0x88};
  auto units = split_annexb(stream);
  REQUIRE(units.size() == 3);
  CHECK(nal_type(units[0]) == 9);
  CHECK(units[1].size() == 2);
  CHECK(nal_type(units[1]) == nal::kSps);
  CHECK(nal_type(units[2]) == nal::kIdrSlice);
  CHECK(split_annexb(std::vector<uint8_t>{}).empty());
}

TEST_CASE("the SPS of x264's streams: profile, level, chroma, bit depth, reordering") {
  auto cb = parse_sps(kConstrainedBaseline);
  REQUIRE(cb);
  CHECK(cb->profile.hex() == "42c015");
  CHECK(h264_profile(cb->profile) == H264Profile::ConstrainedBaseline);
  CHECK(cb->chroma_format_idc == 1);
  CHECK(cb->frame_mbs_only);

  auto high = parse_sps(kHigh);
  REQUIRE(high);
  CHECK(high->profile.hex() == "640014");
  CHECK(h264_profile(high->profile) == H264Profile::High);
  CHECK(high->bit_depth_luma == 8);
  CHECK(high->max_num_reorder_frames.value_or(-1) == 0);

  // With B-frames, x264 says frames come out of order (VUI bitstream restriction).
  auto b = parse_sps(kHighBframes);
  REQUIRE(b);
  REQUIRE(b->max_num_reorder_frames);
  CHECK(*b->max_num_reorder_frames > 0);

  auto h422 = parse_sps(kHigh422);
  REQUIRE(h422);
  CHECK(h422->profile.profile_idc == 122);
  CHECK(h422->chroma_format_idc == 2);

  auto h10 = parse_sps(kHigh10);
  REQUIRE(h10);
  CHECK(h10->profile.profile_idc == 110);
  CHECK(h10->bit_depth_luma == 10);

  auto interlaced = parse_sps(interlaced_main_sps());
  REQUIRE(interlaced);
  CHECK_FALSE(interlaced->frame_mbs_only);
  CHECK_FALSE(interlaced->max_num_reorder_frames);
}

TEST_CASE("a cut-short SPS is no SPS") {
  CHECK_FALSE(parse_sps(std::vector<uint8_t>(kHigh.begin(), kHigh.begin() + 5)));
  CHECK_FALSE(parse_sps(kPps));
}

TEST_CASE("slice types, and what an access unit holds") {
  CHECK(slice_type(kIdrSliceI) == 2);
  CHECK(slice_type(kSliceP) == 0);
  CHECK(slice_type(kSliceB) == 1);
  CHECK_FALSE(slice_type(kPps));

  auto key = read_access_unit(annexb({kHigh, kPps, kIdrSliceI}));
  CHECK(key.sps);
  CHECK(key.pps);
  CHECK(key.idr);
  CHECK_FALSE(key.b_slice);
  REQUIRE(key.parsed_sps);
  CHECK(key.parsed_sps->profile.hex() == "640014");

  auto bare_key = read_access_unit(annexb({kIdrSliceI}));
  CHECK(bare_key.idr);
  CHECK_FALSE(bare_key.sps);
  CHECK(read_access_unit(annexb({kSliceB})).b_slice);
  CHECK_FALSE(read_access_unit(annexb({kSliceP})).b_slice);
}

TEST_CASE("profile-level-id text") {
  CHECK(parse_profile_level_id("640c34") == ProfileLevel{0x64, 0x0c, 0x34});
  CHECK(parse_profile_level_id("42E01F") == ProfileLevel{0x42, 0xe0, 0x1f});
  CHECK_FALSE(parse_profile_level_id("42e01"));
  CHECK_FALSE(parse_profile_level_id("42e0zz"));
  CHECK(ProfileLevel{0x4d, 0x40, 0x28}.hex() == "4d4028");
}

TEST_CASE("profiles as browsers name them, and which decoder takes which stream") {
  CHECK(h264_profile({0x42, 0xe0, 0x1f}) == H264Profile::ConstrainedBaseline);
  CHECK(h264_profile({0x42, 0x00, 0x1f}) == H264Profile::Baseline);
  CHECK(h264_profile({0x4d, 0xe0, 0x1f}) == H264Profile::ConstrainedBaseline);
  CHECK(h264_profile({0x4d, 0x00, 0x1f}) == H264Profile::Main);
  CHECK(h264_profile({0x64, 0x0c, 0x34}) == H264Profile::ConstrainedHigh);
  CHECK(h264_profile({0x64, 0x00, 0x28}) == H264Profile::High);
  CHECK(h264_profile({0xf4, 0x00, 0x1f}) == H264Profile::PredictiveHigh444);
  CHECK(h264_profile({0x6e, 0x00, 0x1f}) == H264Profile::Other);  // High 10

  using P = H264Profile;
  CHECK(profile_takes(P::ConstrainedBaseline, P::ConstrainedBaseline));
  CHECK_FALSE(profile_takes(P::ConstrainedBaseline, P::Main));
  CHECK_FALSE(profile_takes(P::ConstrainedBaseline, P::High));
  CHECK(profile_takes(P::Baseline, P::ConstrainedBaseline));
  CHECK(profile_takes(P::Main, P::ConstrainedBaseline));
  CHECK_FALSE(profile_takes(P::Main, P::High));
  CHECK_FALSE(profile_takes(P::Main, P::Baseline));  // FMO/ASO are not in main
  CHECK(profile_takes(P::High, P::Main));
  CHECK(profile_takes(P::ConstrainedHigh, P::High));  // the agent never sends B-frames
  CHECK(profile_takes(P::PredictiveHigh444, P::High));
  CHECK_FALSE(profile_takes(P::High, P::Other));

  CHECK(level_rank({0x42, 0xe0, 0x1f}) > level_rank({0x42, 0xe0, 0x1e}));
  CHECK(level_name({0x42, 0xe0, 0x1f}) == "3.1");
  CHECK(level_name({0x42, 0xf0, 0x0b}) == "1b");
  CHECK(level_rank({0x42, 0xf0, 0x0b}) < level_rank({0x42, 0xe0, 0x0b}));
}

TEST_CASE("absurd field values (found by fuzzing) are bounded, not overflowed") {
  // tests/fuzz/regressions/h264_bitstream/sps-huge-bit-depth: bit_depth_luma_minus8 above 2^31.
  const auto regression = hex("6764001fa00000001ffffffffbfc0");
  auto sps = parse_sps(regression);
  REQUIRE(sps);
  CHECK(sps->bit_depth_luma >= 8);
  CHECK(sps->bit_depth_luma <= 255 + 8);
}
