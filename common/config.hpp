// Settings for both programs: one table of options per program, read from an
// INI file (GKeyFile, one group named after the program) and from the command
// line (GOptionContext, the table as its option group), where every key is also
// a flag (`--key value`, `--key=value`; booleans as `--key` / `--no-key`; lists
// repeated). Flags win over the file, the file over defaults. Unknown keys and
// bad values are errors that name the key.
#pragma once

#include "result.hpp"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace sl::config {

enum class Kind { String, Int, Bool, StringList };

struct Option {
  std::string key;
  Kind kind = Kind::String;
  std::string default_value;  // as it would be written in the file ("" for none)
  std::string help;
  long min = 0;  // Int only
  long max = 0;  // Int only
};

class Settings {
 public:
  const std::string &str(const std::string &key) const;
  long integer(const std::string &key) const;
  bool flag(const std::string &key) const;
  const std::vector<std::string> &list(const std::string &key) const;
  // For tests and for programs that derive a default at run time.
  void set(const std::string &key, std::variant<std::string, long, bool, std::vector<std::string>> v);

 private:
  friend struct Loader;
  std::map<std::string, std::variant<std::string, long, bool, std::vector<std::string>>> values_;
};

// A secret given as setting `key` or in the file named by `key`-file (the file
// wins; surrounding whitespace stripped); or what is wrong, naming the setting.
Result<std::string> read_secret(const Settings &s, const std::string &key);

// Further groups of the file, each its own set of settings: "[camera front]"
// with `prefix` "camera " is the section "front". Only `keys` may be set in one;
// what it leaves out comes from the program's group and the flags.
struct SectionKind {
  std::string prefix;
  std::vector<std::string> keys;
};
struct Section {
  std::string name;
  Settings settings;
};

struct Loaded {
  Settings settings;
  std::vector<Section> sections;        // in the file's order
  bool help = false;                    // --help was given: print usage() and exit 0
  bool version = false;                 // --version was given
  std::vector<std::string> positional;  // arguments that are not options (sub-commands)
};

// `group` is the INI group (e.g. "agent"). argv[0] is skipped. `--config FILE`
// names the file; without it, `default_file` is read when it exists. The error
// is a sentence naming the key.
Result<Loaded> load(const std::vector<Option> &options, const std::string &group, const std::vector<std::string> &argv,
                    const std::string &default_file, const SectionKind &sections = {});

// For main(): loads the settings, or prints --help, --version or the error and
// exits (0, 0 and 2).
Loaded load_or_exit(const std::vector<Option> &options, const std::string &group, const std::string &program,
                    const std::string &summary, const std::string &version, int argc, char **argv,
                    const std::string &default_file, const SectionKind &sections = {});

// For main(): the checked settings, or their error printed and exit 2.
template <typename T>
T checked_or_exit(Result<T> checked, const std::string &program) {
  if (!checked) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), checked.error().c_str());
    std::exit(2);
  }
  return std::move(checked).value();
}

// The --help text (GOptionContext's): every option with its default and help.
std::string usage(const std::string &program, const std::string &summary, const std::vector<Option> &options);

}  // namespace sl::config
