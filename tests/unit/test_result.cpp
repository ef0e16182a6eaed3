// Result<T>: a value or the reason it failed; Result<void>: done or why not.
#include "result.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>

using sl::fail;
using sl::Result;

namespace {

Result<int> half(int n) {
  if (n % 2) return fail("odd: " + std::to_string(n));
  return n / 2;
}

Result<void> check(bool good) {
  if (!good) return fail("not good");
  return sl::ok();
}

struct Coded {
  std::string code, message;
};
Result<std::string, Coded> coded(bool good) {
  if (!good) return fail(Coded{"bad_message", "field 'x' missing"});
  return std::string("fine");
}

}  // namespace

TEST_CASE("a result holds the value or the reason") {
  auto four = half(8);
  REQUIRE(four);
  CHECK(*four == 4);
  auto odd = half(3);
  REQUIRE_FALSE(odd);
  CHECK(odd.error() == "odd: 3");
}

TEST_CASE("a result<void> says done or why not") {
  CHECK(check(true).ok());
  auto bad = check(false);
  CHECK_FALSE(bad);
  CHECK(bad.error() == "not good");
}

TEST_CASE("a result carries its own error type, and move-only values") {
  CHECK(*coded(true) == "fine");
  CHECK(coded(false).error().code == "bad_message");
  Result<std::unique_ptr<int>> owned = std::make_unique<int>(7);
  REQUIRE(owned);
  std::unique_ptr<int> taken = *std::move(owned);
  CHECK(*taken == 7);
}
