// Adam with plain (not decoupled) updates and global gradient-norm clipping. The moments are
// named tensors so checkpoints can save them.
// Not here: the learning-rate schedules (schedule.h), the loop (trainer.h), the loss
// (autograd cross_entropy).
#pragma once

#include <string>
#include <vector>

#include "autograd/parameters.h"

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

}  // namespace attnmt
