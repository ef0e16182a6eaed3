// The fan-out workers the relay runs (docs/fanout.md): one sightline-agent
// process per camera fanned out, which takes the camera's one stream from this
// relay's WHEP endpoint (served by the camera directly) and serves the camera's
// viewers through the relay with the agent's own per-viewer machinery, the
// camera's H.264 passed through. The session table decides when one starts and
// stops; this starts and stops the processes.
//
// Why processes, not the relay's own GStreamer pipelines: the relay's main loop
// stays free for signaling (a media thread's stall or crash cannot starve the
// fleet's heartbeats), the workers spread over the machine's cores, and a
// crash takes one camera's forwarding down, which its viewers survive (they
// are served directly again while the relay waits before the next worker).
#pragma once

#include "sessions/session_table.hpp"
#include "settings.hpp"

#include <glib.h>

#include <map>
#include <string>

namespace sl::relay {

class FanoutWorkers {
 public:
  // `key`: the worker key (Access::worker_key), which the workers prove themselves with.
  FanoutWorkers(const RelaySettings &settings, std::string key);
  ~FanoutWorkers();  // the workers end with the relay
  FanoutWorkers(const FanoutWorkers &) = delete;
  FanoutWorkers &operator=(const FanoutWorkers &) = delete;

  // Whether workers can be started at all (an agent to run, a folder for the key).
  bool available() const { return !agent_.empty() && !dir_.empty(); }
  const std::string &agent() const { return agent_; }
  void start(const StartWorker &worker);
  void stop(const std::string &device);
  size_t running() const { return children_.size(); }

  // The agent to run: `setting` when given, else sightline-agent beside the
  // relay's executable (installed side by side, or the build tree's agent/),
  // else on PATH; "" when there is none.
  static std::string find_agent(const std::string &setting);

 private:
  struct Child {
    GPid pid = 0;
    guint watch = 0;
    std::string camera;
    bool stopping = false;  // asked to stop: its end is no news
  };

  std::string agent_;
  std::string relay_url_;  // what the workers dial
  std::string whep_url_;   // the relay's WHEP endpoint, up to /whep/
  std::string ca_file_;    // wss: the relay's own certificate
  std::vector<std::string> ice_addresses_;
  std::string dir_;                        // private folder holding the key file
  std::string key_file_;                   // the workers' device secret and WHEP token
  std::map<std::string, Child> children_;  // by device id
};

}  // namespace sl::relay
