// int8 storage in the model file (dtype 2): a float32 scale per row and int8 values; round
// trip within half a step per row, vectors left float32 by set_dtype_all, size, damaged files.
#include <cmath>
#include <cstring>

#include "helpers.h"
#include "io/model_file.h"
#include "model_file_testing.h"
#include "tensor/error.h"
#include "tensor/random.h"

using namespace attnmt;
using namespace attnmt::testing;

namespace {
// Rows of very different magnitudes: one scale per row must follow each.
Tensor rows_of_magnitudes(int64_t rows, int64_t cols) {
  Rng rng(4);
  Tensor t = Tensor::uninitialized(Shape{rows, cols});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      t[r * cols + c] = std::pow(10.0f, static_cast<float>(r % 5) - 2) * rng.uniform(-1, 1);
  return t;
}
}  // namespace

TEST_CASE("int8 matrices round-trip within half a step of their row's scale", "[io][int8]") {
  TempDir dir;
  ModelFile f;
  f.tensors.emplace_back("w", rows_of_magnitudes(37, 50));
  f.tensors.emplace_back("bias", Tensor::from({3}, {0.1f, 0.2f, 0.3f}));
  f.tensors.emplace_back("empty", Tensor::uninitialized({0, 4}));
  f.set_dtype_all(TensorDtype::kInt8);
  CHECK(f.dtype("w") == TensorDtype::kInt8);
  CHECK(f.dtype("bias") == TensorDtype::kFloat32);  // vectors stay float32
  save_model_file(dir.file("m.bin"), f);
  ModelFile g = load_model_file(dir.file("m.bin"));
  CHECK(g.dtype("w") == TensorDtype::kInt8);
  CHECK(g.dtype("bias") == TensorDtype::kFloat32);
  CHECK(g.tensor("empty").shape() == Shape{0, 4});
  const Tensor &a = f.tensor("w"), &b = g.tensor("w");
  REQUIRE(b.shape() == a.shape());
  int64_t outside = 0, changed = 0;
  for (int64_t r = 0; r < 37; ++r) {
    float amax = 0;
    for (int64_t c = 0; c < 50; ++c) amax = std::max(amax, std::fabs(a[r * 50 + c]));
    const float half_step = amax / 127 / 2;
    for (int64_t c = 0; c < 50; ++c) {
      const float err = std::fabs(a[r * 50 + c] - b[r * 50 + c]);
      outside += err > half_step * 1.001f + 1e-12f;
      changed += err > 0;
    }
  }
  CHECK(outside == 0);
  CHECK(changed > 1000);  // it really was stored in 8 bits
  for (int i = 0; i < 3; ++i) CHECK(g.tensor("bias")[i] == f.tensor("bias")[i]);
  // Saved again as int8, the values do not move: they are already on their row's grid.
  g.set_dtype_all(TensorDtype::kInt8);
  save_model_file(dir.file("again.bin"), g);
  const Tensor c = load_model_file(dir.file("again.bin")).tensor("w");
  CHECK(std::memcmp(b.data(), c.data(), b.numel() * sizeof(float)) == 0);
}

TEST_CASE("an int8 file is about a quarter of the float32 one, and NaN is refused", "[io][int8]") {
  TempDir dir;
  ModelFile f;
  f.tensors.emplace_back("w", rows_of_magnitudes(100, 256));
  save_model_file(dir.file("f32.bin"), f);
  f.set_dtype_all(TensorDtype::kInt8);
  save_model_file(dir.file("i8.bin"), f);
  const double ratio =
      double(fs::file_size(dir.file("i8.bin"))) / double(fs::file_size(dir.file("f32.bin")));
  CHECK(ratio < 0.26);
  CHECK(ratio > 0.25);
  f.tensors[0].second[7] = std::nanf("");
  try {
    save_model_file(dir.file("nan.bin"), f);
    FAIL("a NaN was saved as int8");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("cannot save '" + dir.file("nan.bin") +
                                     "' as int8: tensor 'w'") != std::string::npos);
  }
  CHECK_FALSE(fs::exists(dir.file("nan.bin")));
}

TEST_CASE("a truncated int8 tensor is refused as damaged", "[io][int8]") {
  TempDir dir;
  ModelFile f;
  f.tensors.emplace_back("w", rows_of_magnitudes(4, 8));
  f.set_dtype_all(TensorDtype::kInt8);
  save_model_file(dir.file("m.bin"), f);
  std::string bytes = read_bytes(dir.file("m.bin"));
  // Cut 5 bytes of data (a scale and more) and re-seal: the sizes no longer add up.
  bytes.erase(bytes.size() - 4 - 5, 5);
  const uint64_t total = bytes.size();
  std::memcpy(&bytes[12], &total, 8);  // header: magic 8, version 4, total size 8
  const uint32_t crc = crc32_update(0, bytes.data(), bytes.size() - 4);
  std::memcpy(&bytes[bytes.size() - 4], &crc, 4);
  write_bytes(dir.file("cut.bin"), bytes);
  const std::string msg = load_error(dir.file("cut.bin"));
  CHECK(msg.find("larger than the") != std::string::npos);
}
