// Tensor storage, views and element access. See tensor.h.
#include "tensor/tensor.h"

#include <cstdlib>
#include <cstring>

#include "tensor/error.h"
#include "tensor/memory.h"
#include "tensor/pool.h"

namespace attnmt {

Shape::Shape(std::initializer_list<int64_t> dims) {
  ATTNMT_CHECK(dims.size() <= 4, "a tensor has at most 4 dimensions, got {}", dims.size());
  for (int64_t d : dims) {
    ATTNMT_CHECK(d >= 0, "negative tensor dimension {}", d);
    dims_[rank_++] = d;
  }
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < rank_; ++i) n *= dims_[i];
  return n;
}

bool Shape::operator==(const Shape& o) const {
  if (rank_ != o.rank_) return false;
  for (int i = 0; i < rank_; ++i)
    if (dims_[i] != o.dims_[i]) return false;
  return true;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < rank_; ++i) s += (i ? ", " : "") + std::to_string(dims_[i]);
  return s + "]";
}

namespace {
// Every tensor's storage: counted against the memory limit (memory.h) before it is taken.
std::shared_ptr<float> allocate(int64_t n) {
  const int64_t bytes = ((std::max<int64_t>(n, 1) * int64_t(sizeof(float)) + 63) / 64) * 64;
  count_tensor_bytes(bytes);
  auto* p = static_cast<float*>(pool::take(static_cast<size_t>(bytes)));  // large ones
  if (!p) p = static_cast<float*>(std::aligned_alloc(64, static_cast<size_t>(bytes)));
  if (!p) {
    uncount_tensor_bytes(bytes);
    throw std::bad_alloc();
  }
  // Should the control block fail to allocate, shared_ptr calls the deleter itself.
  return std::shared_ptr<float>(p, [bytes](float* q) {
    if (!pool::give_back(q)) std::free(q);
    uncount_tensor_bytes(bytes);
  });
}
}  // namespace

Tensor Tensor::uninitialized(const Shape& shape) {
  Tensor t;
  t.shape_ = shape;
  t.storage_ = allocate(shape.numel());
  t.data_ = t.storage_.get();
  return t;
}

Tensor::Tensor(const Shape& shape) : Tensor(uninitialized(shape)) { zero(); }

Tensor Tensor::full(const Shape& shape, float value) {
  Tensor t = uninitialized(shape);
  t.fill(value);
  return t;
}

Tensor Tensor::from(const Shape& shape, std::initializer_list<float> values) {
  ATTNMT_CHECK(static_cast<int64_t>(values.size()) == shape.numel(),
               "Tensor::from: {} values for shape {}", values.size(), shape.str());
  Tensor t = uninitialized(shape);
  std::copy(values.begin(), values.end(), t.data_);
  return t;
}

static int64_t flat_index(const Shape& shape, std::initializer_list<int64_t> index) {
  ATTNMT_CHECK(static_cast<int>(index.size()) == shape.rank(), "index rank {} for shape {}",
               index.size(), shape.str());
  int64_t flat = 0;
  int i = 0;
  for (int64_t k : index) {
    ATTNMT_CHECK(k >= 0 && k < shape[i], "index {} out of range for shape {}", k, shape.str());
    flat = flat * shape[i++] + k;
  }
  return flat;
}

float& Tensor::at(std::initializer_list<int64_t> index) { return data_[flat_index(shape_, index)]; }
float Tensor::at(std::initializer_list<int64_t> index) const {
  return data_[flat_index(shape_, index)];
}

Tensor Tensor::reshape(const Shape& shape) const {
  ATTNMT_CHECK(shape.numel() == numel(), "cannot reshape {} to {}", shape_.str(), shape.str());
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

Tensor Tensor::rows(int64_t begin, int64_t end) const {
  ATTNMT_CHECK(rank() >= 1 && begin >= 0 && begin <= end && end <= dim(0),
               "rows({}, {}) out of range for shape {}", begin, end, shape_.str());
  Tensor t = *this;
  int64_t inner = dim(0) == 0 ? 0 : numel() / dim(0);
  t.data_ = data_ + begin * inner;
  switch (rank()) {
    case 1: t.shape_ = Shape{end - begin}; break;
    case 2: t.shape_ = Shape{end - begin, dim(1)}; break;
    case 3: t.shape_ = Shape{end - begin, dim(1), dim(2)}; break;
    default: t.shape_ = Shape{end - begin, dim(1), dim(2), dim(3)}; break;
  }
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = uninitialized(shape_);
  if (numel()) std::memcpy(t.data_, data_, numel() * sizeof(float));
  return t;
}

void Tensor::fill(float value) { std::fill(data_, data_ + numel(), value); }

void Tensor::copy_from(const Tensor& other) {
  ATTNMT_CHECK(other.numel() == numel(), "copy_from: {} vs {}", other.shape().str(), shape_.str());
  if (numel()) std::memcpy(data_, other.data_, numel() * sizeof(float));
}

void check_same_shape(const Tensor& a, const Tensor& b, const char* what) {
  ATTNMT_CHECK(a.shape() == b.shape(), "{}: shapes differ, {} vs {}", what, a.shape().str(),
               b.shape().str());
}

}  // namespace attnmt
