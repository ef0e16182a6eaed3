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
  set_state("restarting");
  // The branches hang off the pipeline: viewers are told, and their pages ask again.
  sessions_.end_all("pipeline_restart");
  auto restarted = pipeline_.restart();
  if (!restarted) {
    g_warning("camera %s: restart failed (%s); retrying in %u s", pipeline_.info().id.c_str(),
              restarted.error().c_str(), kRetrySeconds);
    pipeline_.stop();
    set_state("failed");
    retry_later();
    done(restarted);
    return;
  }
  const uint64_t before = pipeline_.keyframes();
  pipeline_.wait_for([this, before] { return pipeline_.keyframes() > before; }, kFirstFrameTimeoutMs,
                     [this, done = std::move(done)](bool produced) {
                       set_state(produced ? "playing" : "failed");
                       if (produced)
                         done(ok());
                       else
                         done(fail("the pipeline restarted but produced no frame within 5 s"));
                     });
}

void CameraKeeper::failed(const std::string &what) {
  g_warning("camera %s stopped: %s; retrying in %u s", pipeline_.info().id.c_str(), what.c_str(), kRetrySeconds);
  sessions_.end_all("camera_offline");
  pipeline_.stop();  // the relay lists the camera offline and refuses viewers meanwhile
  set_state("failed");
  retry_later();
}

void CameraKeeper::retry_later() {
  retry_timer_.reset(after_ms(kRetrySeconds * 1000, [this] {
    retry_timer_.release();
    auto played = pipeline_.play();
    if (played) {
      g_message("camera %s: running again", pipeline_.info().id.c_str());
      set_state("playing");  // the relay lists the camera online again
      return;
    }
    g_warning("camera %s: still failing (%s)", pipeline_.info().id.c_str(), played.error().c_str());
    pipeline_.stop();
    retry_later();
  }));
}

void CameraKeeper::set_state(const std::string &state) {
  state_ = state;
  sessions_.changed();
}

}  // namespace sl::agent
