// attnmt: dispatches `attnmt <command> [options]` to the thin command files in src/cli/.
// Exit codes: 0 success, 1 an error in the input or the run (the message says what and where),
// 2 a usage error (unknown command or option).
#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <new>
#include <string>

#include "cli/commands.h"
#include "cli/options.h"
#include "tensor/error.h"
#include "tensor/memory.h"
#include "cli/process.h"
#include "io/temp_files.h"

using namespace attnmt::cli;

namespace {

const Command kCommands[] = {
    {"vocab", "train a SentencePiece vocabulary on parallel files", run_vocab,
     "train on a sample of the pairs with --max-lines N"},
    {"train", "train an LSTM-attention or Transformer model", run_train,
     "a batch or a sentence pair was too big: lower --batch-tokens, skip long pairs with "
     "--max-train-length N (0 turns that off), or choose a smaller model"},
    {"translate", "translate a text file with beam search", run_translate,
     "a batch was too big: lower --batch-tokens or --batch-size, cut long lines with "
     "--max-input-length N, or use a smaller --beam"},
    {"align", "export source-target alignments (Pharaoh, soft, JSON, SVG heatmaps)", run_align,
     "a batch was too big: lower --batch-tokens or --batch-size, or cut long lines with "
     "--max-input-length N"},
    {"score", "score translations with BLEU and chrF (sacreBLEU-compatible)", run_score,
     "both files are read whole: score them in parts"},
    {"info", "describe a model file", run_info, "the model file is read whole into memory"},
    {"convert", "rewrite a model file storing its tensors as float16, float32 or int8",
     run_convert, "the model file is read whole into memory"},
    {"average", "average the weights of several models or checkpoints of one run", run_average,
     "a model file is read whole into memory, and two at once"},
    {"plot", "draw learning curves (dev BLEU, loss) of training runs as SVG", run_plot,
     "the records are read whole into memory"},
    {"serve", "translate over HTTP (JSON API) and show the attention on a web page", run_serve,
     "lower --max-batch, --max-lines or --max-beam"},
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

// "out of memory: " what ran over the limit (when it was the tensors' limit), then what bounds
// the command's memory.
void print_out_of_memory(const char* command, const std::bad_alloc& e, const char* bounds) {
  if (dynamic_cast<const attnmt::TensorMemoryLimit*>(&e))
    fmt::print(stderr, "attnmt {}: error: out of memory: {}.\n{}\n", command, e.what(), bounds);
  else
    fmt::print(stderr, "attnmt {}: error: out of memory: {}\n", command, bounds);
}

const Command* g_running = nullptr;  // for the terminate handler's message

// An exception that escapes where it cannot be caught (an OpenMP worker, a noexcept function)
// ends in std::terminate: say what it was, as main() would have, instead of aborting with a
// core dump. Out of memory is the usual case (a batch or a sentence far too big).
[[noreturn]] void on_terminate() {
  const char* name = g_running ? g_running->name : "";
  if (std::exception_ptr e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::bad_alloc& e) {
      print_out_of_memory(name, e, g_running ? g_running->out_of_memory : "");
    } catch (const std::exception& ex) {
      fmt::print(stderr, "attnmt {}: error: {}\n", name, ex.what());
    } catch (...) {
      fmt::print(stderr, "attnmt {}: error: unknown exception\n", name);
    }
    std::fflush(stderr);
    attnmt::remove_registered_temp_files();
    std::_Exit(1);
  }
  std::abort();
}

}  // namespace

int main(int argc, char** argv) {
  attnmt::setup_process(argv);
  std::set_terminate(on_terminate);
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
    g_running = &c;
    try {
      const int code = c.run(argc - 1, argv + 1);
      // What the command printed may still sit in a buffer: a full disk or a closed pipe shows
      // only now, and must not end in exit 0.
      std::cout.flush();
      if (std::fflush(stdout) != 0 || std::ferror(stdout) || !std::cout)
        attnmt::fail("cannot write to standard output: {}", std::strerror(errno));
      return code;
    } catch (const UsageError& e) {
      fmt::print(stderr, "attnmt {}: {}\n\n{}", c.name, e.what(), e.usage());
      return 2;
    } catch (const attnmt::Error& e) {
      fmt::print(stderr, "attnmt {}: error: {}\n", c.name, e.what());
      return 1;
    } catch (const std::bad_alloc& e) {
      print_out_of_memory(c.name, e, c.out_of_memory);
      return 1;
    } catch (const std::exception& e) {
      fmt::print(stderr, "attnmt {}: error: {}\n", c.name, e.what());
      return 1;
    }
  }
  fmt::print(stderr, "attnmt: unknown command '{}'\n\n{}", first, main_usage());
  return 2;
}
