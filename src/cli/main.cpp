// attnmt: dispatches `attnmt <command> [options]` to the thin command files in src/cli/.
// Exit codes: 0 success, 1 an error in the input or the run (the message says what and where),
// 2 a usage error (unknown command or option).
#include <fmt/format.h>

#include <cstring>
#include <exception>
#include <iostream>
#include <new>
#include <string>

#include "cli/commands.h"
#include "cli/options.h"
#include "tensor/error.h"
#include "cli/process.h"

using namespace attnmt::cli;

namespace {

const Command kCommands[] = {
    {"vocab", "train a SentencePiece vocabulary on parallel files", run_vocab},
    {"train", "train an LSTM-attention or Transformer model", run_train},
    {"translate", "translate a text file with beam search", run_translate},
    {"align", "export source-target alignments (Pharaoh, soft, JSON, SVG heatmaps)", run_align},
    {"score", "score translations with BLEU and chrF (sacreBLEU-compatible)", run_score},
    {"info", "describe a model file", run_info},
    {"convert", "rewrite a model file storing its tensors as float16 or float32", run_convert},
};

std::string main_usage() {
  std::string s =
      "usage: attnmt <command> [options]\n\n"
      "attnmt trains attention-based translation models (LSTM with soft attention, Transformer),\n"
      "translates text files with beam search and shows what the model attends to.\n\n"
      "commands:\n";
  for (const auto& c : kCommands) s += fmt::format("  {:<10} {}\n", c.name, c.summary);
  s += "\nglobal options:\n  -h, --help     show this help\n  --version      show the version\n"
       "\n`attnmt <command> --help` describes a command's options.\n";
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  attnmt::setup_process(argv);
  if (argc < 2) {
    std::cerr << main_usage();
    return 2;
  }
  std::string first = argv[1];
  if (first == "-h" || first == "--help" || first == "help") {
    std::cout << main_usage();
    return 0;
  }
  if (first == "--version" || first == "-V") {
    fmt::print("attnmt {}\n", ATTNMT_VERSION);
    return 0;
  }
  for (const auto& c : kCommands) {
    if (first != c.name) continue;
    try {
      return c.run(argc - 1, argv + 1);
    } catch (const UsageError& e) {
      fmt::print(stderr, "attnmt {}: {}\n\n{}", c.name, e.what(), e.usage());
      return 2;
    } catch (const attnmt::Error& e) {
      fmt::print(stderr, "attnmt {}: error: {}\n", c.name, e.what());
      return 1;
    } catch (const std::bad_alloc&) {
      fmt::print(stderr, "attnmt {}: error: out of memory (try a smaller --batch-tokens)\n",
                 c.name);
      return 1;
    } catch (const std::exception& e) {
      fmt::print(stderr, "attnmt {}: error: {}\n", c.name, e.what());
      return 1;
    }
  }
  fmt::print(stderr, "attnmt: unknown command '{}'\n\n{}", first, main_usage());
  return 2;
}
