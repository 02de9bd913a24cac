// The validating readers and load_corpus(). Encoding runs in chunks so that the corpus is
// streamed while both cores tokenise (SentencePiece's Encode is const and thread-safe).
#include "text/corpus.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "tensor/error.h"
#include "text/utf8.h"
#include "text/vocab.h"

namespace attnmt {

namespace {

void open_or_fail(std::ifstream& in, const std::string& path, const char* role) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    fail("{} file '{}' does not exist: check the path", role, path);
  if (std::filesystem::is_directory(path, ec))
    fail("{} file '{}' is a directory, not a text file", role, path);
  in.open(path, std::ios::binary);
  if (!in) fail("cannot open {} file '{}': {}", role, path, std::strerror(errno));
}

// Reads one line; false at the end of the file. A read error (as opposed to EOF) fails.
bool read_line(std::istream& in, std::string& line, const std::string& path, int64_t line_no) {
  if (!std::getline(in, line)) {
    if (in.bad()) fail("{}:{}: read error: {}", path, line_no, std::strerror(errno));
    return false;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  // A UTF-8 byte-order mark (as some Windows editors write) is not part of the first sentence.
  if (line_no == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
  return true;
}

bool is_blank(const std::string& s) { return s.find_first_not_of(" \t\v\f") == std::string::npos; }

}  // namespace

int count_words(const std::string& line) {
  int n = 0;
  bool in_word = false;
  for (char c : line) {
    bool space = c == ' ' || c == '\t';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

std::string describe(const ReaderStats& s) {
  std::string out = fmt::format("read {} pairs, kept {}", s.read, s.kept);
  std::vector<std::string> parts;
  if (s.skipped_empty) parts.push_back(fmt::format("{} with an empty side", s.skipped_empty));
  if (s.skipped_bad_utf8) parts.push_back(fmt::format("{} not UTF-8 text", s.skipped_bad_utf8));
  if (s.skipped_too_long) parts.push_back(fmt::format("{} too long", s.skipped_too_long));
  if (parts.empty()) return out + "; skipped none";
  out += "; skipped ";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
  return out;
}

ParallelReader::ParallelReader(std::string src_path, std::string tgt_path, ReaderOptions options)
    : src_path_(std::move(src_path)), tgt_path_(std::move(tgt_path)), options_(options) {
  open_or_fail(src_in_, src_path_, "source");
  open_or_fail(tgt_in_, tgt_path_, "target");
}

bool ParallelReader::next(SentencePair& pair) {
  for (;;) {
    int64_t line_no = line_no_ + 1;
    bool has_src = read_line(src_in_, pair.src, src_path_, line_no);
    bool has_tgt = read_line(tgt_in_, pair.tgt, tgt_path_, line_no);
    if (!has_src && !has_tgt) return false;
    if (has_src != has_tgt) {
      const std::string& ended = has_src ? tgt_path_ : src_path_;
      const std::string& longer = has_src ? src_path_ : tgt_path_;
      fail(
          "'{}' ends after line {} but '{}' goes on at line {}: the two files must have the "
          "same number of lines (one sentence per line, aligned)",
          ended, line_no - 1, longer, line_no);
    }
    line_no_ = line_no;
    pair.line_no = line_no;
    ++stats_.read;
    bool bad = false;
    for (int side = 0; side < 2 && !bad; ++side) {
      const std::string& text = side == 0 ? pair.src : pair.tgt;
      const std::string problem = find_text_problem(text);
      if (problem.empty()) continue;
      if (!options_.skip_bad_lines)
        fail("{}:{}: {} (or pass --skip-bad-lines to skip such pairs)",
             side == 0 ? src_path_ : tgt_path_, line_no, problem);
      bad = true;
    }
    if (bad) {
      ++stats_.skipped_bad_utf8;
      continue;
    }
    if (is_blank(pair.src) || is_blank(pair.tgt)) {
      ++stats_.skipped_empty;
      continue;
    }
    if (options_.max_words > 0 && (count_words(pair.src) > options_.max_words ||
                                   count_words(pair.tgt) > options_.max_words)) {
      ++stats_.skipped_too_long;
      continue;
    }
    ++stats_.kept;
    return true;
  }
}

LineReader::LineReader(std::string path, std::string role) {
  if (path == "-" || path.empty()) {
    name_ = "<stdin>";
    in_ = &std::cin;
    return;
  }
  name_ = std::move(path);
  open_or_fail(file_, name_, role.c_str());
  in_ = &file_;
}

bool LineReader::next(std::string& line) {
  if (!read_line(*in_, line, name_, line_no_ + 1)) return false;
  ++line_no_;
  const std::string problem = find_text_problem(line);
  if (!problem.empty()) fail("{}:{}: {}", name_, line_no_, problem);
  return true;
}

int64_t count_lines(const std::string& path, const std::string& role) {
  std::ifstream in;
  open_or_fail(in, path, role.c_str());
  std::vector<char> block(1 << 20);
  int64_t lines = 0;
  char last = '\n';
  while (in) {
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    lines += std::count(block.data(), block.data() + got, '\n');
    last = block[static_cast<size_t>(got) - 1];
  }
  if (in.bad()) fail("{} file '{}': read error: {}", role, path, std::strerror(errno));
  return lines + (last != '\n');
}

std::vector<std::string> read_lines(const std::string& path, const std::string& role) {
  LineReader reader(path, role);
  std::vector<std::string> lines;
  for (std::string line; reader.next(line);) lines.push_back(std::move(line));
  return lines;
}

ParallelCorpus load_corpus(const std::string& src_path, const std::string& tgt_path,
                           const Vocab& src_vocab, const Vocab& tgt_vocab,
                           const ReaderOptions& options) {
  ATTNMT_CHECK(!src_vocab.empty() && !tgt_vocab.empty(), "load_corpus: vocabulary not loaded");
  ParallelReader reader(src_path, tgt_path, options);
  ParallelCorpus corpus;
  int64_t too_long = 0;
  constexpr int kChunk = 4096;
  std::vector<SentencePair> chunk(kChunk);
  std::vector<std::vector<int>> src_ids(kChunk), tgt_ids(kChunk);
  for (;;) {
    int n = 0;
    while (n < kChunk && reader.next(chunk[n])) ++n;
    if (n == 0) break;
    // An exception must not leave an OpenMP region: keep the first message, throw after.
    std::string error;
#pragma omp parallel for schedule(dynamic, 64)
    for (int i = 0; i < n; ++i) {
      try {
        src_ids[i] = src_vocab.encode(chunk[i].src);
        tgt_ids[i] = tgt_vocab.encode(chunk[i].tgt);
      } catch (const std::exception& e) {
#pragma omp critical
        if (error.empty()) error = fmt::format("line {}: {}", chunk[i].line_no, e.what());
      }
    }
    if (!error.empty()) fail("encoding '{}' / '{}', {}", src_path, tgt_path, error);
    for (int i = 0; i < n; ++i) {
      int limit = options.max_length;
      if (limit > 0 && (static_cast<int>(src_ids[i].size()) > limit ||
                        static_cast<int>(tgt_ids[i].size()) > limit)) {
        ++too_long;
        continue;
      }
      corpus.src.push_back(std::move(src_ids[i]));
      corpus.tgt.push_back(std::move(tgt_ids[i]));
      corpus.line_no.push_back(chunk[i].line_no);
    }
    if (n < kChunk) break;
  }
  corpus.stats = reader.stats();
  corpus.stats.skipped_too_long += too_long;
  corpus.stats.kept -= too_long;
  return corpus;
}

}  // namespace attnmt
