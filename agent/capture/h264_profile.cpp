#include "h264_profile.hpp"

namespace sl::agent {

namespace {
constexpr uint8_t kSet0 = 0x80, kSet1 = 0x40, kSet3 = 0x10, kSet4 = 0x08, kSet5 = 0x04;

bool baseline_family(uint8_t profile_idc) { return profile_idc == 66 || profile_idc == 77 || profile_idc == 88; }
}  // namespace

H264Profile h264_profile(const ProfileLevel &pl) {
  const uint8_t c = pl.constraints;
  switch (pl.profile_idc) {
    case 66:  // baseline; constraint_set1 (main-compatible) makes it constrained baseline
      return (c & kSet1) ? H264Profile::ConstrainedBaseline : H264Profile::Baseline;
    case 77:  // main; constraint_set0 (baseline-compatible) makes it constrained baseline
      return (c & kSet0) ? H264Profile::ConstrainedBaseline : H264Profile::Main;
    case 88:  // extended; constraint_set0 and set1 make it constrained baseline
      return ((c & kSet0) && (c & kSet1)) ? H264Profile::ConstrainedBaseline : H264Profile::Other;
    case 100:  // high; constraint_set4 and set5 (progressive, no B slices) make it constrained high
      return ((c & kSet4) && (c & kSet5)) ? H264Profile::ConstrainedHigh : H264Profile::High;
    case 244:
      return H264Profile::PredictiveHigh444;
    default:
      return H264Profile::Other;
  }
}

const char *profile_name(H264Profile p) {
  switch (p) {
    case H264Profile::ConstrainedBaseline:
      return "constrained baseline";
    case H264Profile::Baseline:
      return "baseline";
    case H264Profile::Main:
      return "main";
    case H264Profile::ConstrainedHigh:
      return "constrained high";
    case H264Profile::High:
      return "high";
    case H264Profile::PredictiveHigh444:
      return "high 4:4:4 predictive";
    case H264Profile::Other:
      break;
  }
  return "other";
}

std::string profile_name(const ProfileLevel &pl) {
  if (const H264Profile p = h264_profile(pl); p != H264Profile::Other) return profile_name(p);
  switch (pl.profile_idc) {
    case 88:
      return "extended";
    case 110:
      return "high 10";
    case 122:
      return "high 4:2:2";
    case 44:
      return "CAVLC 4:4:4 intra";
    default:
      return "profile_idc " + std::to_string(pl.profile_idc);
  }
}

bool profile_takes(H264Profile offered, H264Profile sent) {
  using P = H264Profile;
  if (sent == P::Other || offered == P::Other) return false;
  if (offered == sent || sent == P::ConstrainedBaseline) return true;
  switch (offered) {
    case P::PredictiveHigh444:  // a superset of high
    case P::High:               // takes main and constrained high (not baseline's FMO and ASO)
      return sent != P::Baseline;
    case P::ConstrainedHigh:  // high without B slices: so main and high streams without B-frames
      return sent == P::Main || sent == P::High;
    default:  // baseline (FMO, ASO) and main (CABAC, interlace) do not take each other
      return false;
  }
}

int level_rank(const ProfileLevel &pl) {
  // Level 1b: level_idc 11 with constraint_set3 in the baseline family, or level_idc 9.
  if (pl.level_idc == 9 || (pl.level_idc == 11 && baseline_family(pl.profile_idc) && (pl.constraints & kSet3)))
    return 105;
  return pl.level_idc * 10;
}

std::string level_name(const ProfileLevel &pl) {
  if (level_rank(pl) == 105) return "1b";
  return std::to_string(pl.level_idc / 10) + "." + std::to_string(pl.level_idc % 10);
}

}  // namespace sl::agent
