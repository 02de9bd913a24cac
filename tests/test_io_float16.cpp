// Model file format version 2: float16 storage of tensors (round trip, size, range refusal,
// dtype byte validation), version 1 files still read, and `attnmt convert` / `attnmt train
// --save-dtype` end to end on a tiny trained model.
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "helpers.h"
#include "model_file_testing.h"
#include "io/model_file.h"
#include "tensor/error.h"

using namespace attnmt;
using namespace attnmt::testing;

namespace {

std::string save_error(const std::string& path, const ModelFile& f) {
  try {
    save_model_file(path, f);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
// Magnitudes spread from 1e-4 to 6e4 (float16's normal range), both signs.
Tensor spread_tensor(const Shape& shape, unsigned seed) {
  Tensor t = Tensor::uninitialized(shape);
  uint32_t s = seed;
  for (int64_t i = 0; i < t.numel(); ++i) {
    s = s * 1664525u + 1013904223u;
    const double u = (s >> 8) / double(1u << 24);  // [0, 1)
    const double mag = std::pow(10.0, -4.0 + 8.7 * u);
    t[i] = static_cast<float>((s & 1) ? -mag : mag);
  }
  return t;
}

// A format version 1 file written by hand (the layout of model_file.h without dtype bytes).
class V1Writer {
 public:
  template <typename T>
  void num(T v) {
    bytes_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void str32(const std::string& s) {
    num<uint32_t>(uint32_t(s.size()));
    bytes_ += s;
  }
  void str64(const std::string& s) {
    num<uint64_t>(s.size());
    bytes_ += s;
  }
  std::string finish(const ModelFile& f) {
    bytes_.assign("ATTNMT\0\0", 8);
    num<uint32_t>(1);
    num<uint64_t>(0);  // total size, patched below
    num<uint64_t>(f.config.size());
    for (const auto& [k, v] : f.config) str32(k), str64(v);
    num<uint64_t>(f.blobs.size());
    for (const auto& [k, v] : f.blobs) str32(k), str64(v);
    num<uint64_t>(f.tensors.size());
    for (const auto& [name, t] : f.tensors) {
      str32(name);
      num<uint32_t>(uint32_t(t.rank()));
      for (int i = 0; i < t.rank(); ++i) num<int64_t>(t.dim(i));
      bytes_.append(reinterpret_cast<const char*>(t.data()), 4 * size_t(t.numel()));
    }
    uint64_t total = bytes_.size() + 4;
    std::memcpy(&bytes_[12], &total, 8);
    num<uint32_t>(crc32_update(0, bytes_.data(), bytes_.size()));
    return bytes_;
  }

 private:
  std::string bytes_;
};

}  // namespace

TEST_CASE("float16 tensors round-trip within float16 precision, float32 ones exactly",
          "[io][fp16]") {
  TempDir dir;
  ModelFile f;
  f.config = {{"arch", "transformer"}};
  f.blobs = {{"vocab", "bytes"}};
  f.tensors.emplace_back("w16", spread_tensor({40, 25}, 1));
  f.tensors.emplace_back("w32", spread_tensor({7, 3}, 2));
  f.tensors.emplace_back("empty", Tensor::uninitialized({0}));
  f.dtypes["w16"] = TensorDtype::kFloat16;
  f.dtypes["empty"] = TensorDtype::kFloat16;
  save_model_file(dir.file("m.bin"), f);
  ModelFile g = load_model_file(dir.file("m.bin"));
  CHECK(g.config == f.config);
  CHECK(g.blob("vocab") == "bytes");
  CHECK(g.dtype("w16") == TensorDtype::kFloat16);
  CHECK(g.dtype("w32") == TensorDtype::kFloat32);
  CHECK(g.tensor("empty").numel() == 0);
  const Tensor &a = f.tensor("w16"), &b = g.tensor("w16");
  REQUIRE(b.shape() == a.shape());
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    worst = std::max(worst, std::fabs(double(b[i] - a[i]) / a[i]));
  CHECK(worst <= 1e-3);  // 11 significant bits: at most 2^-11 ~ 4.9e-4
  CHECK(worst > 1e-6);   // it really was stored in 16 bits
  CHECK(std::memcmp(f.tensor("w32").data(), g.tensor("w32").data(), 21 * 4) == 0);
}

TEST_CASE("values representable in float16 come back exactly", "[io][fp16]") {
  TempDir dir;
  // 0, -0, small integers, dyadic fractions with at most 11 significant bits, the largest
  // finite value, the smallest normal (2^-14) and the smallest subnormal (2^-24).
  const std::vector<float> values = {0.0f,
                                     -0.0f,
                                     1.0f,
                                     -1.0f,
                                     0.5f,
                                     1.5f,
                                     3.140625f,
                                     1000.0f,
                                     2047.0f,
                                     2048.0f,
                                     -1365.0f / 4096.0f,
                                     65504.0f,
                                     -65504.0f,
                                     std::ldexp(1.0f, -14),
                                     std::ldexp(1.0f, -24),
                                     -std::ldexp(3.0f, -24)};
  ModelFile f;
  Tensor x = Tensor::uninitialized({int64_t(values.size())});
  std::memcpy(x.data(), values.data(), 4 * values.size());
  f.tensors.emplace_back("x", x);
  f.set_dtype_all(TensorDtype::kFloat16);
  save_model_file(dir.file("m.bin"), f);
  ModelFile g = load_model_file(dir.file("m.bin"));
  const Tensor& t = g.tensor("x");
  for (size_t i = 0; i < values.size(); ++i) {
    INFO("value " << values[i]);
    CHECK(std::memcmp(t.data() + i, &values[i], 4) == 0);  // bit for bit (-0 stays -0)
  }
  // NaN stays NaN (float16 does not make it worse).
  f.tensors[0].second[0] = std::numeric_limits<float>::quiet_NaN();
  save_model_file(dir.file("nan.bin"), f);
  CHECK(std::isnan(load_model_file(dir.file("nan.bin")).tensor("x")[0]));
}

TEST_CASE("a float16 file is about half the size of the float32 one", "[io][fp16]") {
  TempDir dir;
  ModelFile f;
  f.config = {{"arch", "lstm"}};
  f.tensors.emplace_back("a", spread_tensor({100, 64}, 3));
  f.tensors.emplace_back("b", spread_tensor({64}, 4));
  save_model_file(dir.file("f32.bin"), f);
  f.set_dtype_all(TensorDtype::kFloat16);
  save_model_file(dir.file("f16.bin"), f);
  const auto s32 = fs::file_size(dir.file("f32.bin"));
  const auto s16 = fs::file_size(dir.file("f16.bin"));
  CHECK(s32 - s16 == 2 * (6400 + 64));  // two bytes fewer per value, the rest identical
  CHECK(double(s16) / double(s32) < 0.51);
}

TEST_CASE("a format version 1 file (no dtype bytes) still loads with identical values",
          "[io][fp16]") {
  TempDir dir;
  ModelFile f;
  f.config = {{"arch", "lstm"}, {"dim", "8"}};
  f.blobs = {{"vocab", std::string("a\0b", 3)}};
  f.tensors.emplace_back("w", spread_tensor({3, 5}, 5));
  f.tensors.emplace_back("s", Tensor::from({1}, {-0.0f}));
  const std::string bytes = V1Writer().finish(f);
  write_bytes(dir.file("v1.bin"), bytes);
  ModelFile g = load_model_file(dir.file("v1.bin"));
  CHECK(g.config == f.config);
  CHECK(g.blob("vocab") == f.blob("vocab"));
  REQUIRE(g.tensors.size() == 2);
  CHECK(g.tensors[0].first == "w");
  CHECK(g.tensor("w").shape() == Shape{3, 5});
  CHECK(std::memcmp(g.tensor("w").data(), f.tensor("w").data(), 15 * 4) == 0);
  CHECK(std::memcmp(g.tensor("s").data(), f.tensor("s").data(), 4) == 0);
  CHECK(g.dtypes.empty());
  // Saving it again writes the current version, one dtype byte more per tensor.
  save_model_file(dir.file("v2.bin"), g);
  const std::string v2 = read_bytes(dir.file("v2.bin"));
  uint32_t version;
  std::memcpy(&version, v2.data() + 8, 4);
  CHECK(version == kModelFormatVersion);
  CHECK(v2.size() == bytes.size() + 2);
}

TEST_CASE("an unknown dtype byte is refused naming the file and the tensor", "[io][fp16]") {
  TempDir dir;
  ModelFile f;
  f.tensors.emplace_back("decoder/w", Tensor::from({2}, {1.0f, 2.0f}));
  save_model_file(dir.file("m.bin"), f);
  std::string bytes = read_bytes(dir.file("m.bin"));
  // header 20 | 3 counts | name len @44 | "decoder/w" @48 | rank @57 | dim @61 | dtype @69.
  REQUIRE(bytes.size() == 82);
  REQUIRE(bytes[69] == 0);
  bytes[69] = 7;
  // A flipped byte is caught by the checksum first; recompute it to reach the dtype check.
  CHECK(contains((write_bytes(dir.file("bad.bin"), bytes), load_error(dir.file("bad.bin"))),
                 "checksum mismatch"));
  uint32_t crc = crc32_update(0, bytes.data(), bytes.size() - 4);
  std::memcpy(&bytes[bytes.size() - 4], &crc, 4);
  write_bytes(dir.file("bad.bin"), bytes);
  const std::string msg = load_error(dir.file("bad.bin"));
  CHECK(contains(msg, "'" + dir.file("bad.bin") +
                          "': tensor 'decoder/w' has an unknown storage "
                          "dtype 7 (this build knows 0 = float32, 1 = float16 and 2 = int8)"));
  CHECK(contains(msg, "upgrade attnmt"));
  // dtype 1 is valid but then 2 x 2 bytes of data leave 4 bytes over: damaged, not misread.
  bytes[69] = 1;
  crc = crc32_update(0, bytes.data(), bytes.size() - 4);
  std::memcpy(&bytes[bytes.size() - 4], &crc, 4);
  write_bytes(dir.file("bad.bin"), bytes);
  CHECK(contains(load_error(dir.file("bad.bin")), "4 unexpected bytes before the checksum"));
}

TEST_CASE("a value beyond float16's range is refused at save, naming the tensor", "[io][fp16]") {
  TempDir dir;
  ModelFile f;
  f.tensors.emplace_back("ok", Tensor::from({2}, {65504.0f, -65504.0f}));
  f.tensors.emplace_back("encoder/big", Tensor::from({3}, {1.0f, 2.0f, -70000.0f}));
  f.set_dtype_all(TensorDtype::kFloat16);
  std::string msg = save_error(dir.file("m.bin"), f);
  CHECK(contains(msg, "cannot save '" + dir.file("m.bin") +
                          "' as float16: tensor 'encoder/big' "
                          "holds -70000 (element 2)"));
  CHECK(contains(msg, "save this model as float32"));
  CHECK(fs::is_empty(dir.path()));  // nothing written, no temp file left
  f.tensors[1].second[2] = std::numeric_limits<float>::infinity();
  CHECK(contains(save_error(dir.file("m.bin"), f), "'encoder/big' holds inf"));
  f.tensors[1].second[2] = 65505.0f;  // would round down to 65504, but is beyond the range
  CHECK(contains(save_error(dir.file("m.bin"), f), "'encoder/big'"));
  // As float32 the same values are fine.
  f.dtypes["encoder/big"] = TensorDtype::kFloat32;
  CHECK(save_error(dir.file("m.bin"), f).empty());
  CHECK(load_model_file(dir.file("m.bin")).tensor("encoder/big")[2] == 65505.0f);
}

TEST_CASE("dtype names parse, and others are refused", "[io][fp16]") {
  CHECK(parse_choice<TensorDtype>("float16") == TensorDtype::kFloat16);
  CHECK(parse_choice<TensorDtype>("float32") == TensorDtype::kFloat32);
  CHECK(parse_choice<TensorDtype>("int8") == TensorDtype::kInt8);
  CHECK(name_of(TensorDtype::kFloat16) == "float16");
  CHECK_THROWS_WITH(parse_choice<TensorDtype>("bf16", "--dtype"),
                    "--dtype: unknown dtype 'bf16': choose float32, float16 or int8");
}

TEST_CASE("attnmt convert to float16 halves a trained model that translates the same",
          "[e2e][fp16]") {
  TempDir dir("e2e-fp16");
  const std::string d = dir.path().string();
  write_tiny_corpus(d);
  const std::string tiny =
      " --src " + d + "/train.en --tgt " + d +
      "/train.es --vocab-size 40 --emb-dim 32"
      " --enc-hidden 32 --dec-hidden 64 --dropout 0 --label-smoothing 0 --batch-tokens 500"
      " --lr 0.01 --threads 1 -q";
  auto t = run_attnmt("train" + tiny + " -o " + d + "/m.bin --max-steps 150");
  INFO(t.err);
  REQUIRE(t.exit_code == 0);
  auto c = run_attnmt("convert -m " + d + "/m.bin -o " + d + "/m16.bin --dtype float16");
  INFO(c.err);
  REQUIRE(c.exit_code == 0);
  // Every parameter takes 2 bytes instead of 4; the rest (config, the vocabulary, which
  // dominates a model this tiny) is the same.
  int64_t n_values = 0;
  for (const auto& [name, x] : load_model_file(d + "/m.bin").tensors) n_values += x.numel();
  CHECK(n_values > 10000);
  CHECK(fs::file_size(d + "/m.bin") - fs::file_size(d + "/m16.bin") == uint64_t(2 * n_values));

  const std::string refs = read_text(d + "/train.es");
  for (const char* search : {"--greedy", "--beam 5"}) {
    INFO(search);
    auto r32 =
        run_attnmt("translate -m " + d + "/m.bin -i " + d + "/train.en --threads 1 " + search);
    auto r16 =
        run_attnmt("translate -m " + d + "/m16.bin -i " + d + "/train.en --threads 1 " + search);
    REQUIRE(r32.exit_code == 0);
    REQUIRE(r16.exit_code == 0);
    CHECK(split_lines(r16.out).size() == 50);
    CHECK(r16.out == r32.out);
    CHECK(r16.out == refs);  // and both still reproduce the memorised corpus
  }
  auto info = run_attnmt("info " + d + "/m16.bin");
  REQUIRE(info.exit_code == 0);
  CHECK(contains(info.out, "storage      float16 (all "));
  CHECK(contains(info.out, fmt::format("file size    {} bytes", fs::file_size(d + "/m16.bin"))));
  CHECK(contains(run_attnmt("info " + d + "/m.bin").out, "storage      float32 (all "));

  // Back to float32: the float16 values exactly, config and vocabulary untouched.
  REQUIRE(
      run_attnmt("convert -m " + d + "/m16.bin -o " + d + "/back.bin --dtype float32").exit_code ==
      0);
  ModelFile a = load_model_file(d + "/m16.bin"), b = load_model_file(d + "/back.bin");
  CHECK(b.dtypes.empty());
  CHECK(a.config == b.config);
  CHECK(a.blobs == b.blobs);
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    CHECK(a.tensors[i].first == b.tensors[i].first);
    CHECK(std::memcmp(a.tensors[i].second.data(), b.tensors[i].second.data(),
                      4 * size_t(a.tensors[i].second.numel())) == 0);
  }

  // Bad usage: an unknown dtype, a missing --dtype (exit 2, saying what to use).
  auto bad = run_attnmt("convert -m " + d + "/m.bin -o " + d + "/x.bin --dtype int4");
  CHECK(bad.exit_code == 2);
  CHECK(contains(bad.err, "unknown dtype 'int4' for option '--dtype': choose float32, float16 or int8"));
  CHECK(run_attnmt("convert -m " + d + "/m.bin -o " + d + "/x.bin").exit_code == 2);
  CHECK_FALSE(fs::exists(d + "/x.bin"));
  auto missing = run_attnmt("convert -m " + d + "/nope.bin -o " + d + "/x.bin --dtype float16");
  CHECK(missing.exit_code == 1);
  CHECK(contains(missing.err, "cannot open model file '" + d + "/nope.bin'"));
  auto help = run_attnmt("convert --help");
  CHECK(contains(help.out, "usage: attnmt convert"));
  CHECK(contains(help.out, "checkpoints"));
}

TEST_CASE("attnmt train --save-dtype float16 writes a float16 model and a float32 checkpoint",
          "[e2e][fp16]") {
  TempDir dir("e2e-fp16-train");
  const std::string d = dir.path().string();
  write_tiny_corpus(d, 20);
  auto t = run_attnmt("train --src " + d + "/train.en --tgt " + d + "/train.es -o " + d +
                      "/m.bin --vocab-size 30 --max-steps 3 --emb-dim 16 --enc-hidden 16"
                      " --dec-hidden 32 --threads 1 -q --save-dtype float16");
  INFO(t.err);
  REQUIRE(t.exit_code == 0);
  ModelFile m = load_model_file(d + "/m.bin");
  ModelFile ckpt = load_model_file(d + "/m.bin.ckpt");
  CHECK(ckpt.dtypes.empty());  // every checkpoint tensor float32
  REQUIRE_FALSE(m.tensors.empty());
  for (const auto& [name, x] : m.tensors) {
    INFO(name);
    CHECK(m.dtype(name) == TensorDtype::kFloat16);
    const Tensor& y = ckpt.tensor(name);  // the same parameters, before rounding
    REQUIRE(x.shape() == y.shape());
    for (int64_t i = 0; i < x.numel(); ++i)
      if (std::fabs(x[i] - y[i]) > 1e-3 * std::fabs(y[i]) + 6e-8) FAIL(name << "[" << i << "]");
  }
  auto bad = run_attnmt("train --src " + d + "/train.en --tgt " + d + "/train.es -o " + d +
                        "/n.bin --max-steps 1 --threads 1 -q --save-dtype half");
  CHECK(bad.exit_code == 2);  // refused at parse time, before any work
  CHECK(contains(bad.err, "unknown dtype 'half' for option '--save-dtype'"));
}
