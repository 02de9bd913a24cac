// Incremental decoding's attention memory: the keys and values of every attention layer, kept
// between steps, and which of their rows each live hypothesis reads. Beam search reorders,
// duplicates and drops hypotheses at every step; here that rewrites a small table of row
// numbers (KvRows), never the cached floats.
// Legend: N live rows (hypotheses), P stored rows (P >= N), H heads, d head width, D = H * d,
//         L cached positions.
// Not here: the teacher-forced attention of training (nn/transformer_blocks.h) or the search
// (decode/search.h).
#pragma once

#include <span>
#include <vector>

#include "tensor/tensor.h"

namespace attnmt {

// Which stored row holds position s of live row n: rows[n * row_stride + s * position_stride].
// The default (no table) is row n itself.
struct RowMap {
  const int* rows = nullptr;
  int64_t row_stride = 0, position_stride = 0;
  int at(int64_t n, int64_t s) const {
    return rows ? rows[n * row_stride + s * position_stride] : static_cast<int>(n);
  }
};

// Keys and values of one attention layer: [P, H, capacity, d], a (row, head) block's positions
// contiguous. Capacity grows by doubling, so appending a step copies the past only on growth.
struct KvCache {
  Tensor k, v;  // [P, H, capacity, d]
  int64_t length = 0;
  int64_t capacity() const { return k.empty() ? 0 : k.dim(2); }
  // The whole of k_all, v_all [P, H, L, d] as the cache (source attention's memory).
  void assign(const Tensor& k_all, const Tensor& v_all);
  // Position `length` of rows 0 .. N-1: row n of kv [N, >= kv_offset + 2D] holds its keys at
  // columns [kv_offset, kv_offset + D) and its values right after them, written to stored row n
  // (grown to N rows if it has fewer; stored rows past N keep their past for the KvRows table).
  void append(const Tensor& kv, int64_t kv_offset, int64_t H, int64_t d);
};

// The history of each live row as stored rows, one per position, shared by the self-attention
// caches of all layers (they append and reorder together). Position t of live row n is always
// written to stored row n (KvCache::append), a slot nothing else reads yet; select() then only
// rewrites this [N][capacity] table of ints.
class KvRows {
 public:
  explicit KvRows(int rows = 0) : rows_(rows) {}
  int rows() const { return rows_; }
  int64_t length() const { return length_; }
  // One more position: live row n's is in stored row n.
  void append();
  // New row i = old row rows[i] (duplicated, dropped or moved), each in range.
  void select(std::span<const int> rows);
  RowMap map() const { return {table_.data(), capacity_, 1}; }
  // Every live row's past is now in its own stored row (compact_caches moved it there).
  void reset_to_own_rows();

 private:
  int rows_ = 0;
  int64_t length_ = 0, capacity_ = 0;
  std::vector<int> table_, spare_;  // [rows][capacity]
};

// Called before each step's appends: when the caches are full (length == capacity, so the
// appends would grow them), grows them into caches of twice the capacity holding only what the
// live rows read: row n's past, read through `rows`, is copied to stored row n (one contiguous
// run again), and `rows` becomes the identity. Stored rows that no live row reads (dropped
// hypotheses, finished sentences) are left behind, so a batch's memory follows its live rows,
// not its widest step. Returns whether it did. The caches must share `rows` and their length.
bool make_room(std::span<KvCache> caches, KvRows& rows);

// One query per live row against a cache: N query rows at q + n * q_stride ([H, d] each), row n
// reading the cache's stored rows map.at(n, s), keys at positions >= key_lengths[n] masked
// (empty: none). Returns the context [N, D]; `probs` (if given) receives the weights [N, H, L].
Tensor attend_cached(const float* q, int64_t q_stride, int64_t N, const KvCache& cache,
                     const RowMap& map, std::span<const int> key_lengths, Tensor* probs);

}  // namespace attnmt
