// `attnmt score` end to end: the numbers from files equal sacreBLEU's published ones (README:
// "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)" and
// "chrF2 = 59.73"), and bad input fails clearly.
#include "helpers.h"

using namespace attnmt::testing;

namespace {

const char* kReadmeBleu =
    "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)";

// sacreBLEU's README example as files: hyp, ref1, ref2.
struct ReadmeFiles {
  TempDir dir{"score"};
  std::string hyp = dir.file("hyp.txt"), ref1 = dir.file("ref1.txt"), ref2 = dir.file("ref2.txt");
  ReadmeFiles() {
    write_text(hyp, "The dog bit the man.\nIt wasn't surprising.\nThe man had just bitten him.\n");
    write_text(ref1, "The dog bit the man.\nIt was not unexpected.\nThe man bit him first.\n");
    write_text(ref2,
               "The dog had bit the man.\nNo one was surprised.\nThe man had bitten the dog.\n");
  }
};

}  // namespace

TEST_CASE("attnmt score prints sacreBLEU's BLEU and chrF lines", "[eval][cli]") {
  ReadmeFiles f;
  auto r = run_attnmt("score --hyp '" + f.hyp + "' --ref '" + f.ref1 + "' '" + f.ref2 + "'");
  CHECK(r.exit_code == 0);
  CHECK(r.out == std::string(kReadmeBleu) + "\nchrF2 = 59.73\n");
  // --metric picks and orders the metrics; --tokenize none gives sacreBLEU's 49.19 (test_bleu.py)
  auto none = run_attnmt("score --metric bleu --tokenize none --hyp '" + f.hyp + "' --ref '" +
                         f.ref1 + "' '" + f.ref2 + "'");
  CHECK(none.exit_code == 0);
  CHECK(none.out.rfind("BLEU = 49.19 ", 0) == 0);
  CHECK(none.out.find("chrF") == std::string::npos);
}

TEST_CASE("attnmt score reads CRLF files without a final newline the same way", "[eval][cli]") {
  ReadmeFiles f;
  write_text(f.hyp,
             "The dog bit the man.\r\nIt wasn't surprising.\r\nThe man had just bitten him.");
  auto r = run_attnmt("score --hyp '" + f.hyp + "' --ref '" + f.ref1 + "' '" + f.ref2 + "'");
  CHECK(r.exit_code == 0);
  CHECK(r.out == std::string(kReadmeBleu) + "\nchrF2 = 59.73\n");
}

TEST_CASE("attnmt score --json gives one object per metric", "[eval][cli]") {
  ReadmeFiles f;
  auto r = run_attnmt("score --json --hyp '" + f.hyp + "' --ref '" + f.ref1 + "' '" + f.ref2 + "'");
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("\"name\": \"BLEU\", \"score\": 48.53,") != std::string::npos);
  CHECK(r.out.find("\"name\": \"chrF2\", \"score\": 59.73,") != std::string::npos);
  CHECK(r.out.find("nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp") != std::string::npos);
}

TEST_CASE("attnmt score refuses files whose line counts differ, naming both", "[eval][cli]") {
  ReadmeFiles f;
  std::string short_ref = f.dir.file("short.txt");
  write_text(short_ref, "The dog bit the man.\nIt was not unexpected.\n");
  auto r = run_attnmt("score --hyp '" + f.hyp + "' --ref '" + short_ref + "'");
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("hyp.txt' has 3 lines") != std::string::npos);
  CHECK(r.err.find("short.txt' has 2") != std::string::npos);
  CHECK(r.out.empty());
}

TEST_CASE("attnmt score reports missing files, bad UTF-8 and empty references", "[eval][cli]") {
  ReadmeFiles f;
  auto missing = run_attnmt("score --hyp '" + f.dir.file("nope.txt") + "' --ref '" + f.ref1 + "'");
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("nope.txt") != std::string::npos);

  std::string bad = f.dir.file("bad.txt");
  write_text(bad, "fine\nbro\xFFken\nfine\n");
  auto r = run_attnmt("score --hyp '" + bad + "' --ref '" + f.ref1 + "'");
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("bad.txt:2: invalid UTF-8") != std::string::npos);

  std::string gap = f.dir.file("gap.txt");
  write_text(gap, "The dog bit the man.\n\nThe man bit him first.\n");
  auto e = run_attnmt("score --hyp '" + f.hyp + "' --ref '" + gap + "'");
  CHECK(e.exit_code == 1);
  CHECK(e.err.find("line 2") != std::string::npos);
}

TEST_CASE("attnmt score rejects an unknown metric or tokenizer with usage, exit 2", "[eval][cli]") {
  ReadmeFiles f;
  std::string files = " --hyp '" + f.hyp + "' --ref '" + f.ref1 + "'";
  auto metric = run_attnmt("score --metric bleu,ter" + files);
  CHECK(metric.exit_code == 2);
  CHECK(metric.err.find("unknown metric 'ter'") != std::string::npos);
  CHECK(metric.err.find("usage: attnmt score") != std::string::npos);
  auto tok = run_attnmt("score --tokenize intl" + files);
  CHECK(tok.exit_code == 2);
  CHECK(tok.err.find("unknown tokenizer 'intl'") != std::string::npos);
  CHECK(tok.err.find("usage: attnmt score") != std::string::npos);
}
