#include "autograd/var.h"

#include <unordered_set>

#include "tensor/error.h"
#include "tensor/kernels.h"

namespace attnmt {

namespace {
thread_local bool g_grad_enabled = true;
}

Tensor& Node::grad_buffer() {
  if (grad.empty()) grad = Tensor::zeros(value.shape());
  return grad;
}

Tensor& Node::grad_for_write(bool& fresh) {
  fresh = grad.empty();
  if (fresh) grad = Tensor::uninitialized(value.shape());
  return grad;
}

void Node::accumulate_grad(const Tensor& g, bool share) {
  check_same_shape(value, g, "gradient");
  if (grad.empty()) {
    if (share) {
      grad = g;
      return;
    }
    grad = Tensor::uninitialized(value.shape());
    kernels::copy(g.data(), grad.data(), g.numel());
    return;
  }
  kernels::add_into(g.data(), grad.data(), g.numel());
}

Var constant(Tensor value) {
  auto n = std::make_shared<Node>();
  n->value = std::move(value);
  return n;
}

Var parameter(Tensor value) {
  auto n = std::make_shared<Node>();
  n->value = std::move(value);
  n->requires_grad = true;
  n->op = "parameter";
  return n;
}

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

Var make_node(Tensor value, const char* op, std::vector<Var> inputs,
              std::function<void(Node& self)> backward) {
  auto n = std::make_shared<Node>();
  n->value = std::move(value);
  n->op = op;
  if (!g_grad_enabled) return n;
  bool any = false;
  for (const auto& in : inputs) any = any || (in && in->requires_grad);
  if (!any) return n;
  n->requires_grad = true;
  n->is_leaf = false;
  n->parents = std::move(inputs);
  n->backward = std::move(backward);
  return n;
}

void backward(const Var& root) {
  ATTNMT_CHECK(root->value.numel() == 1, "backward() without a seed needs a scalar, got {}",
               root->value.shape().str());
  backward(root, Tensor::full(root->value.shape(), 1.0f));
}

void backward(const Var& root, const Tensor& seed) {
  if (!root->requires_grad) return;
  // Iterative post-order DFS gives a topological order (parents before children). The order
  // holds shared handles: freeing a child's parent list must not free a node still to run.
  std::vector<Var> order;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<Var, size_t>> stack{{root, 0}};
  seen.insert(root.get());
  while (!stack.empty()) {
    auto& top = stack.back();
    if (top.second < top.first->parents.size()) {
      Var p = top.first->parents[top.second++];
      if (p && p->requires_grad && !p->is_leaf && seen.insert(p.get()).second)
        stack.push_back({std::move(p), 0});
    } else {
      order.push_back(std::move(top.first));
      stack.pop_back();
    }
  }
  check_same_shape(root->value, seed, "backward seed");
  if (root->grad.empty()) root->grad = seed.clone();
  else root->grad.arr() += seed.arr();
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* n = it->get();
    if (n->backward && !n->grad.empty()) n->backward(*n);
    // Free what the rest of the pass no longer needs.
    n->backward = nullptr;
    n->grad = Tensor();
    n->parents.clear();
  }
}

}  // namespace attnmt
