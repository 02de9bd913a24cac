#include "cli/options.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tensor/error.h"
#include "tensor/memory.h"

namespace attnmt::cli {

namespace {

const OptionAlias* find_alias(std::span<const OptionAlias> aliases, std::string_view name) {
  for (const auto& a : aliases)
    if (name == a.old_name) return &a;
  return nullptr;
}

void note_alias(const CommandSpec& spec, const OptionAlias& a, const char* where) {
  fmt::print(stderr, "attnmt {}: note: {}'{}' is now '{}'; the old name goes in the next release\n",
             spec.name, where, a.old_name, a.new_name);
}

// argv with every old option name replaced by its new one ("--old", "--old=value").
std::vector<std::string> rename_args(const CommandSpec& spec, int argc, char** argv,
                                     std::span<const OptionAlias> aliases) {
  std::vector<std::string> args(argv, argv + argc);
  for (size_t i = 1; i < args.size(); ++i) {
    std::string& arg = args[i];
    if (arg == "--") break;
    if (!arg.starts_with("--")) continue;
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    if (const OptionAlias* a = find_alias(aliases, name)) {
      note_alias(spec, *a, "");
      arg = "--" + std::string(a->new_name) + (eq == std::string::npos ? "" : arg.substr(eq));
    }
  }
  return args;
}

// The INI file as text, with old key names replaced by their new ones.
std::string read_config(const CommandSpec& spec, const std::string& path,
                        std::span<const OptionAlias> aliases) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    fail("config file '{}' does not exist: check the path", path);
  if (!std::filesystem::is_regular_file(path, ec))
    fail("config file '{}' is not a regular file (a directory?): name an INI file", path);
  std::ifstream in(path);
  if (!in) fail("cannot open config file '{}': check its permissions", path);
  std::string text, line;
  while (std::getline(in, line)) {
    const size_t start = line.find_first_not_of(" \t");
    const size_t eq = line.find('=');
    if (start != std::string::npos && eq != std::string::npos && line[start] != '#') {
      std::string key = line.substr(start, eq - start);
      key.erase(key.find_last_not_of(" \t") + 1);
      if (const OptionAlias* a = find_alias(aliases, key)) {
        note_alias(spec, *a, fmt::format("config file '{}': ", path).c_str());
        line = std::string(a->new_name) + " " + line.substr(eq);
      }
    }
    text += line + '\n';
  }
  return text;
}

}  // namespace

std::string usage_text(const CommandSpec& spec, const po::options_description& desc) {
  std::ostringstream out;
  out << "usage: " << spec.synopsis << "\n\n" << spec.about << "\n\n" << desc;
  return out.str();
}

std::optional<po::variables_map> parse_options(const CommandSpec& spec,
                                               po::options_description& desc, int argc, char** argv,
                                               const ParseExtras& extras) {
  desc.add_options()("help,h", "show this help and exit");
  po::variables_map vm;
  const po::positional_options_description none;
  try {
    std::vector<std::string> args = rename_args(spec, argc, argv, extras.aliases);
    args.erase(args.begin());  // the command name
    po::command_line_parser parser(args);
    parser.options(desc).positional(extras.positional ? *extras.positional : none);
    po::store(parser.run(), vm);
    if (vm.count("help")) {
      std::cout << usage_text(spec, desc);
      return std::nullopt;
    }
    if (extras.config_option && vm.count(extras.config_option)) {
      const std::string path = vm[extras.config_option].as<std::string>();
      std::istringstream text(read_config(spec, path, extras.aliases));
      try {
        po::store(po::parse_config_file(text, desc), vm);
      } catch (const po::error& e) {
        throw UsageError(fmt::format("config file '{}': {}", path, e.what()),
                         usage_text(spec, desc));
      }
    }
    po::notify(vm);
  } catch (const po::too_many_positional_options_error&) {
    throw UsageError(
        "unexpected argument without an option name (an input file is named with "
        "its option, e.g. -i FILE)",
        usage_text(spec, desc));
  } catch (const po::error& e) {
    throw UsageError(e.what(), usage_text(spec, desc));
  }
  return vm;
}

void check_outputs(std::string_view command, std::initializer_list<NamedPath> outputs,
                   std::initializer_list<NamedPath> inputs) {
  for (const NamedPath& out : outputs)
    for (const std::string& path : check_output(out, inputs))
      fmt::print(stderr, "attnmt {}: removed '{}', left by a process that no longer runs\n",
                 command, path);
}

void add_max_memory_option(po::options_description& d, std::string& spec) {
  d.add_options()("max-memory", po::value(&spec)->value_name("SIZE"),
                  "the most the tensors may take, e.g. 6G (default: what the machine or its "
                  "container has available at start, less 15%); a batch beyond it is an 'out "
                  "of memory' error, not a kill");
}

void apply_max_memory(const std::string& spec) {
  if (spec.empty()) return;
  set_tensor_memory_limit(parse_memory_size(spec), "--max-memory " + spec);
}

}  // namespace attnmt::cli
