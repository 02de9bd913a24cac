// ParameterStore: every trainable tensor of a model, registered under a path name such as
// "decoder/layer_2/self_attention/query/weight". The paths are the keys in the model file.
// Scope builds those paths as layers nest. Not here: initialisation schemes (src/nn/init.h).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "autograd/var.h"

namespace attnmt {

class ParameterStore {
 public:
  // Registers a new trainable tensor; a duplicate path is a programming error (throws).
  Var add(const std::string& path, Tensor init);
  Var get(const std::string& path) const;  // throws naming the path when absent
  bool has(const std::string& path) const;
  const std::vector<std::pair<std::string, Var>>& all() const { return params_; }
  int64_t n_scalars() const;
  void zero_grad();

 private:
  std::vector<std::pair<std::string, Var>> params_;
};

class Scope {
 public:
  Scope(ParameterStore& store, std::string prefix = "") : store_(&store), prefix_(std::move(prefix)) {}
  Scope operator/(const std::string& name) const { return Scope(*store_, path(name)); }
  std::string path(const std::string& name) const {
    return prefix_.empty() ? name : prefix_ + "/" + name;
  }
  Var add(const std::string& name, Tensor init) const { return store_->add(path(name), std::move(init)); }
  ParameterStore& store() const { return *store_; }

 private:
  ParameterStore* store_;
  std::string prefix_;
};

}  // namespace attnmt
