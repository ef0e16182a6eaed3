// Access tokens: JWT HS256 signed and checked with GLib's HMAC.
#include "token.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace sl::auth;

namespace {
const std::string kSecret = "0123456789abcdef0123456789abcdef";
constexpr int64_t kNow = 1'800'000'000;

Claims operator_claims() {
  Claims c;
  c.role = Role::Operator;
  c.issued_at_s = kNow;
  c.expires_at_s = kNow + 3600;
  c.subject = "ci";
  c.cameras = {"porch", "garage"};
  return c;
}

std::string error_of(const sl::Result<Claims> &v) { return v ? "" : v.error(); }
}  // namespace

TEST_CASE("a signed token verifies to the same claims") {
  const Claims c = operator_claims();
  const std::string token = sign_token(c, kSecret);
  CHECK(std::count(token.begin(), token.end(), '.') == 2);
  auto back = verify_token(token, kSecret, kNow + 10);
  REQUIRE_MESSAGE(back.ok(), error_of(back));
  CHECK(*back == c);
  CHECK(back->may_see("porch"));
  CHECK_FALSE(back->may_see("attic"));
  Claims all = c;
  all.cameras.clear();
  CHECK(all.may_see("attic"));
}

TEST_CASE("expired, forged, tampered and malformed tokens are refused, saying why") {
  const std::string token = sign_token(operator_claims(), kSecret);
  CHECK(error_of(verify_token(token, kSecret, kNow + 3600)) == "token expired");
  CHECK(error_of(verify_token(token, "another secret of the same length!", kNow)) == "bad signature");

  // Raise the role in the payload, keep the signature: refused.
  const size_t dot1 = token.find('.'), dot2 = token.rfind('.');
  auto payload = *unbase64url(token.substr(dot1 + 1, dot2 - dot1 - 1));
  payload.replace(payload.find("operator"), 8, "admin");
  const std::string tampered = token.substr(0, dot1 + 1) + base64url(payload) + token.substr(dot2);
  CHECK(error_of(verify_token(tampered, kSecret, kNow)) == "bad signature");

  // alg none, with an empty signature.
  const std::string none =
      base64url(R"({"alg":"none"})") + "." + base64url(R"({"role":"admin","exp":1900000000})") + ".";
  CHECK_FALSE(error_of(verify_token(none, kSecret, kNow)).empty());

  CHECK(error_of(verify_token("", kSecret, kNow)) == "no token");
  CHECK_FALSE(error_of(verify_token("a.b", kSecret, kNow)).empty());
  CHECK_FALSE(error_of(verify_token("a.b.c.d", kSecret, kNow)).empty());
  CHECK_FALSE(error_of(verify_token("!!.??.**", kSecret, kNow)).empty());
  CHECK_FALSE(error_of(verify_token(std::string(5000, 'a'), kSecret, kNow)).empty());
}

TEST_CASE("claims are checked even when correctly signed: role, expiry, camera ids") {
  CHECK(error_of(verify_token(sign_jwt(R"({"role":"root","exp":1900000000})", kSecret), kSecret, kNow)) ==
        "claims: unknown role 'root'");
  CHECK(error_of(verify_token(sign_jwt(R"({"role":"viewer"})", kSecret), kSecret, kNow)).find("exp") !=
        std::string::npos);
  CHECK(error_of(
            verify_token(sign_jwt(R"({"role":"viewer","exp":1900000000,"cameras":["a b"]})", kSecret), kSecret, kNow))
            .find("cameras") != std::string::npos);
  CHECK(verify_token(sign_jwt(R"({"role":"viewer","exp":1900000000})", kSecret), kSecret, kNow).ok());
  CHECK(role_from("operator") == Role::Operator);
  CHECK_FALSE(role_from("root"));
  CHECK(Role::Viewer < Role::Operator);
}

TEST_CASE("base64url and secret comparison") {
  CHECK(base64url("\xfb\xff") == "-_8");
  CHECK(*unbase64url("-_8") == "\xfb\xff");
  CHECK_FALSE(unbase64url("a+b"));
  CHECK(equal_secrets("abc", "abc"));
  CHECK_FALSE(equal_secrets("abc", "abd"));
  CHECK_FALSE(equal_secrets("abc", "abcd"));
}
