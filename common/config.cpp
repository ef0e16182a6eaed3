// Settings from an INI file and the command line, checked against one table.
#include "config.hpp"

#include "gobj.hpp"

#include <glib.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

namespace sl::config {

using Value = std::variant<std::string, long, bool, std::vector<std::string>>;

const std::string &Settings::str(const std::string &key) const { return std::get<std::string>(values_.at(key)); }
long Settings::integer(const std::string &key) const { return std::get<long>(values_.at(key)); }
bool Settings::flag(const std::string &key) const { return std::get<bool>(values_.at(key)); }
const std::vector<std::string> &Settings::list(const std::string &key) const {
  return std::get<std::vector<std::string>>(values_.at(key));
}
void Settings::set(const std::string &key, Value v) { values_[key] = std::move(v); }

struct Loader {
  const std::vector<Option> &options;
  std::string where;  // "in FILE" or "on the command line", for messages
  std::string error;

  const Option *find(const std::string &key) const {
    for (const auto &o : options)
      if (o.key == key) return &o;
    return nullptr;
  }

  std::optional<Value> convert(const Option &o, const std::string &text) {
    switch (o.kind) {
      case Kind::String:
        return Value(text);
      case Kind::Int: {
        errno = 0;
        char *end = nullptr;
        long v = std::strtol(text.c_str(), &end, 10);
        if (text.empty() || errno != 0 || *end != '\0') {
          error = "Setting '" + o.key + "' " + where + " must be a whole number, not '" + text + "'.";
          return std::nullopt;
        }
        if (v < o.min || v > o.max) {
          error = "Setting '" + o.key + "' " + where + " must be between " + std::to_string(o.min) + " and " +
                  std::to_string(o.max) + ", not " + text + ".";
          return std::nullopt;
        }
        return Value(v);
      }
      case Kind::Bool: {
        std::string t = text;
        for (auto &c : t) c = char(g_ascii_tolower(c));
        if (t == "true" || t == "yes" || t == "1" || t == "on") return Value(true);
        if (t == "false" || t == "no" || t == "0" || t == "off") return Value(false);
        error = "Setting '" + o.key + "' " + where + " must be true or false, not '" + text + "'.";
        return std::nullopt;
      }
      case Kind::StringList: {
        std::vector<std::string> items;
        std::stringstream ss(text);
        std::string item;
        while (std::getline(ss, item, ';')) {
          std::string trimmed = g_strstrip(item.data());
          if (!trimmed.empty()) items.push_back(trimmed);
        }
        return Value(items);
      }
    }
    return std::nullopt;
  }
};

LoadResult load(const std::vector<Option> &options, const std::string &group, const std::vector<std::string> &argv,
                const std::string &default_file) {
  LoadResult r;
  Loader loader{options, "", ""};
  for (const auto &o : options) {
    loader.where = "(default)";
    auto v = loader.convert(o, o.default_value);
    if (!v) {
      r.error = loader.error;
      return r;
    }
    r.settings.set(o.key, *v);
  }

  // First pass over argv: --config, --help, and the flags themselves (kept for later
  // so that the file is applied first whatever the order on the line).
  std::string file;
  bool file_given = false;
  std::vector<std::pair<const Option *, std::string>> flags;
  std::set<std::string> lists_from_flags;
  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string &arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      r.help = true;
      return r;
    }
    if (arg == "--version") {
      r.version = true;
      return r;
    }
    if (arg.rfind("--", 0) != 0) {
      r.positional.push_back(arg);
      continue;
    }
    std::string key = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (auto eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
      has_value = true;
    }
    if (key == "config") {
      if (!has_value) {
        if (i + 1 >= argv.size()) {
          r.error = "Option --config needs a file name.";
          return r;
        }
        value = argv[++i];
      }
      file = value;
      file_given = true;
      continue;
    }
    const Option *o = loader.find(key);
    if (!o && key.rfind("no-", 0) == 0) {
      const Option *negated = loader.find(key.substr(3));
      if (negated && negated->kind == Kind::Bool && !has_value) {
        flags.emplace_back(negated, "false");
        continue;
      }
    }
    if (!o) {
      r.error = "Unknown option --" + key + " (see --help).";
      return r;
    }
    if (!has_value) {
      if (o->kind == Kind::Bool) {
        value = "true";
      } else {
        if (i + 1 >= argv.size()) {
          r.error = "Option --" + key + " needs a value.";
          return r;
        }
        value = argv[++i];
      }
    }
    flags.emplace_back(o, value);
  }

  if (!file_given && !default_file.empty() && g_file_test(default_file.c_str(), G_FILE_TEST_EXISTS))
    file = default_file;
  if (!file.empty()) {
    auto kf = adopt(g_key_file_new());
    GError *raw = nullptr;
    if (!g_key_file_load_from_file(kf.get(), file.c_str(), G_KEY_FILE_NONE, &raw)) {
      Owned<GError> e(raw);
      r.error = "Cannot read config file " + file + ": " + e->message;
      return r;
    }
    gsize ngroups = 0;
    g_auto(GStrv) groups = g_key_file_get_groups(kf.get(), &ngroups);
    for (gsize g = 0; g < ngroups; ++g) {
      if (group != groups[g]) {
        r.error = "Config file " + file + " has a group [" + groups[g] + "]; only [" + group + "] is read.";
        return r;
      }
    }
    if (g_key_file_has_group(kf.get(), group.c_str())) {
      gsize nkeys = 0;
      g_auto(GStrv) keys = g_key_file_get_keys(kf.get(), group.c_str(), &nkeys, nullptr);
      loader.where = "in " + file;
      for (gsize k = 0; k < nkeys; ++k) {
        const Option *o = loader.find(keys[k]);
        if (!o || o->key == "config") {
          r.error = "Unknown setting '" + std::string(keys[k]) + "' in " + file + " [" + group + "].";
          return r;
        }
        OwnedStr raw_value(g_key_file_get_value(kf.get(), group.c_str(), keys[k], nullptr));
        auto v = loader.convert(*o, raw_value ? raw_value.get() : "");
        if (!v) {
          r.error = loader.error;
          return r;
        }
        r.settings.set(o->key, *v);
      }
    }
  }

  loader.where = "on the command line";
  for (const auto &[o, text] : flags) {
    auto v = loader.convert(*o, text);
    if (!v) {
      r.error = loader.error;
      return r;
    }
    if (o->kind == Kind::StringList) {
      // A repeated flag adds to the list; the first one replaces the file's list.
      auto &items = std::get<std::vector<std::string>>(*v);
      if (lists_from_flags.insert(o->key).second) {
        r.settings.set(o->key, items);
      } else {
        auto merged = r.settings.list(o->key);
        merged.insert(merged.end(), items.begin(), items.end());
        r.settings.set(o->key, merged);
      }
    } else {
      r.settings.set(o->key, *v);
    }
  }
  return r;
}

Settings load_or_exit(const std::vector<Option> &options, const std::string &group, const std::string &program,
                      const std::string &summary, const std::string &version, int argc, char **argv,
                      const std::string &default_file) {
  LoadResult loaded = load(options, group, std::vector<std::string>(argv, argv + argc), default_file);
  if (loaded.help) {
    std::fputs(usage(program, summary, options).c_str(), stdout);
    std::exit(0);
  }
  if (loaded.version) {
    std::printf("%s %s\n", program.c_str(), version.c_str());
    std::exit(0);
  }
  if (!loaded.error.empty()) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), loaded.error.c_str());
    std::exit(2);
  }
  return loaded.settings;
}

std::string usage(const std::string &program, const std::string &summary, const std::vector<Option> &options) {
  std::string out = "Usage: " + program + " [OPTION...]\n" + summary + "\n\nOptions (each also a key in the config file):\n";
  out += "  --config FILE\n      Read settings from FILE (INI, one group).\n";
  for (const auto &o : options) {
    std::string arg;
    switch (o.kind) {
      case Kind::String: arg = " VALUE"; break;
      case Kind::Int: arg = " N"; break;
      case Kind::Bool: arg = ""; break;
      case Kind::StringList: arg = " VALUE (repeatable; in the file: a;b)"; break;
    }
    out += "  --" + o.key + arg + "\n      " + o.help;
    if (!o.default_value.empty()) out += " [default: " + o.default_value + "]";
    out += "\n";
  }
  out += "  --help\n      Show this help.\n";
  return out;
}

std::variant<std::string, std::string> secret(const Settings &s, const std::string &key) {
  using Result = std::variant<std::string, std::string>;
  const std::string file = s.str(key + "-file");
  if (file.empty()) return Result(std::in_place_index<0>, s.str(key));
  gchar *text = nullptr;
  if (!g_file_get_contents(file.c_str(), &text, nullptr, nullptr))
    return Result(std::in_place_index<1>, "Setting '" + key + "-file': cannot read " + file + ".");
  std::string value = g_strstrip(text);
  g_free(text);
  return Result(std::in_place_index<0>, value);
}

}  // namespace sl::config
