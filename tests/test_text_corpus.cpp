// Corpus reading and validation (text/corpus.h, text/utf8.h), and every input error of
// `attnmt vocab` through the CLI: message names the file and line, exit code 1.
#include <fmt/format.h>

#include "helpers.h"
#include "tensor/error.h"
#include "text/corpus.h"
#include "text/utf8.h"
#include "text/vocab.h"

using namespace attnmt;
using namespace attnmt::testing;

namespace {

// A small, varied parallel text that SentencePiece can train a ~60-piece vocabulary on.
std::pair<std::string, std::string> toy_lines(int n) {
  const char* nouns[] = {"cat", "dog", "bird", "fish", "horse", "teacher", "child"};
  const char* ja[] = {"猫", "犬", "鳥", "魚", "馬", "先生", "子供"};
  const char* verbs[] = {"saw", "heard", "liked", "found", "watched"};
  const char* ja_verbs[] = {"見 た", "聞 い た", "好き だっ た", "見つけ た", "眺め た"};
  std::string en, jp;
  for (int i = 0; i < n; ++i) {
    en += fmt::format("the {} {} {} {} times .\n", nouns[i % 7], verbs[i % 5], nouns[(i / 7) % 7],
                      i % 11);
    jp += fmt::format("{} は {} を {} 回 {} 。\n", ja[i % 7], ja[(i / 7) % 7], i % 11,
                      ja_verbs[i % 5]);
  }
  return {en, jp};
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("the UTF-8 validator accepts valid text and finds each kind of bad sequence",
          "[text][corpus]") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ascii ."));
  CHECK(is_valid_utf8("caf\xC3\xA9 \xE7\x8C\xAB \xF0\x9F\x98\x80"));  // é 猫 😀
  CHECK(is_valid_utf8("\xF4\x8F\xBF\xBF"));                           // U+10FFFF, the last
  CHECK(is_valid_utf8("\xED\x9F\xBF"));                               // U+D7FF, below surrogates
  CHECK(find_invalid_utf8("ab\xC0\x80") == 2);                        // overlong NUL
  CHECK(find_invalid_utf8("\xC1\xBF") == 0);                          // overlong 2-byte
  CHECK(find_invalid_utf8("x\xE0\x80\xAF") == 1);                     // overlong 3-byte
  CHECK(find_invalid_utf8("\xF0\x8F\xBF\xBF") == 0);                  // overlong 4-byte
  CHECK(find_invalid_utf8("ok\xED\xA0\x80") == 2);                    // surrogate U+D800
  CHECK(find_invalid_utf8("\xF4\x90\x80\x80") == 0);                  // U+110000
  CHECK(find_invalid_utf8("\xF5\x80\x80\x80") == 0);                  // lead byte out of range
  CHECK(find_invalid_utf8("abc\xE7\x8C") == 3);                       // truncated at the end
  CHECK(find_invalid_utf8("\xE7\x8C"
                          "a") == 0);      // truncated before ASCII
  CHECK(find_invalid_utf8("a\x80") == 1);  // stray continuation
  CHECK(find_invalid_utf8("\xFF") == 0);
}

TEST_CASE("ParallelReader strips CR, skips and counts empty pairs, keeps line numbers",
          "[text][corpus]") {
  TempDir dir("text");
  write_text(dir.file("a.en"), "one\r\n\ntwo words\n  \nthree\nfour\n");
  write_text(dir.file("a.ja"), "一\r\n二\n\n四\n五\n六");  // last line without newline
  ParallelReader reader(dir.file("a.en"), dir.file("a.ja"));
  SentencePair p;
  std::vector<int64_t> lines;
  std::vector<std::string> src, tgt;
  while (reader.next(p)) {
    lines.push_back(p.line_no);
    src.push_back(p.src);
    tgt.push_back(p.tgt);
  }
  CHECK(lines == std::vector<int64_t>{1, 5, 6});
  CHECK(src == std::vector<std::string>{"one", "three", "four"});
  CHECK(tgt == std::vector<std::string>{"一", "五", "六"});
  CHECK(reader.stats().read == 6);
  CHECK(reader.stats().kept == 3);
  CHECK(reader.stats().skipped_empty == 3);
  CHECK(has(describe(reader.stats()), "3 with an empty side"));
}

TEST_CASE("ParallelReader errors name the files and the line", "[text][corpus]") {
  TempDir dir("text");
  write_text(dir.file("a.en"), "a\nb\nc\n");
  write_text(dir.file("a.ja"), "x\ny\n");
  write_text(dir.file("bad.ja"), "x\ny\xC0\xAF\nz\n");
  SECTION("missing file") {
    try {
      ParallelReader r(dir.file("a.en"), dir.file("nope.ja"));
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(has(e.what(), "nope.ja"));
    }
  }
  SECTION("different line counts") {
    ParallelReader r(dir.file("a.en"), dir.file("a.ja"));
    SentencePair p;
    try {
      while (r.next(p)) {
      }
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(has(e.what(), dir.file("a.en")));
      CHECK(has(e.what(), dir.file("a.ja")));
      CHECK(has(e.what(), "line 3"));
    }
  }
  SECTION("invalid UTF-8, then skipped with skip_bad_lines") {
    SentencePair p;
    ParallelReader strict(dir.file("a.en"), dir.file("bad.ja"));
    REQUIRE(strict.next(p));
    try {
      strict.next(p);
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(has(e.what(), dir.file("bad.ja") + ":2"));
    }
    ReaderOptions o;
    o.skip_bad_lines = true;
    ParallelReader lenient(dir.file("a.en"), dir.file("bad.ja"), o);
    int kept = 0;
    while (lenient.next(p)) ++kept;
    CHECK(kept == 2);
    CHECK(lenient.stats().skipped_bad_utf8 == 1);
  }
}

TEST_CASE("LineReader keeps empty lines and rejects invalid UTF-8 with file:line",
          "[text][corpus]") {
  TempDir dir("text");
  write_text(dir.file("in.txt"),
             "\xEF\xBB\xBF"
             "first\r\n\nthird\n");  // BOM dropped
  write_text(dir.file("bad.txt"), "ok\nok\n\xE3\x81\n");
  LineReader r(dir.file("in.txt"));
  std::string line;
  int64_t no = 0;
  std::vector<std::string> got;
  while (r.next(line, no)) got.push_back(line);
  CHECK(got == std::vector<std::string>{"first", "", "third"});
  CHECK(no == 3);
  LineReader bad(dir.file("bad.txt"));
  REQUIRE(bad.next(line, no));
  REQUIRE(bad.next(line, no));
  try {
    bad.next(line, no);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(has(e.what(), dir.file("bad.txt") + ":3"));
  }
  CHECK_THROWS_AS(LineReader(dir.file("missing.txt")), Error);
}

TEST_CASE("load_corpus encodes kept pairs and skips over-long ones", "[text][corpus]") {
  TempDir dir("text");
  auto [en, ja] = toy_lines(200);
  write_text(dir.file("toy.en"), en);
  write_text(dir.file("toy.ja"), ja);
  Vocab v = train_test_vocab(dir.file("toy.en"), dir.file("toy.ja"), 60, dir.file("toy"));
  // Extra pairs: an empty one and one much longer than the rest.
  std::string long_en = "the cat saw the dog";
  for (int i = 0; i < 20; ++i) long_en += " and the bird";
  write_text(dir.file("mix.en"),
             "the cat saw 1 times .\n\n" + long_en + "\nthe dog saw 2 times .\n");
  write_text(dir.file("mix.ja"),
             "猫 は 1 回 見 た 。\n犬\n犬 は 見 た 。\n犬 は 2 回 聞 い た 。\n");
  ReaderOptions ro;
  ro.max_length = 30;
  ParallelCorpus c = load_corpus(dir.file("mix.en"), dir.file("mix.ja"), v, v, ro);
  REQUIRE(c.size() == 2);
  CHECK(c.line_no == std::vector<int64_t>{1, 4});
  CHECK(c.src[0] == v.encode("the cat saw 1 times ."));
  CHECK(c.tgt[1] == v.encode("犬 は 2 回 聞 い た 。"));
  CHECK(c.stats.read == 4);
  CHECK(c.stats.kept == 2);
  CHECK(c.stats.skipped_empty == 1);
  CHECK(c.stats.skipped_too_long == 1);
  CHECK(has(describe(c.stats), "1 too long"));
}

TEST_CASE("attnmt vocab reports input errors with file, line and exit code 1",
          "[text][corpus][cli]") {
  TempDir dir("text");
  auto [en, ja] = toy_lines(200);
  write_text(dir.file("toy.en"), en);
  write_text(dir.file("toy.ja"), ja);
  write_text(dir.file("short.ja"), ja.substr(0, ja.find('\n') + 1));
  size_t line3 = ja.find('\n', ja.find('\n') + 1) + 1;
  std::string bad_ja = ja.substr(0, line3);
  bad_ja.push_back('\xFF');  // line 3 starts with an invalid byte
  bad_ja.append(ja, line3);
  write_text(dir.file("bad.ja"), bad_ja);
  auto vocab = [&](const std::string& src, const std::string& tgt, const std::string& extra) {
    std::string size = extra.find("--size") == std::string::npos ? "--size 60" : "";
    return run_attnmt(fmt::format("vocab --src '{}' --tgt '{}' {} -o '{}' --threads 1 {}",
                                  dir.file(src), dir.file(tgt), size, dir.file("out"), extra));
  };

  auto missing = vocab("toy.en", "absent.ja", "");
  CHECK(missing.exit_code == 1);
  CHECK(has(missing.err, dir.file("absent.ja")));

  auto counts = vocab("toy.en", "short.ja", "");
  CHECK(counts.exit_code == 1);
  CHECK(has(counts.err, dir.file("toy.en")));
  CHECK(has(counts.err, dir.file("short.ja")));
  CHECK(has(counts.err, "line 2"));

  auto bad = vocab("toy.en", "bad.ja", "");
  CHECK(bad.exit_code == 1);
  CHECK(has(bad.err, dir.file("bad.ja") + ":3"));
  CHECK(!fs::exists(dir.file("out.model")));  // nothing half-written

  auto skipped = vocab("toy.en", "bad.ja", "--skip-bad-lines");
  CHECK(skipped.exit_code == 0);
  CHECK(has(skipped.err, "1 not UTF-8 text"));
  CHECK(has(skipped.out, dir.file("out.model")));
  CHECK(fs::exists(dir.file("out.model")));
  CHECK(fs::exists(dir.file("out.vocab")));

  // Too many pieces: the unigram model takes the size as a limit (a warning); BPE cannot, and
  // says how many fit.
  auto too_big = vocab("toy.en", "toy.ja", "--size 50000");
  CHECK(too_big.exit_code == 0);
  CHECK(has(too_big.err, "warning: this corpus gives only"));
  auto too_big_bpe = vocab("toy.en", "toy.ja", "--size 50000 --model-type bpe");
  CHECK(too_big_bpe.exit_code == 1);
  CHECK(has(too_big_bpe.err, "ask for at most that many with --size"));
  CHECK(has(too_big_bpe.err, dir.file("toy.ja")));

  CHECK(vocab("toy.en", "toy.ja", "--model-type word").exit_code == 2);  // a usage error
  auto no_folder =
      run_attnmt(fmt::format("vocab --src '{}' --tgt '{}' --size 60 -o '{}'", dir.file("toy.en"),
                             dir.file("toy.ja"), dir.file("no/such/folder/v")));
  CHECK(no_folder.exit_code == 1);
  CHECK(has(no_folder.err, dir.file("no/such/folder")));
  auto wrong = vocab("toy.en", "toy.ja", "--no-such-option");
  CHECK(wrong.exit_code == 2);
  CHECK(has(wrong.err, "usage: attnmt vocab"));
  CHECK(vocab("toy.en", "toy.ja", "--size lots").exit_code == 2);
}

TEST_CASE("attnmt vocab counts empty and too-long pairs and can train separate models",
          "[text][corpus][cli]") {
  TempDir dir("text");
  auto [en, ja] = toy_lines(200);
  std::string long_line = "the cat";
  for (int i = 0; i < 30; ++i) long_line += " and the dog";
  write_text(dir.file("x.en"), en + "\n" + long_line + "\nthe bird saw 3 times .\n");
  write_text(dir.file("x.ja"), ja + "鳥\n鳥 と 犬\n\n");
  auto r = run_attnmt(fmt::format(
      "vocab --src '{}' --tgt '{}' --size 40 -o '{}' --separate --max-words 20 --threads 1",
      dir.file("x.en"), dir.file("x.ja"), dir.file("sep")));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(has(r.err, "read 203 pairs, kept 200"));
  CHECK(has(r.err, "2 with an empty side"));
  CHECK(has(r.err, "1 too long"));
  for (const char* f : {"sep.src.model", "sep.src.vocab", "sep.tgt.model", "sep.tgt.vocab"})
    CHECK(fs::exists(dir.file(f)));
  // Separate means separate: the Japanese characters are not in the source vocabulary.
  Vocab src = Vocab::load(dir.file("sep.src.model"));
  Vocab tgt = Vocab::load(dir.file("sep.tgt.model"));
  CHECK(src.size() == 40);
  CHECK(tgt.size() == 40);
  CHECK(src.encode("猫") != tgt.encode("猫"));
  std::vector<int> cat = tgt.encode("猫");
  CHECK(std::find(cat.begin(), cat.end(), kUnkId) == cat.end());
  cat = src.encode("猫");
  CHECK(std::find(cat.begin(), cat.end(), kUnkId) != cat.end());
}

TEST_CASE("attnmt vocab trains BPE and samples --max-lines pairs", "[text][corpus][cli]") {
  TempDir dir("text");
  auto [en, ja] = toy_lines(300);
  write_text(dir.file("t.en"), en);
  write_text(dir.file("t.ja"), ja);
  auto r = run_attnmt(
      fmt::format("vocab --src '{}' --tgt '{}' --size 70 -o '{}' --model-type bpe --max-lines 120 "
                  "--threads 1",
                  dir.file("t.en"), dir.file("t.ja"), dir.file("bpe")));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(has(r.out, "on 120 sentence pairs"));
  CHECK(has(r.err, "read 300 pairs, kept 300"));
  Vocab v = Vocab::load(dir.file("bpe.model"));
  CHECK(v.size() == 70);
  CHECK(v.decode(v.encode("the dog heard cat 3 times .")) == "the dog heard cat 3 times .");
  // The .vocab listing has one "piece<TAB>score" line per id, specials first.
  std::string listing = read_text(dir.file("bpe.vocab"));
  CHECK(std::count(listing.begin(), listing.end(), '\n') == 70);
  CHECK(listing.starts_with("<pad>\t0\n<unk>\t0\n<s>\t0\n</s>\t0\n"));
}
