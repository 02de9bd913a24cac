// Shared command-line plumbing for the subcommands: parse with Boost.Program_options, print
// usage on --help, turn every option error into a UsageError (exit code 2), read INI config
// files, accept old option names for one release, and take every default from the options
// struct the option writes to (so a default is written once, in that struct).
// Not here: the options of any one command; each cmd_*.cpp owns its typed options struct.
#pragma once

#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/output_path.h"
#include "tensor/choice.h"

namespace attnmt::cli {

namespace po = boost::program_options;

// A wrong option, a missing required one, an unknown command: usage goes to stderr, exit 2.
class UsageError : public std::runtime_error {
 public:
  UsageError(const std::string& message, std::string usage)
      : std::runtime_error(message), usage_(std::move(usage)) {}
  const std::string& usage() const { return usage_; }

 private:
  std::string usage_;
};

struct CommandSpec {
  std::string name;      // "train"
  std::string synopsis;  // "attnmt train --src FILE --tgt FILE -o MODEL [options]"
  std::string about;     // one paragraph shown under the synopsis
};

// An option renamed: the old name still works for one release and prints what to use.
struct OptionAlias {
  const char* old_name;  // "max-length"
  const char* new_name;  // "max-output-length"
};

struct ParseExtras {
  const po::positional_options_description* positional = nullptr;  // none: refused
  // The option naming an INI file whose keys are the long option names (the command line wins).
  const char* config_option = nullptr;
  std::span<const OptionAlias> aliases = {};
};

// Parses argv (argv[0] is the command name; Boost skips it). Adds --help. Returns nullopt when
// --help was printed (the command exits 0). A value that is out of range for the command is
// the caller's to refuse with usage_error().
std::optional<po::variables_map> parse_options(const CommandSpec& spec,
                                               po::options_description& desc, int argc, char** argv,
                                               const ParseExtras& extras = {});

std::string usage_text(const CommandSpec& spec, const po::options_description& desc);

// Runs `check` (which throws attnmt::Error for a bad value) and turns its error into usage.
template <typename F>
void check_usage(const CommandSpec& spec, const po::options_description& desc, F&& check) {
  try {
    check();
  } catch (const std::runtime_error& e) {
    if (dynamic_cast<const UsageError*>(&e)) throw;
    throw UsageError(e.what(), usage_text(spec, desc));
  }
}

// Checks every output before any work (io/output_path.h): the command fails at once on a path
// it could not write or on an output that is one of its inputs. Says on stderr which temp
// files of dead processes it removed.
void check_outputs(std::string_view command, std::initializer_list<NamedPath> outputs,
                   std::initializer_list<NamedPath> inputs);

// --max-memory SIZE (train, translate, align, serve): the most the tensors may take. Without
// it, the limit is what the machine (or its container) had available at start, less a reserve
// (tensor/memory.h); a batch beyond the limit fails with "out of memory", not the kernel's kill.
void add_max_memory_option(po::options_description& d, std::string& spec);
// Sets the limit from the option's value ("" leaves the default); throws for a bad size. Called
// within check_usage.
void apply_max_memory(const std::string& spec);

// The text --help shows for a default.
template <typename T>
std::string default_text(const T& v) {
  if constexpr (HasChoices<T>)
    return std::string(name_of(v));
  else if constexpr (std::is_same_v<T, bool>)
    return v ? "true" : "false";
  else if constexpr (std::is_same_v<T, std::string>)
    return v;
  else
    return fmt::format("{}", v);
}

// An option writing to *field, whose default is the value *field holds now (the struct's).
template <typename T>
po::typed_value<T>* value_of(T* field) {
  return po::value(field)->default_value(*field, default_text(*field));
}

// "the architecture (lstm|transformer)": the help of a choice option, with its names.
template <HasChoices E>
std::string with_choices(const std::string& help) {
  return help + " (" + choice_list<E>("|", "|") + ")";
}

}  // namespace attnmt::cli

namespace attnmt {
// Boost.Program_options reads every Choices enum by its name table (found by ADL).
template <HasChoices E>
void validate(boost::any& v, const std::vector<std::string>& values, E*, int) {
  namespace po = boost::program_options;
  po::validators::check_first_occurrence(v);
  const std::string& s = po::validators::get_single_string(values);
  try {
    v = boost::any(parse_choice<E>(s));
  } catch (const Error&) {
    throw po::error_with_option_name(
        fmt::format("unknown {} '{}' for option '%canonical_option%': choose {}", choice_what<E>(),
                    s, choice_list<E>()));
  }
}
}  // namespace attnmt

namespace attnmt::eval {
using attnmt::validate;  // for the metrics' enums (argument-dependent lookup looks here)
}  // namespace attnmt::eval
