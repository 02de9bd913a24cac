// Alignment error rate on hand-computed cases, through the library and `attnmt score
// --alignments`.
#include "eval/aer.h"
#include "helpers.h"

using namespace attnmt;
using namespace attnmt::eval;
using namespace attnmt::testing;

TEST_CASE("AER, precision and recall of hand-made alignments", "[eval][aer]") {
  // Gold: sure 0-0 and 2-2, possible 1?1. Proposed: 0-0 (sure hit), 1-1 (possible hit), 1-2
  // (a miss): |A| 3, |S| 2, |A&S| 1, |A&P| 2.
  const Links gold = parse_links("0-0 1?1 2-2", "gold:1", true);
  CHECK(gold.sure.size() == 2);
  CHECK(gold.possible.size() == 3);
  AerScore s;
  s.add(parse_links("0-0 1-1 1-2", "hyp:1", false), gold);
  CHECK(s.precision() == Approx(2.0 / 3));
  CHECK(s.recall() == Approx(1.0 / 2));
  CHECK(s.aer() == Approx(1.0 - 3.0 / 5));
  // The other direction's links, flipped, are the same proposal.
  AerScore flipped;
  flipped.add(parse_links("0-0 1-1 2-1", "hyp:1", false, /*flip=*/true), gold);
  CHECK(flipped.aer() == Approx(s.aer()));
  // Counts add over the corpus: a second pair with one sure link and nothing proposed.
  s.add(parse_links("", "hyp:2", false), parse_links("0-1", "gold:2", true));
  CHECK(s.aer() == Approx(1.0 - 3.0 / 6));
  CHECK(s.recall() == Approx(1.0 / 3));
  CHECK(s.format() ==
        "AER = 50.00 (precision 66.67, recall 33.33; 3 links proposed, 3 sure, 4 possible)");
  // Perfect: every sure link and nothing else.
  AerScore perfect;
  perfect.add(parse_links("0-0 2-2", "h", false), gold);
  CHECK(perfect.aer() == Approx(0.0));
  // Duplicated links count once.
  CHECK(parse_links("3-4 3-4", "h", false).possible.size() == 1);
}

TEST_CASE("malformed alignment lines are refused with file:line", "[eval][aer]") {
  for (const std::string bad : {"0-x", "1", "-1-2", "1-2-3", "a-b", "1--2"}) {
    INFO(bad);
    CHECK_THROWS_WITH(parse_links(bad, "f.align:7", true),
                      Catch::Contains("f.align:7") && Catch::Contains("not a link"));
  }
  CHECK_THROWS_WITH(parse_links("0?1", "h.align:2", false), Catch::Contains("possible link"));
}

TEST_CASE("attnmt score --alignments prints AER, precision and recall", "[eval][aer][cli]") {
  TempDir dir("aer-cli");
  const std::string d = dir.path().string();
  write_text(d + "/gold.align", "0-0 1?1 2-2\n0-1\n");
  write_text(d + "/hyp.align", "0-0 1-1 1-2\n\n");
  write_text(d + "/rev.align", "0-0 1-1 2-1\n\n");
  auto r = run_attnmt("score --alignments --hyp " + d + "/hyp.align --ref " + d + "/gold.align");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out ==
        "AER = 50.00 (precision 66.67, recall 33.33; 3 links proposed, 3 sure, 4 possible)\n");
  auto f = run_attnmt("score --alignments --flip --json --hyp " + d + "/rev.align --ref " + d +
                      "/gold.align");
  CHECK(f.exit_code == 0);
  CHECK(f.out.find("\"score\": 50.00") != std::string::npos);
  CHECK(f.out.find("\"flip\": true") != std::string::npos);
  write_text(d + "/short.align", "0-0\n");
  auto m = run_attnmt("score --alignments --hyp " + d + "/short.align --ref " + d + "/gold.align");
  CHECK(m.exit_code == 1);
  CHECK(m.err.find("1 lines but gold file") != std::string::npos);
  auto u = run_attnmt("score --alignments --metric bleu --hyp " + d + "/hyp.align --ref " + d +
                      "/gold.align");
  CHECK(u.exit_code == 2);
  write_text(d + "/bad.align", "0-0\n2?1\n");
  auto b = run_attnmt("score --alignments --hyp " + d + "/bad.align --ref " + d + "/gold.align");
  CHECK(b.exit_code == 1);
  CHECK(b.err.find("bad.align:2") != std::string::npos);
}
