// Broker URLs as users write them, and connect failures in words.
#include "mqtt_url.hpp"

#include <doctest/doctest.h>

using sl::broker_uri;
using sl::connect_failure_words;

TEST_CASE("broker URLs become what Paho takes, with the default port") {
  CHECK(*broker_uri("mqtt://broker.lan") == "tcp://broker.lan:1883");
  CHECK(*broker_uri("tcp://127.0.0.1:1884") == "tcp://127.0.0.1:1884");
  CHECK(*broker_uri("mqtts://broker.example.org") == "ssl://broker.example.org:8883");
  CHECK(*broker_uri("ssl://10.0.0.2:9999") == "ssl://10.0.0.2:9999");
}

TEST_CASE("bad broker URLs say what is wrong") {
  for (const char *bad : {"broker.lan", "http://broker.lan", "tcp://", ""}) {
    CAPTURE(bad);
    const auto r = broker_uri(bad);
    REQUIRE_FALSE(r);
    CHECK_FALSE(r.error().empty());
  }
}

TEST_CASE("connect failures point at the setting to check") {
  CHECK(connect_failure_words(-1, true).find("mqtt-ca-file") != std::string::npos);
  CHECK(connect_failure_words(-1, false).find("TCP connect failed") != std::string::npos);
  CHECK(connect_failure_words(4, false).find("mqtt-password") != std::string::npos);
  CHECK(connect_failure_words(5, true).find("not authorized") != std::string::npos);
  CHECK(connect_failure_words(42, false) == "connect failed (code 42)");
}
