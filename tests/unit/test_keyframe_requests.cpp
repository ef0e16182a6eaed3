// Keyframe requests coalesced and rate-limited (capture/keyframe_requests.hpp).
#include "capture/keyframe_requests.hpp"

#include <doctest/doctest.h>

using namespace sl::agent;

namespace {
constexpr int64_t kMs = 1000;
}

TEST_CASE("requests while a keyframe is on its way are served by it") {
  KeyframeRequests r(500 * kMs);
  CHECK(r.request(0));  // the first goes on
  for (int i = 1; i < 10; ++i) CHECK_FALSE(r.request(i * kMs));
  r.keyframe(40 * kMs);
  CHECK(r.received() == 10);
  CHECK(r.forwarded() == 1);
  CHECK_FALSE(r.frame(73 * kMs));  // nothing owed
}

TEST_CASE("a request soon after a keyframe is held back, and goes once the interval has passed") {
  KeyframeRequests r(500 * kMs);
  CHECK(r.request(0));
  r.keyframe(33 * kMs);
  CHECK_FALSE(r.request(100 * kMs));  // within 500 ms of the keyframe
  CHECK_FALSE(r.request(200 * kMs));  // still one owed, not two
  CHECK_FALSE(r.frame(500 * kMs));
  CHECK(r.frame(534 * kMs));  // due: the caller asks the encoder
  CHECK_FALSE(r.frame(567 * kMs));
  CHECK_FALSE(r.request(570 * kMs));  // on its way: served by it
  r.keyframe(600 * kMs);
  CHECK(r.forwarded() == 2);
  CHECK_FALSE(r.frame(2000 * kMs));
  CHECK(r.request(2000 * kMs));  // long after: at once
}

TEST_CASE("the agent's own request goes at once, and a lost one does not block the next for ever") {
  KeyframeRequests r(500 * kMs);
  r.own_request(0);
  CHECK_FALSE(r.request(10 * kMs));  // a viewer's, served by the agent's
  // No keyframe ever came (the encoder restarted): after a second the next goes.
  CHECK(r.request(1200 * kMs));
  CHECK(r.forwarded() == 2);
}

TEST_CASE("a viewer that asks again and again waits for the camera's next keyframe") {
  ViewerKeyframeRequests viewer(2'000'000);
  CHECK(viewer.request(0));  // its first: at once
  int passed = 0;
  // A request every 100 ms for 10 s (a link that cannot keep up): one per interval goes on.
  for (int64_t t = 100'000; t <= 10'000'000; t += 100'000) passed += viewer.request(t);
  CHECK(passed == 5);
  CHECK(viewer.dropped() == 95);
  // After a quiet spell, at once again.
  CHECK(viewer.request(13'000'000));
}
