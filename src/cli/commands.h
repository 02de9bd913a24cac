// The subcommands of attnmt: each is one thin file cmd_<name>.cpp that parses its options
// into a struct and calls into the library. main.cpp dispatches on the first argument.
#pragma once

namespace attnmt::cli {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);  // argv[0] is the command name
};

int run_vocab(int argc, char** argv);
int run_train(int argc, char** argv);
int run_translate(int argc, char** argv);
int run_align(int argc, char** argv);
int run_score(int argc, char** argv);
int run_info(int argc, char** argv);
int run_convert(int argc, char** argv);

}  // namespace attnmt::cli
