// Shared command-line plumbing for the subcommands: parse with Boost.Program_options, print
// usage on --help, and turn every option error into a UsageError (exit code 2).
// Not here: the options of any one command; each cmd_*.cpp owns its typed options struct.
#pragma once

#include <boost/program_options.hpp>

#include <optional>
#include <stdexcept>
#include <string>

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

// Parses argv (argv[0] is the command name; Boost skips it). Adds --help. When `config_option` is set, the
// option of that name names an INI file whose keys are the same long option names; the command
// line wins over the file. Returns nullopt when --help was printed (the command exits 0).
std::optional<po::variables_map> parse_options(const CommandSpec& spec,
                                               po::options_description& desc, int argc,
                                               char** argv,
                                               const po::positional_options_description* pos = nullptr,
                                               const char* config_option = nullptr);

std::string usage_text(const CommandSpec& spec, const po::options_description& desc);

}  // namespace attnmt::cli
