// Shared by the fuzz targets (libFuzzer, built with -DATTNMT_FUZZ=ON: see docs/RELIABILITY.md).
// A finding is a crash, a sanitizer report, an exception other than attnmt::Error escaping (an
// uncaught exception aborts), or a broken property checked with FUZZ_REQUIRE.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "io/model_file.h"

#define FUZZ_REQUIRE(cond)                                                        \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "property broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                               \
    }                                                                             \
  } while (0)

namespace attnmt::fuzz {

// Splits the input in two at the first byte 0xFF (not valid in UTF-8, so both halves stay
// text-like); without one, the second part is empty.
inline std::pair<std::string_view, std::string_view> split_in_two(const uint8_t* data, size_t n) {
  std::string_view all(reinterpret_cast<const char*>(data), n);
  const size_t at = all.find('\xFF');
  if (at == std::string_view::npos) return {all, {}};
  return {all.substr(0, at), all.substr(at + 1)};
}

// A file of this process (in a private folder under the temp dir) holding `bytes`.
inline std::string write_temp(const std::string& name, std::string_view bytes) {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() /
             ("attnmt-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  const std::string path = (dir / name).string();
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// Gives model-file bytes a valid size field and checksum, so that the parser behind them is
// reached (fuzz_model_file's mode bit 0, and the regression test of its findings).
inline void seal_model_bytes(std::string& bytes) {
  if (bytes.size() < 24) return;
  const uint64_t size = bytes.size();
  std::memcpy(&bytes[12], &size, 8);
  const uint32_t crc = crc32_update(0, bytes.data(), bytes.size() - 4);
  std::memcpy(&bytes[bytes.size() - 4], &crc, 4);
}

}  // namespace attnmt::fuzz
