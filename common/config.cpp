// Settings from an INI file and the command line, checked against one table:
// defaults, then the file, then the flags (parsed by GOptionContext).
#include "config.hpp"

#include "gobj.hpp"

#include <glib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <set>
#include <sstream>
#include <utility>

namespace sl::config {

using Value = std::variant<std::string, long, bool, std::vector<std::string>>;

const std::string &Settings::str(const std::string &key) const { return std::get<std::string>(values_.at(key)); }
long Settings::integer(const std::string &key) const { return std::get<long>(values_.at(key)); }
bool Settings::flag(const std::string &key) const { return std::get<bool>(values_.at(key)); }
const std::vector<std::string> &Settings::list(const std::string &key) const {
  return std::get<std::vector<std::string>>(values_.at(key));
}
void Settings::set(const std::string &key, Value v) { values_[key] = std::move(v); }

namespace {

const Option *find(const std::vector<Option> &options, const std::string &key) {
  for (const auto &o : options)
    if (o.key == key) return &o;
  return nullptr;
}

// `text` as option `o` wants it; `where` ("in FILE", "on the command line") for the message.
Result<Value> convert(const Option &o, const std::string &text, const std::string &where) {
  switch (o.kind) {
    case Kind::String:
      return Value(text);
    case Kind::Int: {
      errno = 0;
      char *end = nullptr;
      const long v = std::strtol(text.c_str(), &end, 10);
      if (text.empty() || errno != 0 || *end != '\0')
        return fail("Setting '" + o.key + "' " + where + " must be a whole number, not '" + text + "'.");
      if (v < o.min || v > o.max)
        return fail("Setting '" + o.key + "' " + where + " must be between " + std::to_string(o.min) + " and " +
                    std::to_string(o.max) + ", not " + text + ".");
      return Value(v);
    }
    case Kind::Bool: {
      std::string t = text;
      for (auto &c : t) c = char(g_ascii_tolower(c));
      if (t == "true" || t == "yes" || t == "1" || t == "on") return Value(true);
      if (t == "false" || t == "no" || t == "0" || t == "off") return Value(false);
      return fail("Setting '" + o.key + "' " + where + " must be true or false, not '" + text + "'.");
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
  return fail("Setting '" + o.key + "' has an unknown kind.");
}

Result<Settings> defaults(const std::vector<Option> &options) {
  Settings settings;
  for (const auto &o : options) {
    auto v = convert(o, o.default_value, "(default)");
    if (!v) return fail(v.error());
    settings.set(o.key, *v);
  }
  return settings;
}

// What the command line said, in its order, before anything is applied.
struct CommandLine {
  const std::vector<Option> *options = nullptr;
  std::vector<std::pair<const Option *, std::string>> flags;
  std::string file;  // --config
  bool help = false;
  bool version = false;
  std::vector<std::string> positional;
};

// The option table as a GOptionGroup: every key a flag (booleans also as
// --no-KEY, hidden), plus --config, --help and --version. Each flag is only
// noted here; the file is applied first, whatever the order on the line.
class FlagGroup {
 public:
  FlagGroup(const std::vector<Option> &options, const std::string &group, CommandLine *line) {
    auto keep = [this](std::string s) { return texts_.emplace_back(std::move(s)).c_str(); };
    for (const auto &o : options) {
      GOptionEntry e{};
      e.long_name = keep(o.key);
      e.arg = G_OPTION_ARG_CALLBACK;
      e.arg_data = reinterpret_cast<gpointer>(&FlagGroup::note);
      std::string help = o.help;
      if (o.kind == Kind::StringList && help.find("repeatable") == std::string::npos) help += " (repeatable)";
      if (!o.default_value.empty()) help += " [default: " + o.default_value + "]";
      e.description = keep(help);
      switch (o.kind) {
        case Kind::String:
          e.arg_description = "VALUE";
          break;
        case Kind::Int:
          e.arg_description = "N";
          break;
        case Kind::Bool:
          e.flags = G_OPTION_FLAG_OPTIONAL_ARG;
          break;
        case Kind::StringList:
          e.arg_description = "VALUE";
          break;  // in the file: a;b
      }
      entries_.push_back(e);
      if (o.kind == Kind::Bool) {
        GOptionEntry negated{};
        negated.long_name = keep("no-" + o.key);
        negated.flags = G_OPTION_FLAG_NO_ARG | G_OPTION_FLAG_HIDDEN;
        negated.arg = G_OPTION_ARG_CALLBACK;
        negated.arg_data = reinterpret_cast<gpointer>(&FlagGroup::note);
        entries_.push_back(negated);
      }
    }
    entries_.push_back(GOptionEntry{"config", 0, 0, G_OPTION_ARG_CALLBACK, reinterpret_cast<gpointer>(&FlagGroup::note),
                                    "Read settings from FILE (INI, one group).", "FILE"});
    entries_.push_back(GOptionEntry{"help", 'h', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK,
                                    reinterpret_cast<gpointer>(&FlagGroup::note), "Show this help.", nullptr});
    entries_.push_back(GOptionEntry{"version", 0, G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK,
                                    reinterpret_cast<gpointer>(&FlagGroup::note), "Show the version.", nullptr});
    entries_.push_back(GOptionEntry{});
    const std::string title = "Options (each also a key in the config file's [" + group + "] group):";
    group_ = g_option_group_new(keep(group), keep(title), keep(title), line, nullptr);
    g_option_group_add_entries(group_, entries_.data());
  }
  // For g_option_context_set_main_group, which takes it over.
  GOptionGroup *release() { return std::exchange(group_, nullptr); }
  ~FlagGroup() {
    if (group_) g_option_group_unref(group_);
  }

 private:
  static gboolean note(const gchar *name, const gchar *value, gpointer data, GError **) {
    auto *line = static_cast<CommandLine *>(data);
    const std::string key = g_str_has_prefix(name, "--") ? name + 2 : name;
    if (key == "help" || key == "h") {
      line->help = true;
    } else if (key == "version") {
      line->version = true;
    } else if (key == "config") {
      line->file = value;
    } else if (const Option *o = find(*line->options, key)) {
      line->flags.emplace_back(o, value ? value : "true");  // a bare boolean flag: true
    } else if (key.rfind("no-", 0) == 0) {
      line->flags.emplace_back(find(*line->options, key.substr(3)), "false");
    }
    return TRUE;
  }

  std::deque<std::string> texts_;  // the entries point into these
  std::vector<GOptionEntry> entries_;
  GOptionGroup *group_ = nullptr;
};

Result<CommandLine> parse_command_line(const std::vector<Option> &options, const std::string &group,
                                       const std::vector<std::string> &argv) {
  CommandLine line;
  line.options = &options;
  FlagGroup flags(options, group, &line);  // before the context: its entries point into it
  g_autoptr(GOptionContext) context = g_option_context_new(nullptr);
  g_option_context_set_help_enabled(context, FALSE);
  g_option_context_set_main_group(context, flags.release());
  // argv[0] as it was: GOptionContext names the program (g_get_prgname) after it.
  std::vector<const char *> args{argv.empty() ? "" : argv[0].c_str()};
  for (size_t i = 1; i < argv.size(); ++i) args.push_back(argv[i].c_str());
  args.push_back(nullptr);
  g_auto(GStrv) rest = g_strdupv(const_cast<gchar **>(args.data()));
  GError *raw = nullptr;
  if (!g_option_context_parse_strv(context, &rest, &raw)) {
    Owned<GError> error(raw);
    return fail(std::string(error->message) + " (see --help).");
  }
  for (gchar **arg = rest + 1; *arg; ++arg) line.positional.emplace_back(*arg);
  return line;
}

using Values = std::vector<std::pair<const Option *, std::string>>;
struct PendingSection {
  std::string name;
  Values values;
};

// One group's keys, each checked against `options` (and `allowed`, when given).
Result<Values> read_group(GKeyFile *kf, const std::vector<Option> &options, const std::string &group,
                          const std::string &file, const std::vector<std::string> *allowed) {
  Values values;
  g_auto(GStrv) keys = g_key_file_get_keys(kf, group.c_str(), nullptr, nullptr);
  for (gchar **k = keys; k && *k; ++k) {
    const Option *o = find(options, *k);
    if (!o) return fail("Unknown setting '" + std::string(*k) + "' in " + file + " [" + group + "].");
    if (allowed && std::find(allowed->begin(), allowed->end(), o->key) == allowed->end())
      return fail("Setting '" + std::string(*k) + "' cannot be given per [" + group + "] in " + file + ".");
    OwnedStr text(g_key_file_get_value(kf, group.c_str(), *k, nullptr));
    values.emplace_back(o, text ? text.get() : "");
  }
  return values;
}

Result<void> apply_values(Settings &settings, const Values &values, const std::string &where) {
  for (const auto &[o, text] : values) {
    auto v = convert(*o, text, where);
    if (!v) return fail(v.error());
    settings.set(o->key, *v);
  }
  return ok();
}

// The program's group of the INI file over `settings`; its sections' keys, to
// be applied later, into `sections`.
Result<void> apply_file(Settings &settings, const std::vector<Option> &options, const std::string &group,
                        const std::string &file, const SectionKind &kind, std::vector<PendingSection> &sections) {
  auto kf = adopt(g_key_file_new());
  GError *raw = nullptr;
  if (!g_key_file_load_from_file(kf.get(), file.c_str(), G_KEY_FILE_NONE, &raw)) {
    Owned<GError> e(raw);
    return fail("Cannot read config file " + file + ": " + e->message);
  }
  g_auto(GStrv) groups = g_key_file_get_groups(kf.get(), nullptr);
  for (gchar **g = groups; *g; ++g) {
    const std::string name = *g;
    if (name == group) continue;
    if (kind.prefix.empty() || name.rfind(kind.prefix, 0) != 0) {
      std::string only = "only [" + group + "]";
      if (!kind.prefix.empty()) only += " and [" + kind.prefix + "NAME] groups";
      return fail("Config file " + file + " has a group [" + name + "]; " + only + " are read.");
    }
    auto values = read_group(kf.get(), options, name, file, &kind.keys);
    if (!values) return fail(values.error());
    sections.push_back({name.substr(kind.prefix.size()), *std::move(values)});
  }
  if (!g_key_file_has_group(kf.get(), group.c_str())) return ok();
  auto values = read_group(kf.get(), options, group, file, nullptr);
  if (!values) return fail(values.error());
  return apply_values(settings, *values, "in " + file);
}

// The flags over `settings`. A repeated list flag adds to the list; the first
// one replaces the file's list.
Result<void> apply_flags(Settings &settings, const CommandLine &line) {
  std::set<std::string> lists_from_flags;
  for (const auto &[o, text] : line.flags) {
    auto v = convert(*o, text, "on the command line");
    if (!v) return fail(v.error());
    if (o->kind == Kind::StringList && !lists_from_flags.insert(o->key).second) {
      auto merged = settings.list(o->key);
      const auto &items = std::get<std::vector<std::string>>(*v);
      merged.insert(merged.end(), items.begin(), items.end());
      settings.set(o->key, merged);
    } else {
      settings.set(o->key, *v);
    }
  }
  return ok();
}

}  // namespace

Result<Loaded> load(const std::vector<Option> &options, const std::string &group, const std::vector<std::string> &argv,
                    const std::string &default_file, const SectionKind &kind) {
  auto line = parse_command_line(options, group, argv);
  if (!line) return fail(line.error());
  auto settings = defaults(options);
  if (!settings) return fail(settings.error());
  Loaded loaded{*settings, {}, line->help, line->version, line->positional};
  if (loaded.help || loaded.version) return loaded;
  std::string file = line->file;
  if (file.empty() && !default_file.empty() && g_file_test(default_file.c_str(), G_FILE_TEST_EXISTS))
    file = default_file;
  std::vector<PendingSection> sections;
  if (!file.empty())
    if (auto read = apply_file(loaded.settings, options, group, file, kind, sections); !read) return fail(read.error());
  if (auto applied = apply_flags(loaded.settings, *line); !applied) return fail(applied.error());
  // A section's own keys win over the program's group and the flags (its defaults).
  for (const auto &pending : sections) {
    Section section{pending.name, loaded.settings};
    if (auto applied =
            apply_values(section.settings, pending.values, "in " + file + " [" + kind.prefix + pending.name + "]");
        !applied)
      return fail(applied.error());
    loaded.sections.push_back(std::move(section));
  }
  return loaded;
}

Loaded load_or_exit(const std::vector<Option> &options, const std::string &group, const std::string &program,
                    const std::string &summary, const std::string &version, int argc, char **argv,
                    const std::string &default_file, const SectionKind &kind) {
  auto loaded = load(options, group, std::vector<std::string>(argv, argv + argc), default_file, kind);
  if (!loaded) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), loaded.error().c_str());
    std::exit(2);
  }
  if (loaded->help) {
    std::fputs(usage(program, summary, options).c_str(), stdout);
    std::exit(0);
  }
  if (loaded->version) {
    std::printf("%s %s\n", program.c_str(), version.c_str());
    std::exit(0);
  }
  return *std::move(loaded);
}

std::string usage(const std::string &program, const std::string &summary, const std::vector<Option> &options) {
  CommandLine unused;
  unused.options = &options;
  FlagGroup flags(options, program, &unused);
  g_autoptr(GOptionContext) context = g_option_context_new(nullptr);
  g_option_context_set_help_enabled(context, FALSE);
  g_option_context_set_summary(context, summary.c_str());
  g_option_context_set_main_group(context, flags.release());
  const std::string text = take_string(g_option_context_get_help(context, TRUE, nullptr));
  // GLib names the program by g_get_prgname(); the usage line names it as asked.
  const auto first_line_end = text.find('\n', text.find("Usage:") + 7);
  return "Usage:\n  " + program + " [OPTION…]" + text.substr(first_line_end);
}

Result<std::string> read_secret(const Settings &s, const std::string &key) {
  const std::string file = s.str(key + "-file");
  if (file.empty()) return s.str(key);
  gchar *text = nullptr;
  if (!g_file_get_contents(file.c_str(), &text, nullptr, nullptr))
    return fail("Setting '" + key + "-file': cannot read " + file + ".");
  std::string value = g_strstrip(text);
  g_free(text);
  return value;
}

}  // namespace sl::config
