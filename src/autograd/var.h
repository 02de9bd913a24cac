// The autograd tape. A Var is a shared handle to a Node holding a value, a gradient and the
// backward function of the op that made it. Creation order is a valid topological order, but
// backward() sorts from the root so that only the nodes the loss depends on run.
// No-grad mode (NoGradGuard) records nothing and allocates no gradients: inference uses it.
// Not here: the ops themselves (ops.h) and parameter naming (parameters.h).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "tensor/tensor.h"

namespace attnmt {

struct Node;
using Var = std::shared_ptr<Node>;

struct Node {
  Tensor value;
  Tensor grad;  // empty until a backward pass writes to it
  bool requires_grad = false;
  bool is_leaf = true;
  const char* op = "leaf";
  std::vector<Var> parents;
  // Reads this node's grad (and value) and accumulates into the parents' grads.
  std::function<void(Node& self)> backward;

  // The gradient buffer, zero-filled on first use.
  Tensor& grad_buffer();
  // The gradient buffer for a backward that can either assign or accumulate: on first use it
  // is left uninitialised and `fresh` is set, and the caller must then assign every element
  // (this saves the zero-fill of grad_buffer, a memory pass per node and step).
  Tensor& grad_for_write(bool& fresh);
  // grad += g. With `share`, a node that has no gradient yet takes g's storage instead of a
  // copy: only for a g that nothing will write afterwards (the caller's own gradient, handed on
  // to one parent).
  void accumulate_grad(const Tensor& g, bool share = false);
  const Shape& shape() const { return value.shape(); }
};

// A constant: no gradient flows into it.
Var constant(Tensor value);
// A trainable leaf: gradients accumulate in ->grad until zero_grad.
Var parameter(Tensor value);

bool grad_enabled();
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Builds an op's result: records parents and the backward function only when grad mode is on
// and some input requires grad; otherwise the result is a constant.
Var make_node(Tensor value, const char* op, std::vector<Var> inputs,
              std::function<void(Node& self)> backward);

// Backpropagates from a scalar root (d root = 1), or with an explicit seed gradient.
// Intermediate nodes release their gradients and closures as soon as they have run.
void backward(const Var& root);
void backward(const Var& root, const Tensor& seed);

// True when node n needs a gradient from its child (helper for backward functions).
inline bool wants_grad(const Var& n) { return n && n->requires_grad; }

}  // namespace attnmt
