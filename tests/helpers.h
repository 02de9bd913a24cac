// Helpers shared by the tests: paths, running the CLI, temporary folders, the shared corpora.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "tensor/random.h"
#include "text/vocab.h"

// True in a build with AddressSanitizer (tools/test-sanitized.sh): its shadow memory needs an
// address space that `ulimit -v` takes away, so tests that limit memory skip there.
#if defined(__SANITIZE_ADDRESS__)
#define ATTNMT_TESTING_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ATTNMT_TESTING_ASAN 1
#endif
#endif
#ifndef ATTNMT_TESTING_ASAN
#define ATTNMT_TESTING_ASAN 0
#endif

namespace attnmt::testing {

namespace fs = std::filesystem;

struct RunResult {
  int exit_code;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs `attnmt <args>` through the shell (args are pasted as written: quote them yourself).
RunResult run_attnmt(const std::string& args);
// Runs a shell command line (a list or a pipeline too), capturing stdout and stderr, with
// stdin from /dev/null unless the command redirects it.
RunResult run_shell(const std::string& command);

// A generator seeded from the running TEST_CASE's name (and `salt`): a test's random inputs
// are then the same whether ctest runs it alone or it runs after others in one process.
Rng& test_rng(uint64_t salt);

// A fresh empty folder under the system temp dir, removed when the object dies.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "attnmt");
  ~TempDir();
  const fs::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

std::string read_text(const std::string& path);
// The lines of a text, without their '\n'.
std::vector<std::string> split_lines(const std::string& text);
void write_text(const std::string& path, const std::string& text);
// Whether `part` occurs in `s`.
inline bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// ../shared/corpora/small_parallel_enja, or "" when this clone has no ../shared.
std::string shared_enja_dir();
// SKIP()s the calling test, saying why, when the shared corpus is absent.
#define REQUIRE_SHARED_ENJA(dir)                                                          \
  std::string dir = ::attnmt::testing::shared_enja_dir();                                 \
  if (dir.empty()) {                                                                      \
    WARN("skipped: ../shared/corpora/small_parallel_enja is not beside this clone");      \
    return;                                                                               \
  }

}  // namespace attnmt::testing

namespace attnmt::testing {

// Trains a SentencePiece vocabulary of `size` pieces on src/tgt into PREFIX.model (1 thread)
// and loads it.
Vocab train_test_vocab(const std::string& src, const std::string& tgt, int size,
                       const std::string& prefix);

// A tiny deterministic parallel corpus (English-like -> reversed Spanish-like word lists),
// `n` distinct pairs of 2-5 words, written as dir/train.{en,es}. Used by the end-to-end tests.
void write_tiny_corpus(const std::string& dir, int n = 50);

// Gold links "0-0 1-1 ..." for each line's space-separated words: word j of the target linked to
// word j of the source (lines of equal length on both sides), or with next_word to word j + 1
// (the last word to itself). One line per line, each ending with '\n'.
std::string diagonal_gold(const std::vector<std::string>& lines, bool next_word = false);

// Loads `model_path`, translates every dir/train.en line greedily and returns how many equal
// their dir/train.es reference exactly (the others are reported through UNSCOPED_INFO).
// `n_pairs` receives the corpus size.
int count_memorised(const std::string& model_path, const std::string& dir, int64_t& n_pairs);

}  // namespace attnmt::testing
