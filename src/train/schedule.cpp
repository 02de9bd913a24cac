#include "train/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace attnmt {

float Schedule::at(int64_t step, float plateau_scale, int64_t total) const {
  step = std::max<int64_t>(step, 1);
  const float s = static_cast<float>(step), w = static_cast<float>(warmup);
  if (kind == ScheduleKind::kInverseSqrt) {
    // lr * min(step / warmup, sqrt(warmup / step)): linear warm-up then 1/sqrt decay.
    if (warmup <= 0) return lr / std::sqrt(s);
    return lr * std::min(s / w, std::sqrt(w / s));
  }
  const float warm = warmup > 0 && step < warmup ? s / w : 1.0f;
  if (kind == ScheduleKind::kPlateau) return lr * warm * plateau_scale;
  if (warm < 1.0f || !decays_to_budget(kind) || total <= 0) return lr * warm;
  // The fraction of the decay done: 0 at the end of warm-up, 1 at step `total`.
  const int64_t start = std::max<int64_t>(warmup, 0);
  const double span = static_cast<double>(std::max<int64_t>(total - start, 1));
  const double p = std::clamp(static_cast<double>(step - start) / span, 0.0, 1.0);
  const double f =
      kind == ScheduleKind::kLinear ? 1.0 - p : 0.5 * (1.0 + std::cos(std::numbers::pi * p));
  return static_cast<float>(lr * f);
}

int64_t estimate_total_steps(const Budget& b, const RunPosition& at) {
  int64_t total = 0;
  const auto bound = [&](int64_t t) { total = total ? std::min(total, t) : t; };
  if (b.max_steps > 0) bound(b.max_steps);
  if (b.max_epochs > 0 && at.batches_per_epoch > 0)
    bound(at.step + (b.max_epochs - at.epoch) * at.batches_per_epoch - at.batch_in_epoch);
  if (b.max_seconds > 0 && at.seconds_per_step > 0) {
    const double left = std::max(0.0, b.max_seconds - at.seconds) / at.seconds_per_step;
    bound(at.step + static_cast<int64_t>(std::llround(left)));
  }
  return std::max<int64_t>(total, total ? at.step : 0);
}

}  // namespace attnmt
