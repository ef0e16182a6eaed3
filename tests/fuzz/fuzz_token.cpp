// Token checking on any bytes: no crash, and whatever verifies with one secret
// is refused with any other (the signature really binds the token to the secret).
#include "token.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  const auto now = int64_t(1'800'000'000);
  auto verified = sl::auth::verify_token(text, "fuzzing-secret-fuzzing-secret-32", now);
  if (verified.ok() && sl::auth::verify_token(text, "another-secret-another-secret-32", now).ok()) std::abort();
  if (auto decoded = sl::auth::unbase64url(text))
    if (sl::auth::unbase64url(sl::auth::base64url(*decoded)) != decoded) std::abort();
  return 0;
}
