// Keeps the camera running: the one place that decides its restarts. When the
// camera fails (unplugged, a source or encoder error) or a restart is asked for
// (the restart_pipeline command), its viewers' sessions end, the pipeline stops
// and starts again, and for as long as it does not deliver frames it is retried
// with a growing delay (1 s, doubling, at most 30 s: an IP camera that is down
// is not hammered); the agent itself stays up and reachable meanwhile. A retry
// counts as running again only once a frame has come out. Every change of state
// (playing, restarting, failed) is told through the sessions' listeners, which
// report it to the relay and the broker.
#pragma once

#include "backoff.hpp"
#include "capture/capture_pipeline.hpp"
#include "main_context.hpp"
#include "result.hpp"
#include "viewers/sessions.hpp"

#include <functional>
#include <string>

namespace sl::agent {

class CameraKeeper {
 public:
  CameraKeeper(CapturePipeline &pipeline, Sessions &sessions);
  CameraKeeper(const CameraKeeper &) = delete;
  CameraKeeper &operator=(const CameraKeeper &) = delete;

  // The first start: a camera that does not start at all is the caller's error.
  Result<void> start();
  // Stops and starts the camera now (its viewers told `pipeline_restart`) and
  // calls `done` once a keyframe has come out, or with why not (it did not
  // start: then it is retried as after a failure; or nothing came within 5 s).
  void restart(std::function<void(Result<void>)> done);
  // The camera stopped (or did not start): its viewers' sessions end, and it is
  // retried until it runs again.
  void failed(const std::string &what);
  // "playing", "restarting" or "failed".
  const std::string &state() const { return state_; }
  // Why the camera delivers no video (its last failure), while it does not;
  // empty when it plays.
  const std::string &error() const { return error_; }

  static constexpr guint kRetryFirstMs = 1000;
  static constexpr guint kRetryMaxMs = 30000;
  static constexpr guint kFirstFrameTimeoutMs = 5000;

 private:
  void retry_later();
  void set_state(const std::string &state);

  CapturePipeline &pipeline_;
  Sessions &sessions_;
  std::string state_ = "playing";
  std::string error_;
  SourceId retry_timer_;
  Backoff backoff_{kRetryFirstMs, kRetryMaxMs, [] { return g_random_double(); }};
  uint64_t attempt_ = 0;  // a retry waiting for its first frame is superseded by a new failure
};

}  // namespace sl::agent
