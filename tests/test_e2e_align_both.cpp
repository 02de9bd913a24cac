// End to end: `attnmt align --reverse-model` combines the word links of two tiny models of
// opposite directions, and what it prints is exactly the set operation on the links each model
// gives alone (the reverse model's flipped), for intersect and union; grow-diag-final-and lies
// between the two.
#include <cmath>
#include <set>
#include <sstream>

#include "helpers.h"

using namespace attnmt::testing;

namespace {

using WordLinks = std::set<std::pair<int, int>>;

WordLinks parse(const std::string& line, bool flip) {
  WordLinks out;
  std::istringstream in(line);
  for (std::string p; in >> p;) {
    const int i = std::stoi(p.substr(0, p.find('-'))), j = std::stoi(p.substr(p.find('-') + 1));
    out.insert(flip ? std::pair{j, i} : std::pair{i, j});
  }
  return out;
}

}  // namespace

TEST_CASE("align --reverse-model: intersect and union of the two directions' links",
          "[e2e][align][symmetrize]") {
  TempDir dir("e2e-both");
  const std::string d = dir.path().string();
  write_tiny_corpus(d, 40);
  const std::string tiny = " --vocab-size 40 --max-steps 150 --emb-dim 16 --enc-hidden 16"
                           " --dec-hidden 32 --dropout 0 --batch-tokens 300 --lr 0.01"
                           " --threads 1 -q";
  REQUIRE(run_attnmt("train --src " + d + "/train.en --tgt " + d + "/train.es -o " + d +
                     "/fwd.bin" + tiny).exit_code == 0);
  REQUIRE(run_attnmt("train --src " + d + "/train.es --tgt " + d + "/train.en -o " + d +
                     "/rev.bin" + tiny).exit_code == 0);
  const std::string pair = " --src " + d + "/train.en --tgt " + d + "/train.es --format pharaoh"
                           " --threads 1";
  auto f = run_attnmt("align -m " + d + "/fwd.bin" + pair);
  auto r = run_attnmt("align -m " + d + "/rev.bin --src " + d + "/train.es --tgt " + d +
                      "/train.en --format pharaoh --threads 1");
  auto inter = run_attnmt("align -m " + d + "/fwd.bin --reverse-model " + d + "/rev.bin" + pair +
                          " --symmetrize intersect");
  auto uni = run_attnmt("align -m " + d + "/fwd.bin --reverse-model " + d + "/rev.bin" + pair +
                        " --symmetrize union");
  auto gdfa = run_attnmt("align -m " + d + "/fwd.bin --reverse-model " + d + "/rev.bin" + pair);
  INFO(inter.err << uni.err << gdfa.err);
  REQUIRE((f.exit_code | r.exit_code | inter.exit_code | uni.exit_code | gdfa.exit_code) == 0);
  const auto fl = split_lines(f.out), rl = split_lines(r.out), il = split_lines(inter.out),
             ul = split_lines(uni.out), gl = split_lines(gdfa.out);
  REQUIRE(fl.size() == 40);
  REQUIRE((rl.size() == 40 && il.size() == 40 && ul.size() == 40 && gl.size() == 40));
  int differ = 0;
  for (size_t k = 0; k < fl.size(); ++k) {
    const WordLinks a = parse(fl[k], false), b = parse(rl[k], true);
    WordLinks both, either = a;
    for (const auto& l : a)
      if (b.count(l)) both.insert(l);
    either.insert(b.begin(), b.end());
    CHECK(parse(il[k], false) == both);
    CHECK(parse(ul[k], false) == either);
    const WordLinks g = parse(gl[k], false);
    for (const auto& l : both) CHECK(g.count(l) == 1);
    for (const auto& l : g) CHECK(either.count(l) == 1);
    differ += a != b;
  }
  INFO(differ << " of 40 lines where the two directions disagree");
  // agree: links where the product of the two matrices is the best of its row and its column,
  // so no word has two links (agreement_links, tested on hand-made matrices on its own).
  auto agree = run_attnmt("align -m " + d + "/fwd.bin --reverse-model " + d + "/rev.bin" + pair +
                          " --symmetrize agree");
  INFO(agree.err);
  REQUIRE(agree.exit_code == 0);
  const auto al = split_lines(agree.out);
  REQUIRE(al.size() == 40);
  size_t agreed = 0;
  for (const std::string& line : al) {
    std::set<int> sources, targets;
    for (const auto& [i, j] : parse(line, false)) {
      CHECK(sources.insert(i).second);
      CHECK(targets.insert(j).second);
      ++agreed;
    }
  }
  CHECK(agreed >= 40);
  // Refused without given targets or with another format, before any work.
  auto bad = run_attnmt("align -m " + d + "/fwd.bin --reverse-model " + d + "/rev.bin --src " + d +
                        "/train.en --format pharaoh");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("needs --tgt") != std::string::npos);
  auto lone = run_attnmt("align -m " + d + "/fwd.bin" + pair + " --symmetrize union");
  CHECK(lone.exit_code == 2);
  CHECK(lone.err.find("--reverse-model") != std::string::npos);
  // Each model aligns its own calibrated way. The reverse model calibrated against the diagonal
  // (its attention follows the reversal, so a diagonal tension wins) keeps its settings under
  // --reverse-model, and the forward model keeps its own (the defaults).
  {
    write_text(d + "/diag.align", diagonal_gold(split_lines(read_text(d + "/train.es"))));
    auto cal = run_attnmt("align -m " + d + "/rev.bin --src " + d + "/train.es --tgt " + d +
                          "/train.en --calibrate " + d + "/diag.align --save-calibrated " + d +
                          "/rev-cal.bin --threads 1");
    INFO(cal.out << cal.err);
    REQUIRE(cal.exit_code == 0);
    auto rc = run_attnmt("align -m " + d + "/rev-cal.bin --src " + d + "/train.es --tgt " + d +
                         "/train.en --format pharaoh --threads 1");
    auto ic = run_attnmt("align -m " + d + "/fwd.bin --reverse-model " + d + "/rev-cal.bin" +
                         pair + " --symmetrize intersect");
    REQUIRE((rc.exit_code | ic.exit_code) == 0);
    REQUIRE(rc.out != r.out);  // the calibrated settings changed the reverse model's links
    const auto rcl = split_lines(rc.out), icl = split_lines(ic.out);
    REQUIRE((rcl.size() == 40 && icl.size() == 40));
    for (size_t k = 0; k < icl.size(); ++k) {
      const WordLinks a = parse(fl[k], false), b = parse(rcl[k], true);
      WordLinks both;
      for (const auto& l : a)
        if (b.count(l)) both.insert(l);
      CHECK(parse(icl[k], false) == both);
    }
  }
  // The link rules reach the links. A diagonal tension of 1000 outweighs any attention: each
  // target word j links to the source word nearest its relative position, argmin_i
  // |(i + 1/2)/S - (j + 1/2)/T| (the first on a tie), whatever the model attends to. Read on
  // the attention, whose weights are all above zero (occlusion, the links' default, gives a
  // source word that costs nothing an exact zero, which no tension lifts).
  const std::string attention = pair + " --alignment-method prediction";
  auto diag = run_attnmt("align -m " + d + "/fwd.bin" + attention + " --alignment-diagonal 1000");
  REQUIRE(diag.exit_code == 0);
  const auto dl = split_lines(diag.out);
  const auto src_lines = split_lines(read_text(d + "/train.en")),
             tgt_lines = split_lines(read_text(d + "/train.es"));
  REQUIRE((dl.size() == 40 && src_lines.size() >= 40 && tgt_lines.size() >= 40));
  auto words = [](const std::string& line) {
    std::istringstream in(line);
    int n = 0;
    for (std::string w; in >> w;) ++n;
    return n;
  };
  int moved = 0;
  for (size_t k = 0; k < dl.size(); ++k) {
    const int S = words(src_lines[k]), T = words(tgt_lines[k]);
    WordLinks want;
    for (int j = 0; j < T; ++j) {
      int best = 0;
      for (int i = 1; i < S; ++i)
        if (std::abs((i + 0.5) / S - (j + 0.5) / T) < std::abs((best + 0.5) / S - (j + 0.5) / T))
          best = i;
      want.insert({best, j});
    }
    CHECK(parse(dl[k], false) == want);
    moved += parse(fl[k], false) != want;
  }
  INFO(moved << " of 40 lines whose plain links are not the diagonal");
  CHECK(moved > 0);  // the tension changed something: the plain links are not all diagonal
  // grow at that tension: the tiny corpus's lines have as many words on both sides (S = T), so
  // each row's and each column's argmax is the diagonal, and so is their combination.
  auto grow = run_attnmt("align -m " + d + "/fwd.bin" + attention +
                         " --alignment-diagonal 1000 --alignment-links grow");
  REQUIRE(grow.exit_code == 0);
  const auto gw = split_lines(grow.out);
  REQUIRE(gw.size() == 40);
  for (size_t k = 0; k < gw.size(); ++k) {
    REQUIRE(words(src_lines[k]) == words(tgt_lines[k]));
    CHECK(parse(gw[k], false) == parse(dl[k], false));
  }
  // The defaults: pharaoh links are occlusion's, read as max, grow, diagonal 2 (and stderr says
  // so); soft weights are the attention's (prediction), without the note.
  {
    auto occ = run_attnmt("align -m " + d + "/fwd.bin" + pair +
                          " --alignment-method occlusion --alignment-aggregate max"
                          " --alignment-links grow --alignment-diagonal 2");
    REQUIRE(occ.exit_code == 0);
    CHECK(f.out == occ.out);
    CHECK_THAT(f.err, Catch::Contains("by occlusion"));
    auto attention_links = run_attnmt("align -m " + d + "/fwd.bin" + attention);
    REQUIRE(attention_links.exit_code == 0);
    CHECK(attention_links.out != f.out);  // the default is not the attention's links
    const std::string soft = " --src " + d + "/train.en --tgt " + d + "/train.es --format soft"
                             " --threads 1";
    auto soft_default = run_attnmt("align -m " + d + "/fwd.bin" + soft);
    auto soft_attention = run_attnmt("align -m " + d + "/fwd.bin" + soft +
                                     " --alignment-method prediction");
    REQUIRE((soft_default.exit_code | soft_attention.exit_code) == 0);
    CHECK(soft_default.out == soft_attention.out);
    CHECK(soft_default.err.find("occlusion") == std::string::npos);
  }
  for (const char* value : {"-1", "nan", "1e9"}) {
    auto refused = run_attnmt("align -m " + d + "/fwd.bin" + pair + " --alignment-diagonal " +
                              std::string(value));
    CHECK(refused.exit_code == 2);
    CHECK(refused.err.find("--alignment-diagonal") != std::string::npos);
  }
}
