// The agent's sessions with a real (test) capture pipeline: while the camera
// delivers no video (failed, unplugged, being retried) an offer is refused with
// a reason the viewer is shown, and the status says so to the relay.
#include "capture/capture_pipeline.hpp"
#include "protocol.hpp"
#include "viewers/sessions.hpp"
#include "test_pipeline.hpp"

#include <doctest/doctest.h>

using namespace sl;
using namespace sl::agent;

TEST_CASE("offers are refused while the camera delivers no video, and the status says so") {
  AgentSettings settings;
  settings.id = "cam";
  auto pipeline = testing::test_pipeline(settings);
  if (!pipeline) return;

  std::vector<std::string> sent;
  Sessions sessions(*pipeline, settings, [&sent](const std::string &json) { sent.push_back(json); });
  CHECK_FALSE(sessions.status().capturing);  // not started yet

  sessions.handle(proto::Offer{"s1", "cam", "v=0\r\n", {}});
  REQUIRE(sent.size() == 2);
  const auto error = std::get<proto::Error>(*proto::parse_agent_to_relay(sent[0]));
  CHECK(error.code == "camera_offline");
  CHECK(error.session == "s1");
  CHECK(error.message.find("unplugged") != std::string::npos);
  const auto end = std::get<proto::SessionEnd>(*proto::parse_agent_to_relay(sent[1]));
  CHECK(end.session == "s1");
  CHECK(end.reason == "camera_offline");
  CHECK(sessions.count() == 0);

  std::string why;
  REQUIRE(pipeline->play(why));
  CHECK(sessions.status().capturing);
  pipeline->stop();  // what the agent does when the camera fails, before retrying
  CHECK_FALSE(sessions.status().capturing);
}
