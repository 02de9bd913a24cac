// End to end through the CLI: a schedule that reaches zero at --max-steps, the moving average
// of the weights (saved as the model, kept in checkpoints so --resume stays exact), the
// snapshots of --keep-last and `attnmt average`, the learning-curve record and `attnmt plot`.
#include <cstring>

#include "helpers.h"
#include "io/model_file.h"
#include "train/checkpoint.h"
#include "train/curve_log.h"

using namespace attnmt;
using namespace attnmt::testing;

namespace {

// A tiny LSTM on the tiny corpus; `lr` and `emb` vary by test.
std::string train_args(const std::string& d, const std::string& lr = "0.005", int emb = 16) {
  return "train --src " + d + "/train.en --tgt " + d + "/train.es --vocab-size 40 --emb-dim " +
         std::to_string(emb) + " --enc-hidden 16 --dec-hidden 32 --dropout 0.2" +
         " --batch-tokens 100 --lr " + lr + " --threads 1 -q";
}

bool same_values(const Tensor& a, const Tensor& b) {
  return a.numel() == b.numel() && std::memcmp(a.data(), b.data(), a.numel() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("train --schedule linear reaches zero at --max-steps, and --log writes the curve record",
          "[e2e][train][schedule]") {
  TempDir dir("e2e-linear");
  const std::string d = dir.path().string();
  write_tiny_corpus(d);
  const std::string args = train_args(d, "0.01") + " --schedule linear --warmup 4 --log-every 1";
  auto r = run_attnmt(args + " -o " + d + "/m.bin --max-steps 20 --log " + d + "/run.log");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const Curve c = read_curve(d + "/run.log");
  REQUIRE(c.points.size() == 20);  // one training row a step (no dev set: no validation rows)
  CHECK(c.points[1].lr == Approx(0.005));                   // warm-up: step 2 of 4
  CHECK(c.points[3].lr == Approx(0.01));                    // the peak
  CHECK(c.points[11].lr == Approx(0.01 * (1 - 8.0 / 16)));  // step 12: half the decay
  CHECK(c.points[19].lr == Approx(0.0).margin(1e-12));      // step 20: zero
  for (const CurvePoint& p : c.points) {
    CHECK(std::isfinite(p.train_loss));
    CHECK(p.minutes >= 0);
  }
  // Stopped at step 8 and resumed with the budget of 20: steps 9-20 get the rates of the
  // straight run (the schedule is a function of the step and the budget); the record goes on.
  REQUIRE(run_attnmt(args + " -o " + d + "/s.bin --max-steps 8 --log " + d + "/s.log")
              .exit_code == 0);
  auto resumed =
      run_attnmt(args + " -o " + d + "/s.bin --max-steps 20 --resume --log " + d + "/s.log");
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  const Curve split = read_curve(d + "/s.log");
  REQUIRE(split.points.size() == 20);
  for (size_t k = 8; k < 20; ++k) {
    CHECK(split.points[k].step == c.points[k].step);
    CHECK(split.points[k].lr == Approx(c.points[k].lr));
  }
  CHECK(split.points[7].lr == Approx(0.0).margin(1e-12));  // the first run's budget ended at 8
}

TEST_CASE("train --ema: the saved model is the average, and --resume continues it bit for bit",
          "[e2e][train][averaging]") {
  TempDir dir("e2e-ema");
  const std::string d = dir.path().string();
  write_tiny_corpus(d);
  // (A budget-aware schedule differs between a 7-step and a 14-step budget by design: the test
  // above checks its rates across a resume.)
  const std::string common = train_args(d) + " --ema 0.9 --warmup 2 --save-every 1000";
  REQUIRE(run_attnmt(common + " -o " + d + "/one.bin --max-steps 14").exit_code == 0);
  REQUIRE(run_attnmt(common + " -o " + d + "/two.bin --max-steps 7").exit_code == 0);
  auto r = run_attnmt(common + " -o " + d + "/two.bin --max-steps 14 --resume");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const ModelFile a = load_model_file(d + "/one.bin.ckpt"),
                  b = load_model_file(d + "/two.bin.ckpt");
  REQUIRE(a.tensors.size() == b.tensors.size());
  int averages = 0, differing = 0;
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    REQUIRE(a.tensors[i].first == b.tensors[i].first);
    averages += a.tensors[i].first.starts_with("ema/");
    if (!same_values(a.tensors[i].second, b.tensors[i].second)) {
      UNSCOPED_INFO("differs: " << a.tensors[i].first);
      ++differing;
    }
  }
  CHECK(differing == 0);
  // The model file holds the averages: equal to the checkpoint's "ema/" tensors, not to its
  // last weights.
  const ModelFile model = load_model_file(d + "/one.bin");
  CHECK(averages == static_cast<int>(model.tensors.size()));
  int equal_average = 0, equal_last = 0;
  for (const auto& [name, t] : model.tensors) {
    equal_average += same_values(t, a.tensor("ema/" + name));
    equal_last += same_values(t, a.tensor(name));
  }
  CHECK(equal_average == static_cast<int>(model.tensors.size()));
  CHECK(equal_last < static_cast<int>(model.tensors.size()) / 2);
  CHECK(*model.find_config("train.ema") != "");
}

TEST_CASE("train --keep-last keeps the newest snapshots, and attnmt average writes their mean",
          "[e2e][train][averaging]") {
  TempDir dir("e2e-average");
  const std::string d = dir.path().string();
  write_tiny_corpus(d);
  auto r = run_attnmt(train_args(d) + " -o " + d +
                      "/m.bin --max-steps 9 --save-every 3"
                      " --keep-last 2");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(list_snapshots(d + "/m.bin") ==
        std::vector<std::string>{snapshot_path(d + "/m.bin", 6), snapshot_path(d + "/m.bin", 9)});
  const std::string s6 = snapshot_path(d + "/m.bin", 6), s9 = snapshot_path(d + "/m.bin", 9);
  auto avg = run_attnmt("average " + s6 + " " + s9 + " -o " + d + "/avg.bin");
  INFO(avg.err);
  REQUIRE(avg.exit_code == 0);
  const ModelFile x = load_model_file(s6), y = load_model_file(s9),
                  m = load_model_file(d + "/avg.bin");
  REQUIRE(m.tensors.size() == x.tensors.size());
  double worst = 0;
  int moved = 0;
  for (const auto& [name, t] : m.tensors) {
    const Tensor &p = x.tensor(name), &q = y.tensor(name);
    for (int64_t i = 0; i < t.numel(); ++i) {
      worst = std::max(worst, std::abs(double(t.data()[i]) - 0.5 * (p.data()[i] + q.data()[i])));
      moved += p.data()[i] != q.data()[i];
    }
  }
  CHECK(moved > 0);  // the two snapshots differ, so the mean is not either of them
  CHECK(worst < 1e-6);
  CHECK(m.config_at("train.averaged").find("2 models") == 0);
  // The average translates (it is a whole model file).
  CHECK(run_attnmt("translate -m " + d + "/avg.bin -i " + d + "/train.en -o " + d +
                   "/out.txt"
                   " --threads 1")
            .exit_code == 0);
  // Another size, or a single model: refused, saying why.
  REQUIRE(run_attnmt(train_args(d, "0.005", 8) + " -o " + d + "/small.bin --max-steps 1 --vocab " +
                     d + "/m.bin.spm.model")
              .exit_code == 0);
  auto other = run_attnmt("average -m " + s9 + " " + d + "/small.bin -o " + d + "/bad.bin");
  CHECK(other.exit_code == 1);
  CHECK(other.err.find("emb_dim is 16") != std::string::npos);
  CHECK(other.err.find("small.bin") != std::string::npos);
  CHECK_FALSE(fs::exists(d + "/bad.bin"));
  auto one = run_attnmt("average -m " + s9 + " -o " + d + "/bad.bin");
  CHECK(one.exit_code == 2);
  CHECK(one.err.find("two or more") != std::string::npos);
}

TEST_CASE("attnmt plot draws the records of several runs, and refuses a file that is not one",
          "[e2e][curves]") {
  TempDir dir("e2e-plot");
  const std::string d = dir.path().string();
  write_tiny_corpus(d);
  for (const std::string run : {"a", "b"})
    REQUIRE(run_attnmt(train_args(d) + " -o " + d + "/" + run +
                       ".bin --max-steps 6 --log-every 2"
                       " --valid-src " +
                       d + "/train.en --valid-tgt " + d +
                       "/train.es"
                       " --valid-every 3 --log " +
                       d + "/" + run + ".log")
                .exit_code == 0);
  auto p = run_attnmt("plot " + d + "/a.log " + d + "/b.log.tsv -o " + d + "/c.svg --title tiny");
  INFO(p.err);
  REQUIRE(p.exit_code == 0);
  const std::string svg = read_text(d + "/c.svg");
  CHECK(svg.starts_with("<?xml"));
  CHECK(svg.find(">a<") != std::string::npos);
  CHECK(svg.find(">b<") != std::string::npos);
  CHECK(svg.find(">tiny<") != std::string::npos);
  const Curve a = read_curve(d + "/a.log");
  int valid_rows = 0;
  for (const CurvePoint& pt : a.points) valid_rows += std::isfinite(pt.dev_ce);
  CHECK(valid_rows == 2);  // steps 3 and 6
  auto bad = run_attnmt("plot " + d + "/train.en -o " + d + "/x.svg");
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("train.en:1") != std::string::npos);
  CHECK_FALSE(fs::exists(d + "/x.svg"));
}
