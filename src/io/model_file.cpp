// Reading and writing the attnmt model file. See model_file.h for the layout.
// Writing streams straight to the atomic temp file (no second copy of the parameters in
// memory; float16 tensors go through a small conversion buffer); reading loads the file into one
// buffer, checks size and checksum, then parses with every length checked against the bytes left,
// so a damaged length never causes a huge allocation or a read past the end.
#include "io/model_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ostream>
#include <set>
#include <type_traits>
#include <vector>

#include "io/atomic_file.h"
#include "tensor/error.h"
#include "tensor/quantise.h"

namespace attnmt {

static_assert(std::endian::native == std::endian::little,
              "the model file stores little-endian data; big-endian hosts need byte swapping");

namespace {

constexpr char kMagic[8] = {'A', 'T', 'T', 'N', 'M', 'T', '\0', '\0'};
constexpr size_t kHeaderBytes = 20;  // magic, version, total size
constexpr size_t kChecksumBytes = 4;
// Smallest possible file: header, three empty section counts, checksum.
constexpr size_t kMinFileBytes = kHeaderBytes + 3 * 8 + kChecksumBytes;
constexpr uint32_t kOldestReadableVersion = 1;  // version 1: no dtype byte, all float32

// float16 <-> float32 goes through Eigen::half (round to nearest even, as IEEE), in chunks so
// a large tensor never needs a second full-size copy.
static_assert(sizeof(Eigen::half) == 2 && std::is_trivially_copyable_v<Eigen::half>,
              "Eigen::half must be the 2 raw IEEE float16 bytes");
constexpr int64_t kConvertChunk = 1 << 14;
using HalfArray = Eigen::Array<Eigen::half, Eigen::Dynamic, 1>;

// The 2-D view of a tensor as int8 stores it: `cols` = the last dimension (1 for a scalar),
// rows = numel / cols (0 when cols is 0).
uint64_t last_dim(const std::vector<int64_t>& dims) { return dims.empty() ? 1 : dims.back(); }
uint64_t int8_rows(uint64_t numel, uint64_t cols) { return cols ? numel / cols : 0; }

// Bytes a tensor of `numel` elements, `cols` in its last dimension, takes in the file as `d`.
uint64_t stored_bytes(TensorDtype d, uint64_t numel, uint64_t cols) {
  switch (d) {
    case TensorDtype::kFloat16: return 2 * numel;
    case TensorDtype::kInt8: return 4 * int8_rows(numel, cols) + numel;
    case TensorDtype::kFloat32: break;
  }
  return 4 * numel;
}
uint64_t last_dim(const Tensor& t) { return t.rank() == 0 ? 1 : t.dim(-1); }

// ---- CRC-32, slicing by 8 (about 8x faster than the byte-wise loop on big models). ----
using CrcTables = std::array<std::array<uint32_t, 256>, 8>;

CrcTables make_crc_tables() {
  CrcTables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[0][i] = c;
  }
  for (int k = 1; k < 8; ++k)
    for (int i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
  return t;
}

// ---- Writing ----
class Sink {
 public:
  explicit Sink(std::ostream& os) : os_(os) {}
  void put(const void* data, size_t n) {
    os_.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
    crc_ = crc32_update(crc_, data, n);
    written_ += n;
  }
  template <typename T>
  void num(T v) { put(&v, sizeof v); }
  void str32(const std::string& s) { num<uint32_t>(static_cast<uint32_t>(s.size())); put(s.data(), s.size()); }
  void str64(const std::string& s) { num<uint64_t>(s.size()); put(s.data(), s.size()); }
  uint32_t crc() const { return crc_; }
  uint64_t written() const { return written_; }

 private:
  std::ostream& os_;
  uint32_t crc_ = 0;
  uint64_t written_ = 0;
};

template <typename Entries>
void check_names(const Entries& entries, const char* what, const std::string& path) {
  std::set<std::string> seen;
  for (const auto& [name, value] : entries) {
    ATTNMT_CHECK(name.size() <= kModelFileMaxNameLength,
                 "cannot save '{}': {} name '{}...' is {} bytes long (at most {})", path, what,
                 name.substr(0, 40), name.size(), kModelFileMaxNameLength);
    ATTNMT_CHECK(seen.insert(name).second, "cannot save '{}': duplicate {} name '{}'", path,
                 what, name);
  }
}

void write_float16(Sink& out, const float* x, int64_t n) {
  std::vector<Eigen::half> buf(static_cast<size_t>(std::min(n, kConvertChunk)));
  for (int64_t i = 0; i < n; i += kConvertChunk) {
    const int64_t m = std::min(kConvertChunk, n - i);
    Eigen::Map<HalfArray>(buf.data(), m) =
        Eigen::Map<const Eigen::ArrayXf>(x + i, m).cast<Eigen::half>();
    out.put(buf.data(), sizeof(Eigen::half) * static_cast<size_t>(m));
  }
}

// A value beyond float16's range would silently become inf: refuse before writing anything.
// NaN stays NaN (it is not made worse by float16).
void check_float16_range(const std::string& path, const std::string& name, const Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i) {
    const float v = t[i];
    if (std::fabs(v) > kFloat16Max)
      fail("cannot save '{}' as float16: tensor '{}' holds {} (element {}), beyond float16's "
           "range of +-{} (it would become infinity); save this model as float32 instead",
           path, name, v, i, kFloat16Max);
  }
}

// Per row: the float32 scale, then the row as int8 (quantise_int8, as the int8 products do).
void write_int8(Sink& out, const float* x, int64_t rows, int64_t cols) {
  std::vector<int8_t> q(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    const float scale = quantise_int8(x + r * cols, cols, q.data());
    out.put(&scale, sizeof scale);
    out.put(q.data(), static_cast<size_t>(cols));
  }
}

// int8 cannot hold NaN or infinity: refuse before writing anything.
void check_int8_values(const std::string& path, const std::string& name, const Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(t[i]))
      fail("cannot save '{}' as int8: tensor '{}' holds {} (element {}); save it as float32",
           path, name, t[i], i);
}

// ---- Reading ----
void read_int8(const char* src, float* dst, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r, src += 4 + cols) {
    float scale;
    std::memcpy(&scale, src, sizeof scale);
    const auto* q = reinterpret_cast<const int8_t*>(src + 4);
    for (int64_t c = 0; c < cols; ++c) dst[r * cols + c] = scale * static_cast<float>(q[c]);
  }
}

void read_float16(const char* src, float* dst, int64_t n) {
  std::vector<Eigen::half> buf(static_cast<size_t>(std::min(n, kConvertChunk)));
  for (int64_t i = 0; i < n; i += kConvertChunk) {
    const int64_t m = std::min(kConvertChunk, n - i);
    // memcpy first: the file bytes are not 2-byte aligned.
    std::memcpy(buf.data(), src + 2 * i, 2 * static_cast<size_t>(m));
    Eigen::Map<Eigen::ArrayXf>(dst + i, m) =
        Eigen::Map<const HalfArray>(buf.data(), m).cast<float>();
  }
}

Shape shape_from_dims(const std::vector<int64_t>& d) {
  switch (d.size()) {
    case 0: return Shape{};
    case 1: return Shape{d[0]};
    case 2: return Shape{d[0], d[1]};
    case 3: return Shape{d[0], d[1], d[2]};
    default: return Shape{d[0], d[1], d[2], d[3]};
  }
}

// A cursor over the verified buffer; every read checks the bytes left first.
class Source {
 public:
  Source(const std::string& path, const char* begin, size_t size)
      : path_(path), begin_(begin), pos_(begin), end_(begin + size) {}
  size_t left() const { return static_cast<size_t>(end_ - pos_); }
  size_t offset() const { return static_cast<size_t>(pos_ - begin_); }

  [[noreturn]] void damaged(const std::string& what) const {
    fail("'{}' is damaged ({}, at byte {}); re-download or re-train the model", path_, what,
         offset());
  }
  const char* take(size_t n, const char* what) {
    if (n > left()) damaged(fmt::format("{} needs {} bytes but only {} are left", what, n, left()));
    const char* p = pos_;
    pos_ += n;
    return p;
  }
  template <typename T>
  T num(const char* what) {
    T v;
    std::memcpy(&v, take(sizeof v, what), sizeof v);
    return v;
  }
  std::string name(const char* what) {
    uint32_t n = num<uint32_t>(what);
    if (n > kModelFileMaxNameLength)
      damaged(fmt::format("{} is {} bytes long (at most {})", what, n, kModelFileMaxNameLength));
    const char* p = take(n, what);
    return std::string(p, n);
  }
  std::string bytes64(const char* what) {
    uint64_t n = num<uint64_t>(what);
    if (n > left()) damaged(fmt::format("{} needs {} bytes but only {} are left", what, n, left()));
    const char* p = take(static_cast<size_t>(n), what);
    return std::string(p, static_cast<size_t>(n));
  }
  // A section's entry count, bounded by what the remaining bytes could hold.
  uint64_t count(const char* what, size_t min_entry_bytes) {
    uint64_t n = num<uint64_t>(what);
    if (n > left() / min_entry_bytes)
      damaged(fmt::format("{} {} cannot fit in the {} bytes left", n, what, left()));
    return n;
  }

 private:
  const std::string& path_;
  const char* begin_;
  const char* pos_;
  const char* end_;
};

std::string read_whole_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    fail("cannot open model file '{}': {} (check the path; models are written by `attnmt train`)",
         path, std::strerror(err));
  }
  std::string data;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) data.reserve(static_cast<size_t>(st.st_size));
  char chunk[1 << 16];
  for (;;) {
    ssize_t r = ::read(fd, chunk, sizeof chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int err = errno;
      ::close(fd);
      fail("cannot read model file '{}': {}", path, std::strerror(err));
    }
    if (r == 0) break;
    data.append(chunk, static_cast<size_t>(r));
  }
  ::close(fd);
  return data;
}

[[noreturn]] void truncated(const std::string& path, uint64_t have, uint64_t need, bool at_least) {
  fail("'{}' is truncated: expected {}{} bytes more (the file has {} bytes); the copy or "
       "download was interrupted: copy it again, re-download or re-train",
       path, at_least ? "at least " : "", need - have, have);
}

// Size and checksum: a damaged or truncated file is refused here.
void check_size_and_checksum(const std::string& path, const std::string& data) {
  const size_t n = data.size();
  if (n < kHeaderBytes) truncated(path, n, kMinFileBytes, true);
  uint64_t declared;
  std::memcpy(&declared, data.data() + 12, 8);
  if (declared < kMinFileBytes)
    fail("'{}' is damaged (its header declares {} bytes, less than the smallest model file); "
         "re-download or re-train",
         path, declared);
  if (n < declared) truncated(path, n, declared, false);
  if (n > declared)
    fail("'{}' is damaged ({} unexpected bytes after the end of the model data); re-download or "
         "re-train",
         path, n - declared);
  uint32_t stored;
  std::memcpy(&stored, data.data() + n - kChecksumBytes, 4);
  if (crc32_update(0, data.data(), n - kChecksumBytes) != stored)
    fail("'{}': checksum mismatch: the file is damaged; re-download or re-train", path);
}

// Magic, size, checksum and version: everything that can be checked before parsing. The version
// is judged after the checksum, so that a damaged version byte reads as damage, not as a newer
// attnmt. Returns the format version.
uint32_t check_envelope(const std::string& path, const std::string& data) {
  const size_t n = data.size();
  const size_t magic_have = std::min(n, sizeof kMagic);
  if (std::memcmp(data.data(), kMagic, magic_have) != 0)
    fail("'{}' is not an attnmt model file (it does not start with the ATTNMT magic bytes); pass "
         "a model or checkpoint written by `attnmt train`",
         path);
  if (n < 12) truncated(path, n, kMinFileBytes, true);
  uint32_t version;
  std::memcpy(&version, data.data() + 8, 4);
  const bool known = version >= kOldestReadableVersion && version <= kModelFormatVersion;
  try {
    check_size_and_checksum(path, data);
  } catch (const Error& e) {
    if (known) throw;
    fail("{} (its format version reads {}, which this build does not know: most likely that is "
         "damaged too)",
         e.what(), version);
  }
  if (version > kModelFormatVersion)
    fail("'{}' was written by a newer attnmt (format version {}, this build reads {}); upgrade "
         "attnmt to load it",
         path, version, kModelFormatVersion);
  if (!known)
    fail("'{}' has an unknown format version {} (this build reads {} to {}); re-download or "
         "re-train",
         path, version, kOldestReadableVersion, kModelFormatVersion);
  return version;
}

}  // namespace

uint32_t crc32_update(uint32_t crc, const void* data, size_t n) {
  static const CrcTables t = make_crc_tables();
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (; n >= 8; n -= 8, p += 8) {
    uint32_t one, two;
    std::memcpy(&one, p, 4);
    std::memcpy(&two, p + 4, 4);
    one ^= crc;
    crc = t[7][one & 0xFF] ^ t[6][(one >> 8) & 0xFF] ^ t[5][(one >> 16) & 0xFF] ^ t[4][one >> 24] ^
          t[3][two & 0xFF] ^ t[2][(two >> 8) & 0xFF] ^ t[1][(two >> 16) & 0xFF] ^ t[0][two >> 24];
  }
  for (; n > 0; --n, ++p) crc = (crc >> 8) ^ t[0][(crc ^ *p) & 0xFF];
  return ~crc;
}

void save_model_file(const std::string& path, const ModelFile& file) {
  check_names(file.config, "config key", path);
  check_names(file.blobs, "blob", path);
  check_names(file.tensors, "tensor", path);
  uint64_t total = kHeaderBytes + 3 * 8 + kChecksumBytes;
  for (const auto& [k, v] : file.config) total += 4 + k.size() + 8 + v.size();
  for (const auto& [k, v] : file.blobs) total += 4 + k.size() + 8 + v.size();
  for (const auto& [name, t] : file.tensors) {
    ATTNMT_CHECK(!t.empty(), "cannot save '{}': tensor '{}' has no storage", path, name);
    const TensorDtype dtype = file.dtype(name);
    if (dtype == TensorDtype::kFloat16) check_float16_range(path, name, t);
    if (dtype == TensorDtype::kInt8) check_int8_values(path, name, t);
    total += 4 + name.size() + 4 + 8 * static_cast<uint64_t>(t.rank()) + 1 +
             stored_bytes(dtype, t.numel(), last_dim(t));
  }
  write_file_atomic(path, [&](std::ostream& os) {
    Sink out(os);
    out.put(kMagic, sizeof kMagic);
    out.num<uint32_t>(kModelFormatVersion);
    out.num<uint64_t>(total);
    out.num<uint64_t>(file.config.size());
    for (const auto& [k, v] : file.config) out.str32(k), out.str64(v);
    out.num<uint64_t>(file.blobs.size());
    for (const auto& [k, v] : file.blobs) out.str32(k), out.str64(v);
    out.num<uint64_t>(file.tensors.size());
    for (const auto& [name, t] : file.tensors) {
      out.str32(name);
      out.num<uint32_t>(static_cast<uint32_t>(t.rank()));
      for (int i = 0; i < t.rank(); ++i) out.num<int64_t>(t.dim(i));
      const TensorDtype dtype = file.dtype(name);
      out.num<uint8_t>(static_cast<uint8_t>(dtype));
      if (dtype == TensorDtype::kFloat16) write_float16(out, t.data(), t.numel());
      else if (dtype == TensorDtype::kInt8)
        write_int8(out, t.data(), int8_rows(t.numel(), last_dim(t)), last_dim(t));
      else out.put(t.data(), sizeof(float) * static_cast<size_t>(t.numel()));
    }
    uint32_t crc = out.crc();
    os.write(reinterpret_cast<const char*>(&crc), sizeof crc);
    ATTNMT_CHECK(out.written() + kChecksumBytes == total,
                 "internal error writing '{}': wrote {} bytes, planned {}", path,
                 out.written() + kChecksumBytes, total);
  });
}

ModelFile load_model_file(const std::string& path) {
  return parse_model_file(read_whole_file(path), path);
}

ModelFile parse_model_file(const std::string& data, const std::string& path) {
  const uint32_t version = check_envelope(path, data);

  Source in(path, data.data(), data.size() - kChecksumBytes);
  in.take(kHeaderBytes, "header");
  ModelFile file;
  file.source = path;
  std::set<std::string> seen;
  auto unique = [&](const std::string& kind, const std::string& name) {
    if (!seen.insert(kind + '\n' + name).second)
      in.damaged(fmt::format("duplicate {} '{}'", kind, name));
  };

  uint64_t n_config = in.count("config entries", 12);
  for (uint64_t i = 0; i < n_config; ++i) {
    std::string key = in.name("config key");
    unique("config key", key);
    file.config.emplace_back(std::move(key), in.bytes64("config value"));
  }
  uint64_t n_blobs = in.count("blobs", 12);
  for (uint64_t i = 0; i < n_blobs; ++i) {
    std::string name = in.name("blob name");
    unique("blob", name);
    file.blobs.emplace_back(std::move(name), in.bytes64("blob data"));
  }
  uint64_t n_tensors = in.count("tensors", 8);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    std::string name = in.name("tensor name");
    unique("tensor", name);
    uint32_t rank = in.num<uint32_t>("tensor rank");
    if (rank > 4) in.damaged(fmt::format("tensor '{}' has rank {} (at most 4)", name, rank));
    std::vector<int64_t> dims(rank);
    int64_t numel = 1;
    for (auto& d : dims) {
      d = in.num<int64_t>("tensor dimension");
      if (d < 0) in.damaged(fmt::format("tensor '{}' has a negative dimension {}", name, d));
      if (__builtin_mul_overflow(numel, d, &numel))
        in.damaged(fmt::format("tensor '{}' has absurd dimensions", name));
    }
    TensorDtype dtype = TensorDtype::kFloat32;
    if (version >= 2) {
      const uint8_t code = in.num<uint8_t>("tensor dtype");
      if (code > static_cast<uint8_t>(TensorDtype::kInt8))
        fail("'{}': tensor '{}' has an unknown storage dtype {} (this build knows 0 = float32, "
             "1 = float16 and 2 = int8): the file is damaged or was written by a newer attnmt; "
             "re-download, upgrade attnmt or re-train",
             path, name, code);
      dtype = static_cast<TensorDtype>(code);
    }
    // Each stored element takes at least one byte, so numel <= left keeps the size below from
    // overflowing and the allocation within the file.
    const uint64_t cols = last_dim(dims);
    if (static_cast<uint64_t>(numel) > in.left() ||
        stored_bytes(dtype, numel, cols) > in.left())
      in.damaged(fmt::format("tensor '{}' with {} elements is larger than the {} bytes left", name,
                             numel, in.left()));
    Tensor t = Tensor::uninitialized(shape_from_dims(dims));
    const size_t bytes = static_cast<size_t>(stored_bytes(dtype, numel, cols));
    const char* src = in.take(bytes, "tensor data");
    if (dtype == TensorDtype::kFloat16) {
      read_float16(src, t.data(), numel);
      file.dtypes[name] = dtype;
    } else if (dtype == TensorDtype::kInt8) {
      read_int8(src, t.data(), int8_rows(numel, cols), cols);
      file.dtypes[name] = dtype;
    } else if (bytes) {
      std::memcpy(t.data(), src, bytes);
    }
    file.tensors.emplace_back(std::move(name), std::move(t));
  }
  if (in.left() != 0) in.damaged(fmt::format("{} unexpected bytes before the checksum", in.left()));
  return file;
}

// ---- ModelFile lookups ----

namespace {
template <typename Entries>
auto find_entry(Entries& entries, const std::string& name) -> decltype(&entries.front().second) {
  for (auto& [k, v] : entries)
    if (k == name) return &v;
  return nullptr;
}
std::string where(const ModelFile& f) {
  return f.source.empty() ? std::string("the model") : "'" + f.source + "'";
}
}  // namespace

const std::string* ModelFile::find_config(const std::string& key) const {
  return find_entry(config, key);
}

const std::string& ModelFile::config_at(const std::string& key) const {
  const std::string* v = find_config(key);
  ATTNMT_CHECK(v, "{} has no config entry '{}' (was it written by `attnmt train` of this version?)",
               where(*this), key);
  return *v;
}

void ModelFile::set_config(const std::string& key, const std::string& value) {
  if (std::string* v = find_entry(config, key)) *v = value;
  else config.emplace_back(key, value);
}

bool ModelFile::has_blob(const std::string& name) const { return find_entry(blobs, name); }

const std::string& ModelFile::blob(const std::string& name) const {
  const std::string* v = find_entry(blobs, name);
  ATTNMT_CHECK(v, "{} has no '{}' section (was it written by `attnmt train`?)", where(*this), name);
  return *v;
}

bool ModelFile::has_tensor(const std::string& name) const { return find_entry(tensors, name); }

TensorDtype ModelFile::dtype(const std::string& tensor_name) const {
  auto it = dtypes.find(tensor_name);
  return it == dtypes.end() ? TensorDtype::kFloat32 : it->second;
}

void ModelFile::set_dtype_all(TensorDtype d) {
  dtypes.clear();
  if (d == TensorDtype::kFloat32) return;
  for (const auto& [name, t] : tensors)
    if (d != TensorDtype::kInt8 || t.rank() >= 2) dtypes[name] = d;
}

const Tensor& ModelFile::tensor(const std::string& name) const {
  const Tensor* t = find_entry(tensors, name);
  ATTNMT_CHECK(t, "{} has no parameter '{}' (does the config match the model?)", where(*this),
               name);
  return *t;
}

}  // namespace attnmt
