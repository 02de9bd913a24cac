#include "autograd/parameters.h"

#include <algorithm>

#include "tensor/error.h"
#include "tensor/gemm.h"

namespace attnmt {

Var ParameterStore::add(const std::string& path, const Shape& shape, const Init& init) {
  ATTNMT_CHECK(!has(path), "parameter '{}' registered twice", path);
  Tensor value;
  if (source_) {
    auto& from = *source_->tensors;
    auto it = std::find_if(from.begin(), from.end(), [&](const auto& e) { return e.first == path; });
    ATTNMT_CHECK(it != from.end(), "{}: parameter '{}' is missing from the model file",
                 source_->name, path);
    ATTNMT_CHECK(it->second.shape() == shape,
                 "{}: parameter '{}' has shape {} but the config needs {}", source_->name, path,
                 it->second.shape().str(), shape.str());
    value = std::move(it->second);
    from.erase(it);
  } else {
    value = init();
    ATTNMT_CHECK(value.shape() == shape, "parameter '{}': initialiser gave shape {}, not {}", path,
                 value.shape().str(), shape.str());
  }
  Var v = parameter(std::move(value));
  index_.emplace(path, params_.size());
  params_.emplace_back(path, v);
  if (v->value.rank() >= 2) register_weight(v->value);
  weights_changed();
  return v;
}

ParameterStore::~ParameterStore() {
  for (const auto& [name, v] : params_)
    if (v->value.rank() >= 2) unregister_weight(v->value);
}

bool ParameterStore::has(const std::string& path) const { return index_.count(path) > 0; }

Var ParameterStore::get(const std::string& path) const {
  const auto it = index_.find(path);
  if (it == index_.end()) fail("no parameter named '{}'", path);
  return params_[it->second].second;
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
