#include "camera_keeper.hpp"

#include <glib.h>

namespace sl::agent {

CameraKeeper::CameraKeeper(CapturePipeline &pipeline, Sessions &sessions) : pipeline_(pipeline), sessions_(sessions) {
  pipeline_.set_error_handlers(
      [this](const std::string &what) { failed(what); },
      [this](GstElement *branch, const std::string &) { sessions_.end_for_branch(branch, "error"); });
}

Result<void> CameraKeeper::start() {
  auto played = pipeline_.play();
  if (played) set_state("playing");
  return played;
}

void CameraKeeper::restart(std::function<void(Result<void>)> done) {
  retry_timer_.reset();
  ++attempt_;  // a retry waiting for its first frame is replaced by this restart
  set_state("restarting");
  // The branches hang off the pipeline: viewers are told, and their pages ask again.
  sessions_.end_all("pipeline_restart");
  auto restarted = pipeline_.restart();
  if (!restarted) {
    g_warning("camera %s: restart failed (%s); retrying", pipeline_.info().id.c_str(), restarted.error().c_str());
    pipeline_.stop();
    error_ = restarted.error();
    set_state("failed");
    retry_later();
    done(restarted);
    return;
  }
  const uint64_t before = pipeline_.keyframes();
  pipeline_.wait_for([this, before] { return pipeline_.keyframes() > before; }, kFirstFrameTimeoutMs,
                     [this, done = std::move(done)](bool produced) {
                       if (!produced) error_ = "the pipeline restarted but produced no frame within 5 s";
                       set_state(produced ? "playing" : "failed");
                       if (produced)
                         done(ok());
                       else
                         done(fail("the pipeline restarted but produced no frame within 5 s"));
                     });
}

void CameraKeeper::failed(const std::string &what) {
  ++attempt_;  // a retry still waiting for its first frame has failed too
  if (state_ == "failed" && retry_timer_) {
    g_debug("camera %s: %s (already waiting to retry)", pipeline_.info().id.c_str(), what.c_str());
    return;  // one failure can post several errors: one retry, one step of backoff
  }
  g_warning("camera %s stopped: %s", pipeline_.info().id.c_str(), what.c_str());
  sessions_.end_all("camera_offline");
  pipeline_.stop();  // the relay lists the camera offline and refuses viewers meanwhile
  error_ = what;
  set_state("failed");
  retry_later();
}

void CameraKeeper::retry_later() {
  const guint delay_ms = backoff_.next_delay_ms();
  g_message("camera %s: retrying in %.1f s (attempt %u)", pipeline_.info().id.c_str(), delay_ms / 1000.0,
            backoff_.attempts());
  retry_timer_.reset(after_ms(delay_ms, [this] {
    retry_timer_.release();
    auto played = pipeline_.play();
    if (!played) {
      g_warning("camera %s: still failing: %s", pipeline_.info().id.c_str(), played.error().c_str());
      pipeline_.stop();
      if (played.error() != error_) {  // the relay and the broker hear of the new reason
        error_ = played.error();
        sessions_.changed();
      }
      retry_later();
      return;
    }
    // Started is not delivering (an IP camera connects, or refuses, a moment
    // later): running again once a frame comes out.
    const uint64_t attempt = ++attempt_;
    const uint64_t before = pipeline_.frames_out();
    pipeline_.wait_for(
        [this, before] { return pipeline_.frames_out() > before; }, kFirstFrameTimeoutMs,
        [this, attempt](bool produced) {
          if (attempt != attempt_) return;  // failed meanwhile: that failure retries
          if (!produced) {
            failed("no frame within " + std::to_string(kFirstFrameTimeoutMs / 1000) + " s of starting again");
            return;
          }
          g_message("camera %s: running again", pipeline_.info().id.c_str());
          backoff_.reset();
          set_state("playing");  // the relay lists the camera online again
        });
  }));
}

void CameraKeeper::set_state(const std::string &state) {
  state_ = state;
  if (state != "failed") error_.clear();
  sessions_.changed();
}

}  // namespace sl::agent
