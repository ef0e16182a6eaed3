// Settings files on any bytes: loaded or refused with a message, never a crash.
#include "config.hpp"

#include <glib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace sl::config;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const std::vector<Option> options = {
      {"name", Kind::String, "x", "a string"},
      {"count", Kind::Int, "1", "an int", 0, 100},
      {"on", Kind::Bool, "false", "a flag"},
      {"list", Kind::StringList, "", "a list"},
  };
  static const std::string path = [] {
    gchar *name = nullptr;
    const int fd = g_file_open_tmp("sl-fuzz-config-XXXXXX", &name, nullptr);
    close(fd);
    std::string p = name;
    g_free(name);
    return p;
  }();
  g_file_set_contents(path.c_str(), reinterpret_cast<const char *>(data), gssize(size), nullptr);
  auto result = load(options, "agent", {"prog", "--config", path}, "");
  if (result) {
    const long count = result->settings.integer("count");
    if (count < 0 || count > 100) std::abort();  // the bounds hold for anything accepted
  }
  return 0;
}
