// Learning-rate schedules, and the number of updates a run will make (its budget in steps),
// which the linear and cosine schedules decay to zero at.
// Not here: the optimiser (optimizer.h), the loop that asks for the rate (trainer.cpp).
#pragma once

#include <cstdint>

#include "tensor/choice.h"

namespace attnmt {

enum class ScheduleKind { kConstant, kInverseSqrt, kPlateau, kLinear, kCosine };
constexpr ChoiceTable<ScheduleKind, 5> choices(ScheduleKind) {
  using enum ScheduleKind;
  return {"schedule",
          {{kConstant, "constant"},
           {kInverseSqrt, "inverse-sqrt"},
           {kPlateau, "plateau"},
           {kLinear, "linear"},
           {kCosine, "cosine"}}};
}

// linear and cosine decay to zero at the end of the run: they need its length in steps.
constexpr bool decays_to_budget(ScheduleKind k) {
  return k == ScheduleKind::kLinear || k == ScheduleKind::kCosine;
}

struct Schedule {
  ScheduleKind kind = ScheduleKind::kConstant;
  float lr = 1e-3f;
  int64_t warmup = 0;           // linear warm-up steps (all kinds)
  float plateau_factor = 0.5f;  // plateau: lr *= factor at every validation without improvement
  // lr for update number `step` (1-based). `plateau_scale` is the plateau's current factor;
  // `total` the run's length in steps for linear and cosine (after warm-up they fall from lr
  // to 0 at step `total`; 0 = not known yet: lr stays at its peak).
  float at(int64_t step, float plateau_scale = 1.0f, int64_t total = 0) const;
};

// What the run is allowed, for the estimate below (0 = no such limit).
struct Budget {
  int64_t max_steps = 0;
  int64_t max_epochs = 0;
  double max_seconds = 0;
};

// Where the run is now.
struct RunPosition {
  int64_t step = 0;               // updates done
  int64_t epoch = 0;              // 0-based epoch in progress
  int64_t batch_in_epoch = 0;     // its batches done
  int64_t batches_per_epoch = 0;  // 0 = not known
  double seconds = 0;             // training time so far
  double seconds_per_step = 0;    // measured on this process's steps; 0 = none yet
};

// The number of updates the run will have made when it stops: the smallest of --max-steps,
// the epochs left times the batches of an epoch, and (for --max-time) the steps done plus the
// seconds left at the measured rate (re-estimated at every step as the rate changes). 0 when
// nothing bounds it yet (no limit, or only a time limit and no step measured).
int64_t estimate_total_steps(const Budget& budget, const RunPosition& at);

}  // namespace attnmt
