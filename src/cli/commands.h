// The subcommands of attnmt: each is one thin file cmd_<name>.cpp that parses its options
// into a struct and calls into the library. main.cpp dispatches on the first argument.
#pragma once

#include <optional>

namespace attnmt {
struct TrainOptions;
}

namespace attnmt::cli {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);  // argv[0] is the command name
  const char* out_of_memory;           // what bounds the command's memory, for the message
};

int run_vocab(int argc, char** argv);
int run_train(int argc, char** argv);
int run_translate(int argc, char** argv);
int run_align(int argc, char** argv);
int run_score(int argc, char** argv);
int run_info(int argc, char** argv);
int run_convert(int argc, char** argv);
int run_average(int argc, char** argv);
int run_plot(int argc, char** argv);
int run_serve(int argc, char** argv);

// train's options from the command line and --config, checked; nullopt after --help. Throws
// UsageError (cli/options.h) or attnmt::Error. (Also the entry of the config fuzz target.)
std::optional<TrainOptions> parse_train_options(int argc, char** argv);

}  // namespace attnmt::cli
