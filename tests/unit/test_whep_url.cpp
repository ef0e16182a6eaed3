// A WHEP server as a source: the setting read, the ICE servers of an answer's
// Link headers, the Location resolved, a refusal said plainly.
#include "whep_url.hpp"

#include <doctest/doctest.h>

using namespace sl::agent;

TEST_CASE("a whep: setting gives its http or https endpoint") {
  CHECK(is_whep_source("whep:http://127.0.0.1:8080/whep/cam"));
  CHECK_FALSE(is_whep_source("rtsp://127.0.0.1/cam"));
  auto plain = whep_endpoint("whep:http://127.0.0.1:8080/whep/cam");
  REQUIRE(plain);
  CHECK(*plain == "http://127.0.0.1:8080/whep/cam");
  auto secure = whep_endpoint("whep:https://relay.example/whep/front%2Fdoor");
  REQUIRE(secure);
  CHECK(*secure == "https://relay.example/whep/front%2Fdoor");
}

TEST_CASE("a whep: setting that is not an http URL is refused with the reason") {
  auto rtsp = whep_endpoint("whep:rtsp://127.0.0.1/cam");
  REQUIRE_FALSE(rtsp);
  CHECK(rtsp.error().find("http:// or https://") != std::string::npos);
  CHECK_FALSE(whep_endpoint("whep:"));
  CHECK_FALSE(whep_endpoint("whep:not a url"));
  CHECK_FALSE(whep_endpoint("whep:http:///no-host"));
  auto userinfo = whep_endpoint("whep:http://user:secret@127.0.0.1/whep/cam");
  REQUIRE_FALSE(userinfo);
  CHECK(userinfo.error().find("whep-token-file") != std::string::npos);
}

TEST_CASE("Link headers name STUN and TURN servers, with TURN credentials") {
  auto servers = ice_servers_from_links({
      "<stun:127.0.0.1:3478>; rel=\"ice-server\"",
      "<turn:127.0.0.1:3479?transport=udp>; rel=\"ice-server\"; username=\"1700000000:cam\"; "
      "credential=\"a/b+c=\"; credential-type=\"password\"",
  });
  REQUIRE(servers.size() == 2);
  CHECK(servers[0].urls == std::vector<std::string>{"stun:127.0.0.1:3478"});
  CHECK(servers[0].username.empty());
  CHECK(servers[1].urls == std::vector<std::string>{"turn:127.0.0.1:3479?transport=udp"});
  CHECK(servers[1].username == "1700000000:cam");
  CHECK(servers[1].credential == "a/b+c=");
}

TEST_CASE("several links in one header value (libsoup joins repeated headers with commas)") {
  auto servers = ice_servers_from_links(
      {"<stun:a.example:3478>; rel=\"ice-server\", <turn:b.example:3478>; rel=ice-server; username=\"u,1\"; "
       "credential=\"p;2\", <https://x.example/doc>; rel=\"help\""});
  REQUIRE(servers.size() == 2);
  CHECK(servers[0].urls[0] == "stun:a.example:3478");
  CHECK(servers[1].username == "u,1");
  CHECK(servers[1].credential == "p;2");
}

TEST_CASE("links that are not usable ICE servers are left out") {
  CHECK(ice_servers_from_links({}).empty());
  CHECK(ice_servers_from_links({""}).empty());
  CHECK(ice_servers_from_links({"garbage"}).empty());
  CHECK(ice_servers_from_links({"<stun:a:1>"}).empty());                          // no rel
  CHECK(ice_servers_from_links({"<http://a/>; rel=\"ice-server\""}).empty());     // not STUN/TURN
  CHECK(ice_servers_from_links({"<turn:a:3478>; rel=\"ice-server\""}).empty());   // TURN without credentials
  CHECK(ice_servers_from_links({"<stun:a:1; rel=\"ice-server\""}).empty());       // unclosed <
  CHECK(ice_servers_from_links({"<stun:a:1>; REL=\"ice-server\""}).size() == 1);  // names are case-insensitive
}

TEST_CASE("the session's Location is resolved against the endpoint") {
  CHECK(resolve_location("http://127.0.0.1:8080/whep/cam", "/whep/session/abc") ==
        "http://127.0.0.1:8080/whep/session/abc");
  CHECK(resolve_location("http://127.0.0.1:8080/whep/cam", "session/abc") == "http://127.0.0.1:8080/whep/session/abc");
  CHECK(resolve_location("http://127.0.0.1:8080/whep/cam", "https://other.example/s/1") == "https://other.example/s/1");
}

TEST_CASE("a refused POST says what to do, with the server's own words") {
  const std::string url = "http://127.0.0.1:8080/whep/cam";
  auto unauthorized = describe_whep_refusal(401, "a token is needed\n", url, false);
  CHECK(unauthorized.find("whep-token-file") != std::string::npos);
  CHECK(unauthorized.find("a token is needed") != std::string::npos);
  CHECK(describe_whep_refusal(401, "", url, true).find("refused the token") != std::string::npos);
  CHECK(describe_whep_refusal(403, "", url, true).find("(403)") != std::string::npos);
  auto missing = describe_whep_refusal(404, "There is no camera 'cam'.\n", url, false);
  CHECK(missing.find("no such stream") != std::string::npos);
  CHECK(missing.find("There is no camera 'cam'") != std::string::npos);
  CHECK(describe_whep_refusal(503, "", url, false).find("online") != std::string::npos);
  CHECK(describe_whep_refusal(400, std::string(1000, 'x'), url, false).size() < 400);  // cut short
}
