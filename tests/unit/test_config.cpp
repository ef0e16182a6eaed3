// Settings: defaults, file, flags, and errors that name the key.
#include "config.hpp"

#include <doctest/doctest.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include <fstream>

using namespace sl::config;

namespace {
const std::vector<Option> kOptions = {
    {"listen", Kind::String, "127.0.0.1:8080", "where"},
    {"fps", Kind::Int, "30", "rate", 1, 120},
    {"stamp", Kind::Bool, "false", "stamp"},
    {"stun", Kind::StringList, "", "stun"},
};

std::string write_file(const std::string &text) {
  char *path = nullptr;
  int fd = g_file_open_tmp("sl-config-XXXXXX.conf", &path, nullptr);
  REQUIRE(fd >= 0);
  close(fd);
  std::ofstream(path) << text;
  std::string p(path);
  g_free(path);
  return p;
}
}  // namespace

TEST_CASE("defaults apply with no file and no flags") {
  auto r = load(kOptions, "relay", {"prog"}, "/nonexistent/relay.conf");
  REQUIRE(r.ok());
  CHECK(r->settings.str("listen") == "127.0.0.1:8080");
  CHECK(r->settings.integer("fps") == 30);
  CHECK_FALSE(r->settings.flag("stamp"));
  CHECK(r->settings.list("stun").empty());
}

TEST_CASE("flags in both spellings, booleans and repeated lists") {
  auto r = load(kOptions, "relay",
                {"prog", "--listen", "0.0.0.0:1", "--fps=15", "--stamp", "--stun", "stun:a:1", "--stun=stun:b:2"}, "");
  REQUIRE(r.ok());
  CHECK(r->settings.str("listen") == "0.0.0.0:1");
  CHECK(r->settings.integer("fps") == 15);
  CHECK(r->settings.flag("stamp"));
  CHECK(r->settings.list("stun") == std::vector<std::string>{"stun:a:1", "stun:b:2"});
  CHECK_FALSE(load(kOptions, "relay", {"prog", "--stamp", "--no-stamp"}, "")->settings.flag("stamp"));
}

TEST_CASE("the file is read and flags win over it") {
  auto path = write_file("[relay]\nfps=10\nstun=stun:a:1;stun:b:2\nstamp=true\n");
  auto r = load(kOptions, "relay", {"prog", "--config", path, "--fps", "20"}, "");
  REQUIRE(r.ok());
  CHECK(r->settings.integer("fps") == 20);
  CHECK(r->settings.flag("stamp"));
  CHECK(r->settings.list("stun").size() == 2);
  // The default file is read when present and no --config is given.
  CHECK(load(kOptions, "relay", {"prog"}, path)->settings.integer("fps") == 10);
  // Flags win whatever their place on the line; the first list flag replaces the file's list.
  auto before =
      load(kOptions, "relay", {"prog", "--fps=20", "--stamp=false", "--stun", "stun:c:3", "--config", path}, "");
  REQUIRE(before.ok());
  CHECK(before->settings.integer("fps") == 20);
  CHECK_FALSE(before->settings.flag("stamp"));
  CHECK(before->settings.list("stun") == std::vector<std::string>{"stun:c:3"});
  g_remove(path.c_str());
}

TEST_CASE("errors name the key") {
  CHECK(load(kOptions, "relay", {"prog", "--fps", "fast"}, "").error().find("'fps'") != std::string::npos);
  CHECK(load(kOptions, "relay", {"prog", "--fps", "500"}, "").error().find("between 1 and 120") != std::string::npos);
  CHECK(load(kOptions, "relay", {"prog", "--colour", "red"}, "").error().find("--colour") != std::string::npos);
  CHECK(load(kOptions, "relay", {"prog", "--fps"}, "").error().find("--fps") != std::string::npos);  // no value
  auto path = write_file("[relay]\nframes=3\n");
  CHECK(load(kOptions, "relay", {"prog", "--config", path}, "").error().find("'frames'") != std::string::npos);
  g_remove(path.c_str());
  auto bad_bool = write_file("[relay]\nstamp=maybe\n");
  CHECK(load(kOptions, "relay", {"prog", "--config", bad_bool}, "").error().find("'stamp'") != std::string::npos);
  g_remove(bad_bool.c_str());
  auto other_group = write_file("[agent]\nfps=3\n");
  CHECK(load(kOptions, "relay", {"prog", "--config", other_group}, "").error().find("[agent]") != std::string::npos);
  g_remove(other_group.c_str());
  CHECK(load(kOptions, "relay", {"prog", "--config", "/nonexistent.conf"}, "").error().find("Cannot read") !=
        std::string::npos);
}

TEST_CASE("help and positional arguments") {
  CHECK(load(kOptions, "relay", {"prog", "--help"}, "")->help);
  auto r = load(kOptions, "relay", {"prog", "token", "--fps", "5"}, "");
  CHECK(r->positional == std::vector<std::string>{"token"});
  const std::string text = usage("prog", "does things", kOptions);
  CHECK(text.find("--fps=N") != std::string::npos);
  CHECK(text.find("[default: 30]") != std::string::npos);
  for (const char *flag : {"--listen", "--stamp", "--stun", "--config", "--help"})
    CHECK(text.find(flag) != std::string::npos);
  CHECK(text.find("--no-stamp") == std::string::npos);  // there, but not worth a line of its own
}

TEST_CASE("sections: [camera NAME] groups take their own keys over the program's group and the flags") {
  const SectionKind cameras{"camera ", {"fps", "stamp"}};
  auto path = write_file("[relay]\nfps=10\n[camera front]\nfps=25\n[camera back]\nstamp=true\n");
  auto r = load(kOptions, "relay", {"prog", "--config", path, "--listen", "0.0.0.0:1"}, "", cameras);
  REQUIRE(r.ok());
  REQUIRE(r->sections.size() == 2);
  CHECK(r->sections[0].name == "front");
  CHECK(r->sections[0].settings.integer("fps") == 25);          // its own
  CHECK(r->sections[0].settings.str("listen") == "0.0.0.0:1");  // the flags' for the rest
  CHECK(r->sections[1].name == "back");
  CHECK(r->sections[1].settings.integer("fps") == 10);  // the program's group
  CHECK(r->sections[1].settings.flag("stamp"));
  CHECK_FALSE(r->settings.flag("stamp"));  // a section's keys stay in it
  g_remove(path.c_str());

  // Keys a section may not set, unknown keys, and groups of no known kind are errors naming them.
  auto bad = write_file("[relay]\n[camera x]\nlisten=1\n");
  auto e = load(kOptions, "relay", {"prog", "--config", bad}, "", cameras);
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().find("'listen' cannot be given per [camera x]") != std::string::npos);
  g_remove(bad.c_str());
  auto other = write_file("[relay]\n[cam x]\nfps=1\n");
  auto o = load(kOptions, "relay", {"prog", "--config", other}, "", cameras);
  REQUIRE_FALSE(o.ok());
  CHECK(o.error().find("[cam x]") != std::string::npos);
  // Without a section kind, any other group is refused, as before.
  auto plain = write_file("[relay]\n[camera x]\nfps=1\n");
  CHECK_FALSE(load(kOptions, "relay", {"prog", "--config", plain}, "").ok());
  g_remove(other.c_str());
  g_remove(plain.c_str());
}
