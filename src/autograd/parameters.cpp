#include "autograd/parameters.h"

#include "tensor/error.h"

namespace attnmt {

Var ParameterStore::add(const std::string& path, Tensor init) {
  ATTNMT_CHECK(!has(path), "parameter '{}' registered twice", path);
  Var v = parameter(std::move(init));
  params_.emplace_back(path, v);
  return v;
}

bool ParameterStore::has(const std::string& path) const {
  for (const auto& [name, v] : params_)
    if (name == path) return true;
  return false;
}

Var ParameterStore::get(const std::string& path) const {
  for (const auto& [name, v] : params_)
    if (name == path) return v;
  fail("no parameter named '{}'", path);
}

int64_t ParameterStore::n_scalars() const {
  int64_t n = 0;
  for (const auto& [name, v] : params_) n += v->value.numel();
  return n;
}

void ParameterStore::zero_grad() {
  // Zeroed in place: the buffers are reused by the next step instead of reallocated.
  for (auto& [name, v] : params_)
    if (!v->grad.empty()) v->grad.zero();
}

}  // namespace attnmt
