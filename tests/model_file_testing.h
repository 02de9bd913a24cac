// Byte-level helpers for the model-file tests (test_io_model_file.cpp, test_io_float16.cpp):
// read and rewrite a file's bytes, and the message a load refuses it with.
#pragma once

#include <fstream>
#include <iterator>
#include <string>

#include "io/model_file.h"
#include "tensor/error.h"

namespace attnmt::testing {

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// The message of the Error that loading `path` throws ("" if it loads).
inline std::string load_error(const std::string& path) {
  try {
    load_model_file(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace attnmt::testing
