// The attnmt model file: one self-describing binary file holding everything a model needs
// (config, SentencePiece model, named parameters), also used for training checkpoints (the
// optimizer moments are more named tensors; the step and random state are config entries).
// Not here: what the keys and tensor names mean (models/ and train/ decide that).
//
// Layout (all integers little-endian; strings are a length then the bytes, no terminator):
//   offset 0   magic "ATTNMT\0\0"                                 8 bytes
//          8   format version, uint32 (kModelFormatVersion)        4
//         12   total file size in bytes, uint64 (checksum incl.)  8
//         20   config:  uint64 count, then count x (key: u32 len + bytes, value: u64 len + bytes)
//              blobs:   uint64 count, then count x (name: u32 len + bytes, data: u64 len + bytes)
//              tensors: uint64 count, then count x (name: u32 len + bytes, rank u32 (0..4),
//                       rank x int64 dims, dtype u8 (0 = float32, 1 = float16),
//                       numel x 4 bytes (float32) or numel x 2 bytes (IEEE float16) of data)
//   size - 4   CRC-32 (IEEE, as zlib) of every byte before it, uint32
// Version 1 (still read) is the same without the dtype byte: every tensor is float32.
// In memory every tensor is float32; float16 is only how a tensor is stored (half the bytes,
// about 3 significant digits), chosen per tensor when saving (ModelFile::dtypes).
//
// Loading checks, in order: the file opens; the magic; the version; the size (a shorter file
// is "truncated"); the checksum (any flipped byte after the header is "checksum mismatch");
// then every length and dtype byte against the bytes left before anything is allocated. Every
// refusal is an attnmt::Error naming the file, what is wrong and what to do.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tensor/choice.h"
#include "tensor/tensor.h"

namespace attnmt {

inline constexpr uint32_t kModelFormatVersion = 2;       // written; versions 1 and 2 are read
inline constexpr size_t kModelFileMaxNameLength = 4096;  // keys, blob and tensor names

// How a tensor is stored in the file (the byte value is the file's dtype byte). int8: per row
// of the tensor's 2-D view ([outer, last]) a float32 scale, then the row's values as int8,
// value = scale x q with scale = max |row| / 127 (symmetric; the rows of a weight matrix are
// its output units, as the int8 products quantise them). Loading gives float32 values.
enum class TensorDtype : uint8_t { kFloat32 = 0, kFloat16 = 1, kInt8 = 2 };
constexpr ChoiceTable<TensorDtype, 3> choices(TensorDtype) {
  using enum TensorDtype;
  return {"dtype", {{kFloat32, "float32"}, {kFloat16, "float16"}, {kInt8, "int8"}}};
}
// The largest magnitude float16 holds; saving a larger value as float16 is refused.
inline constexpr float kFloat16Max = 65504.0f;

struct ModelFile {
  std::vector<std::pair<std::string, std::string>> config;  // ordered key -> value
  std::vector<std::pair<std::string, std::string>> blobs;   // e.g. {"vocab", spm proto bytes}
  std::vector<std::pair<std::string, Tensor>> tensors;      // parameter path -> tensor
  std::string source;  // the path it was loaded from ("" when built in memory), for messages
  // Storage dtype by tensor name; a tensor not named here is stored as float32. Loading fills
  // it for the float16 tensors read; saving follows it.
  std::map<std::string, TensorDtype> dtypes;

  // Config: nullptr / throws Error naming the key and the file when absent.
  const std::string* find_config(const std::string& key) const;
  const std::string& config_at(const std::string& key) const;
  // Sets (replacing in place, or appending) a config entry.
  void set_config(const std::string& key, const std::string& value);

  bool has_blob(const std::string& name) const;
  const std::string& blob(const std::string& name) const;  // throws when absent

  bool has_tensor(const std::string& name) const;
  const Tensor& tensor(const std::string& name) const;  // throws when absent

  TensorDtype dtype(const std::string& tensor_name) const;  // float32 unless set
  // Stores every tensor now in `tensors` as `d` (tensors added later stay float32). int8
  // applies to matrices only (rank >= 2): vectors (biases, norms) stay float32.
  void set_dtype_all(TensorDtype d);
};

// Writes atomically (io/atomic_file.h): a crash or a full disk never leaves half a file.
// Throws Error on duplicate names, over-long names, a tensor without storage, or a value of a
// float16 tensor beyond +-65504 (it would become inf), before anything is written.
void save_model_file(const std::string& path, const ModelFile& file);

// Reads and validates the whole file (format version 1 or 2); float16 tensors come back as
// float32. Never returns a half-loaded model.
ModelFile load_model_file(const std::string& path);
// The same from the bytes of a file; `path` names it in messages (the fuzz target's entry).
ModelFile parse_model_file(const std::string& bytes, const std::string& path);

// CRC-32 (IEEE 802.3 polynomial, same values as zlib's crc32). Pass the previous value to
// continue a running checksum; start from 0.
uint32_t crc32_update(uint32_t crc, const void* data, size_t n);

}  // namespace attnmt
