// ParameterStore: every trainable tensor of a model, registered under a path name such as
// "decoder/layer_2/self_attention/query/weight". The paths are the keys in the model file.
// Scope builds those paths as layers nest. A layer registers each tensor with its shape and an
// initialiser; a store that loads a model file takes the stored tensor instead (moved, not
// copied, and never initialised first). Not here: initialisation schemes (nn/layers.h).
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "autograd/var.h"

namespace attnmt {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// Where a loading store takes its tensors from: entries are moved out as they are used, so
// what is left afterwards was not used by the model.
struct ParameterSource {
  NamedTensors* tensors;
  std::string name;  // for messages: the model file's path
};

class ParameterStore {
 public:
  using Init = std::function<Tensor()>;
  ParameterStore() = default;
  explicit ParameterStore(const ParameterSource* source) : source_(source) {}
  ~ParameterStore();  // unregisters its tensors from the GEMM seam's weight cache
  ParameterStore(const ParameterStore&) = delete;
  ParameterStore& operator=(const ParameterStore&) = delete;

  // Registers a new trainable tensor of `shape`: init() when building, the source's tensor of
  // that path when loading (a missing or misshapen one throws naming the file and the path).
  // Matrices are registered with the GEMM seam as weights (gemm.h: register_weight); whoever
  // writes their values in place afterwards calls weights_changed().
  // A duplicate path is a programming error (throws).
  Var add(const std::string& path, const Shape& shape, const Init& init);
  // Registers `value` as it is (tests, benchmarks); layers use the form above.
  Var add(const std::string& path, Tensor value) {
    const Shape shape = value.shape();
    return add(path, shape, [&] { return std::move(value); });
  }
  Var get(const std::string& path) const;  // throws naming the path when absent
  bool has(const std::string& path) const;
  const std::vector<std::pair<std::string, Var>>& all() const { return params_; }
  int64_t n_scalars() const;
  void end_loading() { source_ = nullptr; }  // the model is built: forget the source
  void zero_grad();

 private:
  std::vector<std::pair<std::string, Var>> params_;
  std::unordered_map<std::string, size_t> index_;  // path -> position in params_
  const ParameterSource* source_ = nullptr;
};

class Scope {
 public:
  Scope(ParameterStore& store, std::string prefix = "") : store_(&store), prefix_(std::move(prefix)) {}
  Scope operator/(const std::string& name) const { return Scope(*store_, path(name)); }
  std::string path(const std::string& name) const {
    return prefix_.empty() ? name : prefix_ + "/" + name;
  }
  Var add(const std::string& name, const Shape& shape, const ParameterStore::Init& init) const {
    return store_->add(path(name), shape, init);
  }
  ParameterStore& store() const { return *store_; }

 private:
  ParameterStore* store_;
  std::string prefix_;
};

}  // namespace attnmt
