#include "source_choice.hpp"

#include <cmath>
#include <tuple>

namespace sl::agent {

namespace {
int kind_rank(PixelKind k) {
  switch (k) {
    case PixelKind::H264:
      return 0;
    case PixelKind::MJPEG:
      return 1;
    case PixelKind::Raw:
      return 2;
  }
  return 3;
}

// Lower is better. A mode smaller than asked costs more than a larger one (it
// would have to be scaled up); a rate below the one asked costs more than above.
std::tuple<double, double, int> score(const CameraMode &m, const ModeRequest &want) {
  double wanted_px = double(want.width) * want.height;
  double px = double(m.width) * m.height;
  double size_cost = std::abs(std::log(px / wanted_px));
  if (px < wanted_px) size_cost *= 2;
  double fps_cost = 0;
  if (m.fps + 0.01 < want.fps)
    fps_cost = (want.fps - m.fps) * 2;
  else
    fps_cost = (m.fps - want.fps) * 0.01;
  // Round so that equally good sizes/rates compare equal and the kind decides.
  return {std::round(size_cost * 100), std::round(fps_cost * 100), kind_rank(m.kind)};
}
}  // namespace

std::optional<CameraMode> choose_mode(const std::vector<CameraMode> &modes, const ModeRequest &want) {
  std::optional<CameraMode> best;
  for (const auto &m : modes) {
    if (m.width <= 0 || m.height <= 0) continue;
    if (!best || score(m, want) < score(*best, want)) best = m;
  }
  return best;
}

}  // namespace sl::agent
