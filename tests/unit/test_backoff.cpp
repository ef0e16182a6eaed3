// Reconnect backoff: grows, is capped, is jittered, starts over on reset.
#include "backoff.hpp"

#include <doctest/doctest.h>

using namespace sl;

TEST_CASE("delays double up to the cap, within the upper half of each step") {
  Backoff lowest(250, 4000, [] { return 0.0; });
  Backoff highest(250, 4000, [] { return 0.999999; });
  const uint32_t steps[] = {250, 500, 1000, 2000, 4000, 4000, 4000};
  for (uint32_t step : steps) {
    CHECK(lowest.next_delay_ms() == step / 2);
    CHECK(highest.next_delay_ms() >= step - 1);
  }
}

TEST_CASE("jitter spreads agents that lost the same relay") {
  double r = 0.0;
  Backoff b(1000, 60000, [&] { return r; });
  r = 0.1;
  const uint32_t a = b.next_delay_ms();
  b.reset();
  r = 0.9;
  const uint32_t c = b.next_delay_ms();
  CHECK(a != c);
  CHECK(a >= 500);
  CHECK(c <= 1000);
}

TEST_CASE("reset starts over and huge attempt counts do not overflow") {
  Backoff b(100, 10000, [] { return 0.0; });
  for (int i = 0; i < 100; ++i) CHECK(b.next_delay_ms() <= 10000);
  CHECK(b.attempts() == 100);
  b.reset();
  CHECK(b.next_delay_ms() == 50);
}
