// Revocation lists for device certificates, as operators write them.
#include "auth/device_certificate.hpp"

#include <doctest/doctest.h>

using namespace sl::relay;

TEST_CASE("a revocation list takes fingerprints as openssl prints them, or bare") {
  const std::string colons =
      "34:F9:F9:8A:1C:58:63:0D:5C:4C:DA:D3:2C:B6:BC:DB:C5:EE:41:85:84:B8:EC:02:EE:F4:1B:72:3D:82:D5:EA";
  auto list = parse_revoked("# revoked\n\nsha256 Fingerprint=" + colons +
                            "\n42956b7fb68ff1bdfab617671aafd1947bcddb72ee130e9fa9ca0ed183c0091a\n");
  REQUIRE(list);
  CHECK(list->size() == 2);
  CHECK(list->count("34f9f98a1c58630d5c4cdad32cb6bcdbc5ee418584b8ec02eef41b723d82d5ea") == 1);
  auto bad = parse_revoked("# ok\nnot-a-fingerprint\n");
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == "line 2 is not a SHA-256 fingerprint");
  CHECK_FALSE(parse_revoked("abcd\n"));  // too short: a typo, not a certificate
}

TEST_CASE("certificate errors are said in words") {
  CHECK(certificate_errors(GTlsCertificateFlags(0)).empty());
  CHECK(certificate_errors(GTlsCertificateFlags(G_TLS_CERTIFICATE_UNKNOWN_CA | G_TLS_CERTIFICATE_EXPIRED)) ==
        "not issued by the tls-client-ca, expired");
}
