// IP cameras' addresses and credentials: URLs read, passwords kept out of what
// is shown, the credentials file read.
#include "rtsp_url.hpp"

#include <doctest/doctest.h>
#include <glib.h>
#include <glib/gstdio.h>

#include <fstream>

using namespace sl::agent;

TEST_CASE("an rtsp URL is read into host, port and path") {
  auto u = parse_rtsp_url("rtsp://192.168.1.20:8554/stream1?channel=2");
  REQUIRE(u);
  CHECK(u->scheme == "rtsp");
  CHECK(u->host == "192.168.1.20");
  CHECK(u->port == 8554);
  CHECK(u->path == "/stream1?channel=2");
  CHECK(u->user.empty());
}

TEST_CASE("the default ports and path, IPv6 hosts") {
  CHECK(parse_rtsp_url("rtsp://cam.local")->port == 554);
  CHECK(parse_rtsp_url("rtsp://cam.local")->path == "/");
  CHECK(parse_rtsp_url("rtsps://cam.local/x")->port == 322);
  auto v6 = parse_rtsp_url("rtsp://[fd00::5]:10554/live");
  REQUIRE(v6);
  CHECK(v6->host == "fd00::5");
  CHECK(v6->port == 10554);
}

TEST_CASE("credentials in a URL are found (settings refuse them)") {
  auto u = parse_rtsp_url("rtsp://admin:s3cr:et@10.0.0.9/h264");
  REQUIRE(u);
  CHECK(u->user == "admin");
  CHECK(u->password == "s3cr:et");
  CHECK(u->host == "10.0.0.9");
}

TEST_CASE("malformed addresses are refused with a reason") {
  CHECK_FALSE(parse_rtsp_url("http://cam/x"));
  CHECK_FALSE(parse_rtsp_url("rtsp:///x"));
  CHECK_FALSE(parse_rtsp_url("rtsp://cam:port/x"));
  CHECK_FALSE(parse_rtsp_url("rtsp://cam:70000/x"));
  CHECK_FALSE(parse_rtsp_url("rtsp://cam/a b"));
  CHECK_FALSE(parse_rtsp_url("rtsp://ca m/x"));
  CHECK_FALSE(parse_rtsp_url("rtsp://[fd00::1/x"));
  CHECK(parse_rtsp_url("rtsp://cam:port/x").error().find("port") != std::string::npos);
  CHECK(is_rtsp_source("rtsp://x"));
  CHECK(is_rtsp_source("rtsps://x"));
  CHECK_FALSE(is_rtsp_source("v4l2:/dev/video0"));
}

TEST_CASE("a URL shown in logs has no user or password") {
  CHECK(redact_rtsp_url("rtsp://admin:hunter2@10.0.0.9:554/h264") == "rtsp://10.0.0.9:554/h264");
  CHECK(redact_rtsp_url("rtsp://admin@10.0.0.9/h264") == "rtsp://10.0.0.9/h264");
  CHECK(redact_rtsp_url("rtsp://10.0.0.9/h264") == "rtsp://10.0.0.9/h264");
  // A password holding '/' or '@' is still taken out whole.
  const std::string odd = redact_rtsp_url("rtsp://admin:pa/ss@w@10.0.0.9/h264");
  CHECK(odd == "rtsp://10.0.0.9/h264");
  CHECK(odd.find("pa/ss") == std::string::npos);
  CHECK(redact_rtsp_url("admin:pw@cam") == "***@cam");
}

TEST_CASE("the credentials file holds user:password") {
  auto c = parse_rtsp_credentials("viewer:pa:ss word\n");
  REQUIRE(c);
  CHECK(*c == RtspCredentials{"viewer", "pa:ss word"});
  CHECK(parse_rtsp_credentials("  viewer:x  ")->user == "viewer");
  CHECK(parse_rtsp_credentials("viewer:")->password.empty());
  CHECK_FALSE(parse_rtsp_credentials("no colon here"));
  CHECK_FALSE(parse_rtsp_credentials(":password"));
  CHECK_FALSE(parse_rtsp_credentials("a:b\nc:d"));
}

TEST_CASE("the credentials file is read; its errors never show its content") {
  gchar *dir = g_dir_make_tmp("sl-rtsp-XXXXXX", nullptr);
  REQUIRE(dir);
  const std::string good = std::string(dir) + "/good", bad = std::string(dir) + "/bad";
  std::ofstream(good) << "cam:secret\n";
  std::ofstream(bad) << "secretwithoutcolon\n";
  auto read = read_rtsp_credentials(good);
  REQUIRE(read);
  CHECK(*read == RtspCredentials{"cam", "secret"});
  auto refused = read_rtsp_credentials(bad);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().find("secretwithoutcolon") == std::string::npos);
  CHECK(refused.error().find(bad) != std::string::npos);
  auto missing = read_rtsp_credentials(std::string(dir) + "/none");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().find("cannot read") != std::string::npos);
  g_remove(good.c_str());
  g_remove(bad.c_str());
  g_rmdir(dir);
  g_free(dir);
}
