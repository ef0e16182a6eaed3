#include "keyframe_requests.hpp"

namespace sl::agent {

namespace {
// A request forwarded this long ago with no keyframe since is taken as lost (an
// encoder that ignored it, a pipeline that restarted): the next one goes again.
constexpr int64_t kPendingForUs = 1'000'000;
}  // namespace

void KeyframeRequests::forward(int64_t now_us) {
  pending_ = true;
  owed_ = false;
  last_forward_us_ = now_us;
  ++forwarded_;
}

bool KeyframeRequests::request(int64_t now_us) {
  ++received_;
  if (pending_ && now_us - last_forward_us_ < kPendingForUs) return false;  // its keyframe is coming
  if (now_us - last_keyframe_us_ < min_interval_us_) {
    owed_ = true;
    return false;
  }
  forward(now_us);
  return true;
}

void KeyframeRequests::own_request(int64_t now_us) { forward(now_us); }

void KeyframeRequests::keyframe(int64_t now_us) {
  last_keyframe_us_ = now_us;
  pending_ = false;
  // A request held back asked after this keyframe's request was sent, for a loss
  // this keyframe may not cover: it stays owed.
}

bool KeyframeRequests::frame(int64_t now_us) {
  if (!owed_ || pending_ || now_us - last_keyframe_us_ < min_interval_us_) return false;
  forward(now_us);
  return true;
}

bool ViewerKeyframeRequests::request(int64_t now_us) {
  if (now_us - last_us_ < interval_us_) {
    ++dropped_;
    return false;
  }
  last_us_ = now_us;
  return true;
}

}  // namespace sl::agent
