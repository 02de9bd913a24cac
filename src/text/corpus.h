// Reading parallel and monolingual text files line by line, validating as we go: matching line
// counts, strict UTF-8, empty and over-long lines skipped and counted. Every error names the
// file and the line. load_corpus() then encodes the kept pairs with the vocabularies.
// Not here: tokenisation itself (text/vocab.h) or batching (text/batch.h).
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace attnmt {

class Vocab;

struct ReaderOptions {
  bool skip_bad_lines = false;  // not UTF-8 text: skip and count the pair instead of failing
  int max_words = 0;            // ParallelReader: skip pairs with a side over N words (0 = off)
  int max_length = 0;           // load_corpus: skip pairs with a side over N pieces (0 = off)
};

struct ReaderStats {
  int64_t read = 0;              // pairs (lines) read
  int64_t kept = 0;              // pairs handed on
  int64_t skipped_empty = 0;     // either side empty or only whitespace
  int64_t skipped_bad_utf8 = 0;  // either side invalid UTF-8 or NUL (only with skip_bad_lines)
  int64_t skipped_too_long = 0;  // either side over max_words / max_length
};

// What was skipped, one line for stderr: "read 10 pairs, kept 8; skipped: 1 empty, ...".
std::string describe(const ReaderStats& stats);

struct SentencePair {
  int64_t line_no = 0;  // 1-based, the same in both files
  std::string src, tgt;
};

// Streams two line-aligned files. A trailing '\r' is stripped from every line, a UTF-8
// byte-order mark from the first.
class ParallelReader {
 public:
  ParallelReader(std::string src_path, std::string tgt_path, ReaderOptions options = {});
  // The next kept pair; false at the end of both files. Throws attnmt::Error on a line-count
  // mismatch, a read error, or a line that is not UTF-8 text (invalid UTF-8, NUL bytes: see
  // find_text_problem), unless skip_bad_lines.
  bool next(SentencePair& pair);
  const ReaderStats& stats() const { return stats_; }

 private:
  std::string src_path_, tgt_path_;
  ReaderOptions options_;
  std::ifstream src_in_, tgt_in_;
  int64_t line_no_ = 0;
  ReaderStats stats_;
};

// Streams one file of lines, or standard input for "-" (named "<stdin>" in messages): the one
// line reader of the project (translation input, alignment input, scoring). Empty lines are
// returned, not skipped, so that output lines stay aligned with input lines; a trailing '\r'
// and a leading byte-order mark are stripped; invalid UTF-8 or a NUL byte is an error naming
// file:line.
class LineReader {
 public:
  // `role` names the file in messages ("input", "hypothesis", ...).
  explicit LineReader(std::string path, std::string role = "input");
  bool next(std::string& line);
  bool next(std::string& line, int64_t& line_no) {
    bool ok = next(line);
    line_no = line_no_;
    return ok;
  }
  int64_t line_no() const { return line_no_; }  // of the last line returned (1-based)
  const std::string& name() const { return name_; }

 private:
  std::string name_;  // the path, or "<stdin>"
  std::ifstream file_;
  std::istream* in_ = nullptr;
  int64_t line_no_ = 0;
};

// The number of lines of a file as LineReader counts them (a last line without '\n' counts).
// Throws attnmt::Error naming the file (`role`) when it cannot be read.
int64_t count_lines(const std::string& path, const std::string& role = "input");

// Every line of a file (or "-" for stdin), read with LineReader.
std::vector<std::string> read_lines(const std::string& path, const std::string& role = "input");


// Encoded kept pairs, without BOS/EOS (batching adds those).
struct ParallelCorpus {
  std::vector<std::vector<int>> src, tgt;  // [N][len] piece ids
  std::vector<int64_t> line_no;            // [N] 1-based line of each pair in the files
  // Guided alignment (train --guided-alignment, train/guided_alignment.h): [N] the pair's links
  // as (source piece, target piece) indices; empty as a whole when training is not guided, and
  // for a pair without links.
  std::vector<std::vector<std::pair<int, int>>> guide;
  ReaderStats stats;
  int64_t size() const { return static_cast<int64_t>(src.size()); }
};

// Reads, validates and encodes both files; pairs with a side over options.max_length pieces
// are skipped and counted in stats.skipped_too_long.
ParallelCorpus load_corpus(const std::string& src_path, const std::string& tgt_path,
                           const Vocab& src_vocab, const Vocab& tgt_vocab,
                           const ReaderOptions& options = {});

// Number of space/tab-separated words in a line.
int count_words(const std::string& line);

}  // namespace attnmt
