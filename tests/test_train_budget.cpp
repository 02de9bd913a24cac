// The pieces that give a better model from the same minutes: schedules that decay to zero at the
// end of the budget, the estimate of that budget in steps, the moving average of the weights,
// and the learning-curve record and its picture.
#include <cmath>

#include "helpers.h"
#include "train/averaging.h"
#include "train/curve_log.h"
#include "train/curves_svg.h"
#include "train/schedule.h"

using namespace attnmt;
using namespace attnmt::testing;

TEST_CASE("linear and cosine schedules warm up, then fall to zero at the budget's last step",
          "[train][schedule]") {
  const Schedule linear{ScheduleKind::kLinear, 0.01f, 10};
  const Schedule cosine{ScheduleKind::kCosine, 0.01f, 10};
  for (const Schedule& s : {linear, cosine}) {
    INFO(name_of(s.kind));
    CHECK(s.at(5, 1.0f, 110) == Approx(0.005f));   // warm-up: linear from 0
    CHECK(s.at(10, 1.0f, 110) == Approx(0.01f));   // the peak at the end of warm-up
    CHECK(s.at(60, 1.0f, 110) == Approx(0.005f));  // half way through the decay
    CHECK(s.at(110, 1.0f, 110) == Approx(0.0f).margin(1e-9));
    CHECK(s.at(200, 1.0f, 110) == Approx(0.0f).margin(1e-9));  // past it: still zero
    CHECK(s.at(60, 1.0f, 0) == Approx(0.01f));                 // no budget known yet: the peak
    float last = 1;
    for (int64_t step = 10; step <= 110; ++step) {  // never rises after warm-up
      CHECK(s.at(step, 1.0f, 110) <= last);
      last = s.at(step, 1.0f, 110);
    }
  }
  CHECK(linear.at(35, 1.0f, 110) == Approx(0.0075f));  // a straight line
  CHECK(cosine.at(35, 1.0f, 110) == Approx(0.01f * 0.5 * (1 + std::cos(M_PI * 0.25))));
  // The others ignore the budget.
  const Schedule isqrt{ScheduleKind::kInverseSqrt, 0.01f, 100};
  CHECK(isqrt.at(400, 1.0f, 500) == Approx(0.005f));
  CHECK(Schedule{ScheduleKind::kConstant, 0.01f, 0}.at(400, 1.0f, 500) == Approx(0.01f));
}

TEST_CASE("the step budget: the tightest of steps, epochs and minutes at the measured rate",
          "[train][schedule]") {
  RunPosition at{.step = 100,
                 .epoch = 1,
                 .batch_in_epoch = 20,
                 .batches_per_epoch = 50,
                 .seconds = 10,
                 .seconds_per_step = 0.1};
  CHECK(estimate_total_steps({.max_steps = 500}, at) == 500);
  CHECK(estimate_total_steps({.max_epochs = 3}, at) == 100 + 2 * 50 - 20);
  CHECK(estimate_total_steps({.max_seconds = 30}, at) == 100 + 200);  // 20 s left at 0.1 s a step
  CHECK(estimate_total_steps({.max_steps = 250, .max_epochs = 10, .max_seconds = 30}, at) == 250);
  at.seconds_per_step = 0.2;  // slower now: the estimate follows
  CHECK(estimate_total_steps({.max_seconds = 30}, at) == 200);
  at.seconds = 40;  // time is up: the run ends here
  CHECK(estimate_total_steps({.max_seconds = 30}, at) == 100);
  at.seconds_per_step = 0;  // no step measured yet, and only a time limit: unknown
  CHECK(estimate_total_steps({.max_seconds = 30}, at) == 0);
  CHECK(estimate_total_steps({}, at) == 0);
}

TEST_CASE("the moving average of the weights: its formula, the swap and its checkpoint state",
          "[train][averaging]") {
  ParameterStore store;
  Var w = store.add("w", Tensor::full(Shape{3, 4}, 1.0f));
  Ema ema(store, 0.5f);
  float expect = 1.0f;
  for (int step = 1; step <= 4; ++step) {
    const float value = static_cast<float>(10 * step);
    w->value.fill(value);
    ema.update(step);
    const float d = std::min(0.5f, (1.0f + step) / (10.0f + step));
    expect = d * expect + (1 - d) * value;
  }
  const NamedTensors state = ema.state();
  REQUIRE(state.size() == 1);
  CHECK(state[0].first == "ema/w");
  CHECK(state[0].second.data()[5] == Approx(expect));
  ema.swap();  // the parameters hold the average, the average the last weights
  CHECK(w->value.data()[0] == Approx(expect));
  ema.swap();
  CHECK(w->value.data()[0] == 40.0f);
  {
    AveragedWeights averaged(&ema);
    CHECK(w->value.data()[11] == Approx(expect));
  }
  CHECK(w->value.data()[11] == 40.0f);
  // A fresh average restored from the state equals the saved one; a checkpoint without an
  // average says so, a damaged one is refused.
  Ema restored(store, 0.5f);
  CHECK(restored.load_state(state, "ckpt"));
  CHECK(restored.state()[0].second.data()[2] == Approx(expect));
  CHECK_FALSE(restored.load_state({{"adam/m/w", Tensor::zeros(Shape{3, 4})}}, "ckpt"));
  CHECK_THROWS_WITH(restored.load_state({{"ema/w", Tensor::zeros(Shape{4, 3, 1})}}, "c.ckpt"),
                    Catch::Contains("c.ckpt") && Catch::Contains("wrong shape"));
}

TEST_CASE("the learning-curve record reads back what was written, and refuses other files",
          "[train][curves]") {
  TempDir dir("curves");
  const std::string log = dir.path().string() + "/run.log";
  {
    CurveLog rec(curve_record_path(log));
    rec.add({.step = 100, .minutes = 1.5, .lr = 0.001, .train_loss = 5.25});
    rec.add({.step = 100, .minutes = 1.75, .dev_ce = 4.5, .dev_bleu = 12.5});
  }
  {
    CurveLog again(curve_record_path(log));  // a resumed run appends, no second header
    again.add({.step = 200, .minutes = 3, .lr = 0.0005, .train_loss = 4.0});
  }
  const Curve c = read_curve(log);  // the log's path finds its .tsv
  CHECK(c.name == "run");
  REQUIRE(c.points.size() == 3);
  CHECK(c.points[0].lr == Approx(0.001));
  CHECK(std::isnan(c.points[0].dev_ce));
  CHECK(c.points[1].dev_bleu == Approx(12.5));
  CHECK(std::isnan(c.points[1].train_loss));
  CHECK(c.points[2].step == 200);
  CHECK(split_lines(read_text(log + ".tsv")).size() == 4);
  write_text(dir.path().string() + "/other.tsv",
             "step\tminutes\tlr\ttrain_loss\tdev_ce\tdev_bleu\n1\tx\n");
  CHECK_THROWS_WITH(read_curve(dir.path().string() + "/other.tsv"),
                    Catch::Contains("other.tsv:2") && Catch::Contains("6"));
  CHECK_THROWS_WITH(read_curve(dir.path().string() + "/none.log"), Catch::Contains("none.log"));
}

TEST_CASE("the curves picture: a line per run and panel, a legend, round axis ticks",
          "[train][curves]") {
  const std::vector<double> t = nice_ticks(0.3, 9.2);
  REQUIRE(t.size() >= 3);
  CHECK(t.front() <= 0.3);
  CHECK(t.back() >= 9.2);
  CHECK(t[1] - t[0] == Approx(2.0));
  CHECK(nice_ticks(5, 5).size() >= 2);  // a flat series still gets an axis
  Curve a{"lstm <30 min>", {}}, b{"transformer", {}};
  for (int k = 1; k <= 5; ++k) {
    a.points.push_back({.step = 100 * k, .minutes = 1.0 * k, .lr = 1e-3, .train_loss = 6.0 - k});
    a.points.push_back(
        {.step = 100 * k, .minutes = 1.0 * k, .dev_ce = 6.5 - k, .dev_bleu = 3.0 * k});
    b.points.push_back({.step = 50 * k, .minutes = 2.0 * k, .lr = 1e-3, .train_loss = 7.0 - k});
  }
  const std::string svg = curves_svg({a, b}, "en-ja");
  CHECK(svg.find("lstm &lt;30 min&gt;") != std::string::npos);  // escaped name in the legend
  CHECK(svg.find(">transformer<") != std::string::npos);
  size_t lines = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos;
       at = svg.find("<polyline", at + 1))
    ++lines;
  // BLEU: a's line in 2 panels (b has none); loss: a's train and dev, b's train, in 2 panels.
  CHECK(lines == 2 + 2 * 3);
  CHECK(svg.find("stroke-dasharray") != std::string::npos);  // dev CE dashed
  CHECK_THROWS(curves_svg({Curve{"empty", {}}}));
}
