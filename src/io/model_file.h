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
//                       rank x int64 dims, numel x float32 data)
//   size - 4   CRC-32 (IEEE, as zlib) of every byte before it, uint32
//
// Loading checks, in order: the file opens; the magic; the version; the size (a shorter file
// is "truncated"); the checksum (any flipped byte after the header is "checksum mismatch");
// then every length against the bytes left before anything is allocated. Every refusal is an
// attnmt::Error naming the file, what is wrong and what to do.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace attnmt {

inline constexpr uint32_t kModelFormatVersion = 1;
inline constexpr size_t kModelFileMaxNameLength = 4096;  // keys, blob and tensor names

struct ModelFile {
  std::vector<std::pair<std::string, std::string>> config;   // ordered key -> value
  std::vector<std::pair<std::string, std::string>> blobs;    // e.g. {"vocab", spm proto bytes}
  std::vector<std::pair<std::string, Tensor>> tensors;       // parameter path -> tensor
  std::string source;  // the path it was loaded from ("" when built in memory), for messages

  // Config: nullptr / throws Error naming the key and the file when absent.
  const std::string* find_config(const std::string& key) const;
  const std::string& config_at(const std::string& key) const;
  // Sets (replacing in place, or appending) a config entry.
  void set_config(const std::string& key, const std::string& value);

  bool has_blob(const std::string& name) const;
  const std::string& blob(const std::string& name) const;  // throws when absent

  bool has_tensor(const std::string& name) const;
  const Tensor& tensor(const std::string& name) const;  // throws when absent
};

// Writes atomically (io/atomic_file.h): a crash or a full disk never leaves half a file.
// Throws Error on duplicate names, over-long names or a tensor without storage.
void save_model_file(const std::string& path, const ModelFile& file);

// Reads and validates the whole file; never returns a half-loaded model.
ModelFile load_model_file(const std::string& path);

// CRC-32 (IEEE 802.3 polynomial, same values as zlib's crc32). Pass the previous value to
// continue a running checksum; start from 0.
uint32_t crc32_update(uint32_t crc, const void* data, size_t n);

}  // namespace attnmt
