// Adam with decoupled-from-nothing (plain) updates, global gradient-norm clipping, and the
// learning-rate schedules. The moments are named tensors so checkpoints can save them.
// Not here: the loop (trainer.h) and the loss (autograd cross_entropy).
#pragma once

#include <string>
#include <vector>

#include "autograd/parameters.h"
#include "tensor/choice.h"

namespace attnmt {

struct AdamOptions {
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
};

class Adam {
 public:
  Adam(ParameterStore& params, AdamOptions options);
  // One update with learning rate lr from the gradients in the store; parameters without a
  // gradient this step are left alone.
  void step(float lr);
  int64_t steps() const { return t_; }
  void set_steps(int64_t t) { t_ = t; }
  // Moments by parameter path: "adam/m/<path>" and "adam/v/<path>".
  std::vector<std::pair<std::string, Tensor>> state() const;
  void load_state(const std::vector<std::pair<std::string, Tensor>>& tensors,
                  const std::string& source);

 private:
  ParameterStore& params_;
  AdamOptions opt_;
  std::vector<Tensor> m_, v_;  // same order and shapes as params_.all()
  int64_t t_ = 0;
};

// Scales all gradients so that their global L2 norm is at most max_norm; returns the norm
// before clipping. max_norm <= 0 disables clipping (the norm is still returned).
double clip_grad_norm(ParameterStore& params, double max_norm);

enum class ScheduleKind { kConstant, kInverseSqrt, kPlateau };
constexpr ChoiceTable<ScheduleKind, 3> choices(ScheduleKind) {
  using enum ScheduleKind;
  return {"schedule",
          {{kConstant, "constant"}, {kInverseSqrt, "inverse-sqrt"}, {kPlateau, "plateau"}}};
}

struct Schedule {
  ScheduleKind kind = ScheduleKind::kConstant;
  float lr = 1e-3f;
  int64_t warmup = 0;           // linear warm-up steps (all kinds)
  float plateau_factor = 0.5f;  // plateau: lr *= factor at every validation without improvement
  // lr for update number `step` (1-based); `plateau_scale` is the plateau's current factor.
  float at(int64_t step, float plateau_scale = 1.0f) const;
};

}  // namespace attnmt
