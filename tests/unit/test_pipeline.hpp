// A real capture pipeline for unit tests: the test source, 320x240, through x264enc
// (or the encoder asked for).
#pragma once

#include "capture/capture_pipeline.hpp"

#include <doctest/doctest.h>

#include <memory>

namespace sl::agent::testing {

// `settings` give what the test cares about (id, key-frame interval...); the
// source, size and encoder are set here. Null, with a message, when the encoder
// is not installed: the caller skips.
inline std::unique_ptr<CapturePipeline> test_pipeline(CameraSettings settings, const char *encoder = "x264enc") {
  gst_init(nullptr, nullptr);
  if (!gst_registry_check_feature_version(gst_registry_get(), encoder, 1, 0, 0)) {
    MESSAGE(encoder << " not installed: skipped");
    return nullptr;
  }
  settings.source = "test";
  settings.pattern = "smpte";
  settings.width = 320;
  settings.height = 240;
  settings.encoder = encoder;
  auto created = CapturePipeline::create(settings);
  if (!created) FAIL(created.error());
  return *std::move(created);
}

}  // namespace sl::agent::testing
