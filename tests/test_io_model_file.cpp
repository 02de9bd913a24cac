// The model file: round trips, and every kind of damage refused with a clear attnmt::Error.
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

#include "helpers.h"
#include "model_file_testing.h"
#include "io/model_file.h"
#include "tensor/error.h"

using namespace attnmt;
using namespace attnmt::testing;

namespace {

// Fills with distinct values, including bit patterns a text format would lose.
Tensor make_tensor(const Shape& shape, float seed) {
  Tensor t = Tensor::uninitialized(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = seed + 0.001f * static_cast<float>(i) / 3.0f;
  return t;
}

ModelFile sample_file() {
  ModelFile f;
  f.config = {{"zeta", "last-alphabetically-first-in-file"}, {"arch", "transformer"},
              {"dim", "512"}, {"empty", ""}};
  f.blobs = {{"vocab", std::string("spm\0proto\0\xff bytes", 18)}, {"vocab.tgt", std::string(1000, 'x')}};
  f.tensors.emplace_back("encoder/bias", make_tensor({7}, 1.0f));
  f.tensors.emplace_back("encoder/weight", make_tensor({5, 3}, -2.0f));
  f.tensors.emplace_back("attention/qkv", make_tensor({2, 3, 4}, 0.5f));
  f.tensors.emplace_back("adam/m", make_tensor({2, 1, 3, 2}, 3.0f));
  f.tensors.emplace_back("empty", Tensor::uninitialized({0}));
  f.tensors.emplace_back("empty2d", Tensor::uninitialized({3, 0}));
  return f;
}

}  // namespace

TEST_CASE("crc32_update matches the standard CRC-32 check value", "[io]") {
  CHECK(crc32_update(0, "123456789", 9) == 0xCBF43926u);
  // Running checksum over pieces equals the one-shot checksum (the writer relies on this).
  std::string s(1000, '\0');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i * 31 + 7);
  uint32_t whole = crc32_update(0, s.data(), s.size());
  uint32_t parts = crc32_update(crc32_update(0, s.data(), 13), s.data() + 13, s.size() - 13);
  CHECK(whole == parts);
  CHECK(crc32_update(0, "", 0) == 0u);
}

TEST_CASE("a model file round-trips config order, blobs with NUL bytes and exact tensors", "[io]") {
  TempDir dir;
  ModelFile f = sample_file();
  // Special values whose bits must survive: -0, denormal, inf, NaN with a payload.
  Tensor& special = f.tensors[0].second;
  special[0] = -0.0f;
  special[1] = std::numeric_limits<float>::denorm_min();
  special[2] = std::numeric_limits<float>::infinity();
  uint32_t nan_bits = 0x7fc01234u;
  std::memcpy(&special[3], &nan_bits, 4);

  save_model_file(dir.file("m.bin"), f);
  ModelFile g = load_model_file(dir.file("m.bin"));
  CHECK(g.source == dir.file("m.bin"));
  CHECK(g.config == f.config);  // same order, not sorted
  REQUIRE(g.blobs.size() == 2);
  CHECK(g.blob("vocab") == f.blob("vocab"));
  CHECK(g.blob("vocab").size() == 18);
  CHECK(g.blob("vocab.tgt") == std::string(1000, 'x'));
  REQUIRE(g.tensors.size() == f.tensors.size());
  for (size_t i = 0; i < f.tensors.size(); ++i) {
    INFO(f.tensors[i].first);
    CHECK(g.tensors[i].first == f.tensors[i].first);
    const Tensor& a = f.tensors[i].second;
    const Tensor& b = g.tensors[i].second;
    CHECK(a.shape() == b.shape());
    CHECK(std::memcmp(a.data(), b.data(), sizeof(float) * a.numel()) == 0);
  }
  CHECK(g.tensor("adam/m").rank() == 4);
  CHECK(g.tensor("empty").numel() == 0);
  CHECK(g.tensor("empty2d").shape() == Shape{3, 0});
  CHECK(g.config_at("dim") == "512");
  CHECK(g.find_config("nope") == nullptr);
  CHECK(g.has_tensor("encoder/bias"));
  CHECK_FALSE(g.has_tensor("decoder/bias"));
}

TEST_CASE("missing entries throw naming the key and the file", "[io]") {
  TempDir dir;
  save_model_file(dir.file("m.bin"), sample_file());
  ModelFile g = load_model_file(dir.file("m.bin"));
  try {
    g.config_at("n_layers");
    FAIL("config_at did not throw");
  } catch (const Error& e) {
    CHECK(contains(e.what(), "n_layers"));
    CHECK(contains(e.what(), dir.file("m.bin")));
  }
  CHECK_THROWS_AS(g.tensor("decoder/weight"), Error);
  CHECK_THROWS_WITH(g.tensor("decoder/weight"), Catch::Contains("decoder/weight"));
  CHECK_THROWS_WITH(g.blob("vocab.src"), Catch::Contains("vocab.src"));
  g.set_config("dim", "256");
  g.set_config("new", "1");
  CHECK(g.config_at("dim") == "256");
  CHECK(g.config.back().first == "new");
}

TEST_CASE("saving refuses duplicate or over-long names and writes nothing", "[io]") {
  TempDir dir;
  ModelFile f = sample_file();
  f.tensors.emplace_back("encoder/bias", make_tensor({1}, 0.0f));
  CHECK_THROWS_WITH(save_model_file(dir.file("m.bin"), f), Catch::Contains("duplicate tensor"));
  ModelFile h;
  h.config.emplace_back(std::string(5000, 'k'), "v");
  CHECK_THROWS_AS(save_model_file(dir.file("m.bin"), h), Error);
  CHECK_FALSE(fs::exists(dir.file("m.bin")));
  CHECK(fs::is_empty(dir.path()));
}

TEST_CASE("a missing file or a file that is not a model is refused", "[io]") {
  TempDir dir;
  std::string msg = load_error(dir.file("absent.bin"));
  CHECK(contains(msg, "cannot open model file"));
  CHECK(contains(msg, dir.file("absent.bin")));
  write_text(dir.file("text.txt"), "this is a text file, not a model at all\n");
  msg = load_error(dir.file("text.txt"));
  CHECK(contains(msg, "not an attnmt model file"));
  CHECK(contains(msg, dir.file("text.txt")));
  CHECK(contains(load_error(dir.path().string()), dir.path().string()));  // a folder
}

TEST_CASE("a file from a newer format version is refused saying so, a damaged version byte as "
          "damage",
          "[io]") {
  TempDir dir;
  save_model_file(dir.file("m.bin"), sample_file());
  std::string bytes = read_bytes(dir.file("m.bin"));
  uint32_t v = kModelFormatVersion + 1;
  std::memcpy(&bytes[8], &v, 4);
  // Flipped alone, the version byte is damage: the checksum no longer matches.
  write_bytes(dir.file("m.bin"), bytes);
  std::string msg = load_error(dir.file("m.bin"));
  CHECK(contains(msg, "checksum mismatch: the file is damaged"));
  CHECK_FALSE(contains(msg, "upgrade"));
  // Written so by a newer attnmt (the checksum covers the new version): upgrade.
  const uint32_t crc = crc32_update(0, bytes.data(), bytes.size() - 4);
  std::memcpy(&bytes[bytes.size() - 4], &crc, 4);
  write_bytes(dir.file("m.bin"), bytes);
  msg = load_error(dir.file("m.bin"));
  CHECK(contains(msg, fmt::format("written by a newer attnmt (format version {}, this build reads {})",
                                  v, kModelFormatVersion)));
}

TEST_CASE("a file truncated at any byte is refused as truncated", "[io]") {
  TempDir dir;
  save_model_file(dir.file("m.bin"), sample_file());
  const std::string bytes = read_bytes(dir.file("m.bin"));
  const size_t n = bytes.size();
  // Every header byte, every checksum byte, and ~40 positions spread over the rest.
  std::vector<size_t> cuts;
  for (size_t i = 0; i <= 21; ++i) cuts.push_back(i);
  for (size_t k = 1; k < 40; ++k) cuts.push_back(22 + (n - 30) * k / 40);
  for (size_t i = n - 5; i < n; ++i) cuts.push_back(i);
  for (size_t cut : cuts) {
    INFO("cut at " << cut << " of " << n);
    write_bytes(dir.file("cut.bin"), bytes.substr(0, cut));
    std::string msg = load_error(dir.file("cut.bin"));
    CHECK(contains(msg, "truncated: expected"));
    CHECK(contains(msg, dir.file("cut.bin")));
    if (cut >= 20) CHECK(contains(msg, fmt::format("expected {} bytes more", n - cut)));
  }
}

TEST_CASE("a flipped byte anywhere is refused", "[io]") {
  TempDir dir;
  save_model_file(dir.file("m.bin"), sample_file());
  const std::string bytes = read_bytes(dir.file("m.bin"));
  const size_t n = bytes.size();
  std::vector<size_t> positions;
  for (size_t i = 0; i < 24; ++i) positions.push_back(i);
  for (size_t k = 1; k < 60; ++k) positions.push_back(24 + (n - 30) * k / 60);
  for (size_t i = n - 4; i < n; ++i) positions.push_back(i);
  for (size_t pos : positions) {
    for (unsigned char mask : {0x01, 0x80, 0xFF}) {
      INFO("byte " << pos << " of " << n << " xor " << int(mask));
      std::string damaged = bytes;
      damaged[pos] = static_cast<char>(damaged[pos] ^ mask);
      write_bytes(dir.file("flip.bin"), damaged);
      std::string msg = load_error(dir.file("flip.bin"));
      REQUIRE_FALSE(msg.empty());
      CHECK(contains(msg, dir.file("flip.bin")));
      if (pos < 8) CHECK(contains(msg, "not an attnmt model file"));
      else if (pos < 12) {
        CHECK(contains(msg, "damaged"));
        CHECK_FALSE(contains(msg, "upgrade"));
      }
      else if (pos < 20) CHECK((contains(msg, "truncated") || contains(msg, "damaged")));
      else CHECK(contains(msg, "checksum mismatch: the file is damaged; re-download or re-train"));
    }
  }
}

// Files with absurd lengths but a valid checksum (as a buggy or hostile writer could make):
// refused before any allocation of that size.
TEST_CASE("absurd lengths are refused even with a valid checksum", "[io]") {
  TempDir dir;
  ModelFile f;
  f.tensors.emplace_back("t", Tensor::from({2}, {1.0f, 2.0f}));
  save_model_file(dir.file("m.bin"), f);
  const std::string bytes = read_bytes(dir.file("m.bin"));
  // Layout: header 20 | config count @20 | blob count @28 | tensor count @36 | name len @44 |
  // "t" @48 | rank @49 | dim @53 | dtype @61 | data @62 | crc @70.
  REQUIRE(bytes.size() == 74);
  auto patched = [&](size_t offset, auto value) {
    std::string b = bytes;
    std::memcpy(&b[offset], &value, sizeof value);
    uint32_t crc = crc32_update(0, b.data(), b.size() - 4);
    std::memcpy(&b[b.size() - 4], &crc, 4);
    write_bytes(dir.file("bad.bin"), b);
    return load_error(dir.file("bad.bin"));
  };
  CHECK(patched(0, uint8_t{'A'}).empty());  // the patcher itself keeps a good file good
  CHECK(contains(patched(49, uint32_t{5}), "rank 5 (at most 4)"));
  CHECK(contains(patched(44, uint32_t{5000}), "at most 4096"));
  CHECK(contains(patched(44, uint32_t{0xFFFFFFFF}), "at most 4096"));
  CHECK(contains(patched(53, int64_t{1} << 40), "larger than"));
  CHECK(contains(patched(53, int64_t{-2}), "negative dimension"));
  CHECK(contains(patched(53, int64_t{1}), "unexpected bytes"));
  CHECK(contains(patched(36, uint64_t{1} << 60), "cannot fit"));
  CHECK(contains(patched(28, uint64_t{1}), "blob"));
  CHECK(contains(patched(20, uint64_t{~0ull}), "cannot fit"));
  CHECK(contains(patched(49, uint32_t{5}), "is damaged"));
  // A declared size that disagrees with the file.
  CHECK(contains(patched(12, uint64_t{73}), "unexpected bytes after the end"));
  CHECK(contains(patched(61, uint8_t{3}), "unknown storage dtype 3"));
  CHECK(contains(patched(12, uint64_t{10}), "damaged"));
}
