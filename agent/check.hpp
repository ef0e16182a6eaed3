// `sightline-agent --check`: says in plain words what the agent would use
// (camera, format, encoder, the WebRTC elements) and whether the relay and the
// broker accept it, then exits 0 if all is well and 1 with the reasons if not.
// Network checks are bounded (a few seconds each) and run side by side.
#pragma once

#include "settings.hpp"

namespace sl::agent {

int run_check(const AgentSettings &settings);

}  // namespace sl::agent
