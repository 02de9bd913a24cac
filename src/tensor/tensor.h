// Tensor: the one tensor type of attnmt. A row-major float32 buffer (64-byte aligned) with a
// shape of up to 4 dimensions. Copies share storage (cheap views); `clone()` copies data.
// Views are always contiguous: `reshape`, and `rows(begin, end)` slicing the outermost axis.
// Not here: the math. Kernels live in gemm.h and kernels.h; Eigen maps are the bridge.
#pragma once

#include <Eigen/Core>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>

namespace attnmt {

// Shape legend used across the project (outermost dimension first):
//   B batch, S source length, T target length, D model width, H heads, V vocabulary,
//   N live hypotheses (B x beam) in decoding.
class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  int rank() const { return rank_; }
  int64_t operator[](int i) const { return dims_[i < 0 ? i + rank_ : i]; }
  int64_t numel() const;
  // Product of all dimensions but the last: the row count of the 2-D view.
  int64_t outer() const { return rank_ == 0 ? 1 : numel() / dims_[rank_ - 1]; }
  int64_t last() const { return rank_ == 0 ? 1 : dims_[rank_ - 1]; }
  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string str() const;  // "[2, 3, 4]"

 private:
  std::array<int64_t, 4> dims_{};
  int rank_ = 0;
};

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<RowMatrix>;
using ConstMatrixMap = Eigen::Map<const RowMatrix>;
using ArrayMap = Eigen::Map<Eigen::ArrayXf>;
using ConstArrayMap = Eigen::Map<const Eigen::ArrayXf>;

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(const Shape& shape);  // zero-filled
  static Tensor zeros(const Shape& shape) { return Tensor(shape); }
  static Tensor uninitialized(const Shape& shape);
  static Tensor full(const Shape& shape, float value);
  static Tensor from(const Shape& shape, std::initializer_list<float> values);

  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  int64_t dim(int i) const { return shape_[i]; }
  int64_t numel() const { return shape_.numel(); }
  bool empty() const { return data_ == nullptr; }
  float* data() { return data_; }
  const float* data() const { return data_; }
  float& operator[](int64_t i) { return data_[i]; }
  float operator[](int64_t i) const { return data_[i]; }
  // Element access by index, for tests and small loops (not for hot paths).
  float& at(std::initializer_list<int64_t> index);
  float at(std::initializer_list<int64_t> index) const;

  // Views sharing storage.
  Tensor reshape(const Shape& shape) const;
  Tensor rows(int64_t begin, int64_t end) const;  // slice of the outermost axis
  Tensor row(int64_t i) const { return rows(i, i + 1); }
  Tensor clone() const;
  void fill(float value);
  void zero() { fill(0.0f); }
  void copy_from(const Tensor& other);  // same numel required

  // Eigen views: the 2-D view is [outer, last]; the flat view is [numel].
  MatrixMap mat() { return MatrixMap(data_, shape_.outer(), shape_.last()); }
  ConstMatrixMap mat() const { return ConstMatrixMap(data_, shape_.outer(), shape_.last()); }
  ArrayMap arr() { return ArrayMap(data_, numel()); }
  ConstArrayMap arr() const { return ConstArrayMap(data_, numel()); }

 private:
  std::shared_ptr<float> storage_;
  float* data_ = nullptr;
  Shape shape_;
};

// Throws attnmt::Error naming `what` when the shapes differ.
void check_same_shape(const Tensor& a, const Tensor& b, const char* what);

}  // namespace attnmt
