// oneDNN backend: C[M,N] = alpha op(A) op(B) + beta C with bf16 or int8 inputs.
//
// Every product becomes one oneDNN matmul of an A [M,K] and a B [K,N]:
//   A: converted (bf16) or quantised per row (int8, shifted to u8) by the loops below, per call;
//      in bf16 a transposed A is converted as it lies and read transposed by the kernels;
//   B: a registered weight is converted/quantised and packed (the layout oneDNN prefers, format
//      "any") once per weights_changed() and kept; any other B (bf16 only) is converted per call
//      as it lies, transposed or not, and read so by the kernels.
// (oneDNN reorders that transposed A or packed B cost a bf16 Transformer training step on AMX
// 1.25x and 1.1x: docs/BENCHMARKS.md, session 27.)
// Primitives are cached by shape, per thread. int8 products run u8 x s8 -> s32 (VNNI's
// instruction; without VNNI, B keeps 7 bits: int8_weight_levels() in precision.h); the +128
// shift of A is taken back with the column sums of B, then C = alpha sa[m] sb[n] acc + beta C.
#include "tensor/gemm_dnnl.h"

#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include <sys/mman.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "tensor/error.h"
#include "tensor/gemm_shapes.h"
#include "tensor/kernels.h"
#include "tensor/quantise.h"

namespace attnmt::dnnl_backend {

namespace {
using dt = dnnl::memory::data_type;
using Dims = dnnl::memory::dims;

// Below this many multiply-adds a conversion costs more than the product saves. For a product of
// a weight the count is of one row (K N), so that whether a row runs in low precision never
// depends on how many rows a batch has.
constexpr int64_t kMinMacs = 4096;
constexpr int64_t kMinWeightMacs = 256;
// bf16 products convert A at most this many bytes at a time, but at least kMinSliceRows rows.
constexpr int64_t kSliceBytes = int64_t(8) << 20;
constexpr int64_t kMinSliceRows = 64;
// No bound on a slice's height: affine_backward keeps dY's bf16 copy whole anyway.
constexpr int64_t kAnyHeight = std::numeric_limits<int64_t>::max() / 2;
// Primitives are cached per thread, up to this many (then the cache starts again). One holds
// ~0.1 MB (measured on AMX, made and run) whatever its size; a training step's products take ~150
// shapes (gemm_shapes.h), translation's one per batch height. (The 2.5 GB an unbounded cache once
// cost was the heap's, split by kept primitives among the tensors: tensor/pool.h.)
constexpr size_t kMaxCachedPrimitives = 1024;
constexpr int kOneDnnCacheCapacity = 16;  // oneDNN's own cache (the reorders), unless set by
                                          // ONEDNN_PRIMITIVE_CACHE_CAPACITY

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

// A growable scratch buffer, page-aligned, mapped apart from malloc's heap: the process keeps
// big buffers in the heap (cli/process.h), where a buffer that grows step after step would
// leave holes behind it (measured: +1 GB peak in bf16 training). Grows by half again at least.
class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { release(); }
  void* get(size_t bytes) {
    if (bytes > size_) {
      release();
      const size_t want = std::max(bytes, size_ + size_ / 2);
      void* p = mmap(nullptr, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
      data_ = p;
      size_ = want;
    }
    return data_;
  }

 private:
  void release() {
    if (data_) munmap(data_, size_);
    data_ = nullptr;
  }
  void* data_ = nullptr;
  size_t size_ = 0;
};

// Logical [rows, cols] float32 matrix stored row-major as itself or (trans) as its transpose.
dnnl::memory::desc f32_desc(int64_t rows, int64_t cols, bool trans) {
  return dnnl::memory::desc({rows, cols}, dt::f32, trans ? Dims{1, rows} : Dims{cols, 1});
}


// A weight's low-precision copy for one use (precision, transpose, logical [K,N]).
struct Packed {
  uint64_t epoch = 0;          // the weights' epoch it was made in
  dnnl::memory mem;            // bf16 or s8, in the layout of `mem.get_desc()`
  std::vector<float> scale;    // int8: per column n of op(B)
  std::vector<int32_t> colsum; // int8: sum over k of the quantised op(B)[:, n]
};
using PackKey = std::tuple<int, bool, int64_t, int64_t>;  // precision, trans, K, N

struct WeightEntry {
  Tensor keep;  // holds the storage, so the address stays this weight's
  std::map<PackKey, Packed> packed;  // remade in place (same memory) when their epoch is old
};

// What a product does to C as it writes it (gemm_bias in gemm.h): adds a bias, then a relu.
struct Epilogue {
  const float* bias = nullptr;
  bool relu = false;
};

struct MatmulKey {
  int precision;
  bool trans_a;  // A [M,K] stored as its transpose [K,M] (bf16 only)
  int b_plain;   // 0: B packed by oneDNN (a weight); 1: B as it lies; 2: B as it lies, transposed
  int64_t M, N, K;
  float alpha, beta;
  bool bias;    // bias[N] added to every row, then
  bool relu;    // max(0, C) (bf16 only; int8 applies both as it dequantises)
  int threads;  // a primitive splits its work for the thread count it was made with
  auto operator<=>(const MatmulKey&) const = default;
};

// What one thread needs to run products: the primitives made for its thread count, its stream
// and its buffers. Each thread has its own, so that translation workers (decode/translator.h),
// one thread each, run their products side by side.
class Local {
 public:
  const dnnl::matmul::primitive_desc& matmul_pd(const MatmulKey& key);
  const dnnl::matmul& matmul(const MatmulKey& key) { return matmuls_.at(key).second; }
  // The scratchpad a primitive asks for, in pad.
  dnnl::memory scratchpad(const dnnl::matmul::primitive_desc& pd) {
    const dnnl::memory::desc d = pd.scratchpad_desc();
    return dnnl::memory(d, engine(), pad.get(std::max<size_t>(d.get_size(), 64)));
  }
  dnnl::stream stream{engine()};
  Scratch a, b, acc, pad, d;  // d: the whole bf16 dY of affine_backward_bf16
  std::vector<float> a_scale;

 private:
  std::map<MatmulKey, std::pair<dnnl::matmul::primitive_desc, dnnl::matmul>> matmuls_;
};

// The calling thread's Local, made when first needed (release_thread_cache drops it).
std::unique_ptr<Local>& local_slot() {
  thread_local std::unique_ptr<Local> l;
  return l;
}

Local& local() {
  std::unique_ptr<Local>& l = local_slot();
  if (!l) l = std::make_unique<Local>();
  return *l;
}

// B (logical [K,N], float32) converted to bf16 in the layout `want`, at `where`.
dnnl::memory pack(Local& l, const float* B, bool tb, int64_t K, int64_t N,
                  const dnnl::memory::desc& want, void* where) {
  dnnl::memory src(f32_desc(K, N, tb), engine(), const_cast<float*>(B));
  dnnl::memory dst(want, engine(), where);
  dnnl::reorder(src, dst).execute(l.stream, src, dst);
  l.stream.wait();
  return dst;
}

// The weights' low-precision copies, shared by all threads: made by the first product that
// needs one (under the lock), then only read until weights_changed().
class Backend {
 public:
  Backend() {
    if (!std::getenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY"))
      dnnl::set_primitive_cache_capacity(kOneDnnCacheCapacity);
  }
  bool gemm(Precision p, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
            const float* A, const float* B, float beta, float* C, const Epilogue& ep);
  bool affine_backward(int64_t T, int64_t O, int64_t I, const float* dY, const float* X,
                       const float* W, float* dX, float beta_x, float* dW, float beta_w,
                       float* db);
  void add_weight(const Tensor& w) {
    std::lock_guard lock(mutex_);
    weights_[w.data()] = WeightEntry{w, {}};
  }
  void remove_weight(const Tensor& w) {
    std::lock_guard lock(mutex_);
    weights_.erase(w.data());
  }
  void changed() { ++epoch_; }

 private:
  WeightEntry* find_weight(const float* p, int64_t numel);
  void quantise_weight(Local& l, const float* B, bool tb, int64_t K, int64_t N, Packed& p);
  dnnl::memory bf16_weights(Local& l, const float* B, bool tb, int64_t K, int64_t N,
                            const dnnl::memory::desc& want, WeightEntry& w);
  const Packed& int8_weights(Local& l, const float* B, bool tb, int64_t K, int64_t N,
                             const dnnl::memory::desc& want, WeightEntry& w);
  dnnl::memory bf16_b(Local& l, const dnnl::matmul::primitive_desc& pd, bool tb, int64_t K,
                      int64_t Kp, int64_t N, const float* B, WeightEntry* w);
  void execute_bf16(Local& l, const MatmulKey& key, const uint16_t* a16, const dnnl::memory& bmem,
                    float* c, int64_t mb, const Epilogue& ep);
  void run_bf16(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                const float* B, float beta, float* C, const Epilogue& ep, WeightEntry* w);
  void affine_backward_bf16(int64_t T, int64_t O, int64_t I, const float* dY, const float* X,
                            const float* W, float* dX, float beta_x, float* dW, float beta_w,
                            float* db);
  void run_int8(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                const float* B, float beta, float* C, const Epilogue& ep, WeightEntry& w);

  std::mutex mutex_;  // weights_ and their copies
  std::atomic<uint64_t> epoch_{1};
  std::unordered_map<const float*, WeightEntry> weights_;
  const int w_levels_ = int8_weight_levels(cpu_features());  // 63 where pairs would saturate
  const int64_t min_rows_ = cpu_features().amx_bf16 ? 16 : 2;  // of a bf16 product (run_bf16)
};

WeightEntry* Backend::find_weight(const float* p, int64_t numel) {
  std::lock_guard lock(mutex_);
  auto it = weights_.find(p);
  if (it == weights_.end() || it->second.keep.numel() != numel) return nullptr;
  return &it->second;  // stays valid: the map's nodes do not move
}

const dnnl::matmul::primitive_desc& Local::matmul_pd(const MatmulKey& key) {
  auto it = matmuls_.find(key);
  if (it != matmuls_.end()) return it->second.first;
  if (matmuls_.size() >= kMaxCachedPrimitives) matmuls_.clear();
  const bool int8 = key.precision == static_cast<int>(Precision::kInt8);
  dnnl::memory::desc a({key.M, key.K}, int8 ? dt::u8 : dt::bf16,
                       key.trans_a ? Dims{1, key.M} : Dims{key.K, 1});
  const Dims b_strides = key.b_plain == 2 ? Dims{1, key.K} : Dims{key.N, 1};
  dnnl::memory::desc b =
      key.b_plain ? dnnl::memory::desc({key.K, key.N}, dt::bf16, b_strides)
                  : dnnl::memory::desc({key.K, key.N}, int8 ? dt::s8 : dt::bf16,
                                       dnnl::memory::format_tag::any);
  dnnl::memory::desc c({key.M, key.N}, int8 ? dt::s32 : dt::f32, Dims{key.N, 1});
  dnnl::memory::desc bias = key.bias ? dnnl::memory::desc({1, key.N}, dt::f32, Dims{key.N, 1})
                                     : dnnl::memory::desc();
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);  // ours, mapped apart (Scratch)
  if (!int8) {
    if (key.alpha != 1.0f) attr.set_output_scales(0, {key.alpha});
    dnnl::post_ops ops;
    if (key.beta != 0.0f) ops.append_sum(key.beta);
    if (key.relu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    if (ops.len() > 0) attr.set_post_ops(ops);
  }
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, bias, c), attr, engine());
  auto [pos, added] = matmuls_.emplace(key, std::make_pair(pd, dnnl::matmul(pd)));
  return pos->second.first;
}

// B quantised per column of op(B) into p.mem (allocated, in the layout it has), p.scale and
// p.colsum.
void Backend::quantise_weight(Local& l, const float* B, bool tb, int64_t K, int64_t N,
                              Packed& p) {
  p.scale.assign(N, 0.0f);
  p.colsum.assign(N, 0);
  std::vector<int8_t> q(K * N);  // same layout as B
  kernels::parallel_for(N, K, [&](int64_t n0, int64_t n1) {
    std::vector<float> column(tb ? 0 : K);  // op(B)[:, n] gathered when B is not transposed
    std::vector<int8_t> qcol(tb ? 0 : K);
    for (int64_t n = n0; n < n1; ++n) {
      const float* x = B + n * K;  // op(B)[:, n]: a row of B when transposed
      int8_t* qn = q.data() + n * K;
      if (!tb) {
        for (int64_t k = 0; k < K; ++k) column[k] = B[k * N + n];
        x = column.data();
        qn = qcol.data();
      }
      p.scale[n] = quantise_int8(x, K, qn, w_levels_);
      int32_t sum = 0;
      for (int64_t k = 0; k < K; ++k) sum += qn[k];
      p.colsum[n] = sum;
      if (!tb)
        for (int64_t k = 0; k < K; ++k) q[k * N + n] = qn[k];
    }
  });
  dnnl::memory src({{K, N}, dt::s8, tb ? Dims{1, K} : Dims{N, 1}}, engine(), q.data());
  dnnl::reorder(src, p.mem).execute(l.stream, src, p.mem);
  l.stream.wait();
}

// A registered weight's op(B) in bf16 in the layout `want`, converted once per epoch.
dnnl::memory Backend::bf16_weights(Local& l, const float* B, bool tb, int64_t K, int64_t N,
                                   const dnnl::memory::desc& want, WeightEntry& w) {
  std::lock_guard lock(mutex_);
  Packed& p = w.packed[{static_cast<int>(Precision::kBf16), tb, K, N}];
  if (!p.mem || p.mem.get_desc() != want) p.mem = dnnl::memory(want, engine()), p.epoch = 0;
  if (p.epoch != epoch_.load()) {  // new, or the weight moved since: convert again, in place
    pack(l, B, tb, K, N, want, p.mem.get_data_handle());
    p.epoch = epoch_.load();
  }
  return p.mem;
}

// op(B) quantised, in the layout `want`, with its scales and column sums: made once per epoch.
const Packed& Backend::int8_weights(Local& l, const float* B, bool tb, int64_t K, int64_t N,
                                    const dnnl::memory::desc& want, WeightEntry& w) {
  std::lock_guard lock(mutex_);
  Packed& p = w.packed[{static_cast<int>(Precision::kInt8), tb, K, N}];
  if (!p.mem || p.mem.get_desc() != want) p.mem = dnnl::memory(want, engine()), p.epoch = 0;
  if (p.epoch != epoch_.load()) {
    quantise_weight(l, B, tb, K, N, p);
    p.epoch = epoch_.load();
  }
  return p;
}

// op(B) in bf16 for the primitive `pd` (logical [K,N], K padded to Kp with zero rows): a
// weight's packed copy, or B converted as it lies (transposed or not) into l.b.
dnnl::memory Backend::bf16_b(Local& l, const dnnl::matmul::primitive_desc& pd, bool tb,
                             int64_t K, int64_t Kp, int64_t N, const float* B, WeightEntry* w) {
  if (w) return bf16_weights(l, B, tb, K, N, pd.weights_desc(), *w);
  auto* b16 = static_cast<uint16_t*>(l.b.get(Kp * N * sizeof(uint16_t)));
  if (tb) {
    convert_bf16(B, N, K, K, b16, Kp);  // stored [N,K]
  } else {
    convert_bf16(B, K, N, N, b16, N);  // stored [K,N]
    std::fill(b16 + K * N, b16 + Kp * N, uint16_t{0});
  }
  return dnnl::memory(pd.weights_desc(), engine(), b16);
}

// The product of `key` (key.M rows of bf16 A at a16, stored as the key says) into the first
// mb <= key.M rows of C at c; the rows beyond mb are padding, written through a buffer.
void Backend::execute_bf16(Local& l, const MatmulKey& key, const uint16_t* a16,
                           const dnnl::memory& bmem, float* c, int64_t mb, const Epilogue& ep) {
  const auto& pd = l.matmul_pd(key);
  const int64_t mp = key.M, N = key.N;
  float* out = c;
  if (mp != mb) {
    out = static_cast<float*>(l.acc.get(mp * N * sizeof(float)));
    if (key.beta != 0.0f) std::memcpy(out, c, mb * N * sizeof(float));
    std::fill(out + (key.beta != 0.0f ? mb : 0) * N, out + mp * N, 0.0f);
  }
  dnnl::memory amem(pd.src_desc(), engine(), const_cast<uint16_t*>(a16));
  dnnl::memory cmem(pd.dst_desc(), engine(), out);
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, amem},
                                             {DNNL_ARG_WEIGHTS, bmem},
                                             {DNNL_ARG_DST, cmem},
                                             {DNNL_ARG_SCRATCHPAD, l.scratchpad(pd)}};
  if (ep.bias)
    args[DNNL_ARG_BIAS] = dnnl::memory(pd.bias_desc(), engine(), const_cast<float*>(ep.bias));
  l.matmul(key).execute(l.stream, args);
  l.stream.wait();
  if (mp != mb) std::memcpy(c, out, mb * N * sizeof(float));
}

// A is converted a slice of rows at a time (gemm_shapes.h): the whole of a large operand would
// keep its bf16 copy in the buffer for the rest of the run. B is converted once for all slices.
void Backend::run_bf16(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                       const float* A, const float* B, float beta, float* C, const Epilogue& ep,
                       WeightEntry* w) {
  Local& l = local();
  const int64_t Kp = padded_k(K, w != nullptr);
  const int64_t most_rows =
      std::max<int64_t>(kMinSliceRows, kSliceBytes / (2 * Kp)) / kMinSliceRows * kMinSliceRows;
  dnnl::memory bmem;
  for (const Slice& s : slices(M, row_step(M, min_rows_), most_rows)) {
    const int64_t m0 = s.m0, mb = s.rows, mp = s.height;
    const MatmulKey key{static_cast<int>(Precision::kBf16), ta, w ? 0 : tb ? 2 : 1, mp, N, Kp,
                        alpha, beta, ep.bias != nullptr, ep.relu, omp_get_max_threads()};
    const auto& pd = l.matmul_pd(key);
    if (!bmem || (w && bmem.get_desc() != pd.weights_desc()))
      bmem = bf16_b(l, pd, tb, K, Kp, N, B, w);
    auto* a16 = static_cast<uint16_t*>(l.a.get(mp * Kp * sizeof(uint16_t)));
    if (!ta) {
      convert_bf16(A + m0 * K, mb, K, K, a16, Kp);
      std::fill(a16 + mb * Kp, a16 + mp * Kp, uint16_t{0});
    } else {  // the slice's columns of the stored [K,M], as they lie: the product reads them
      convert_bf16(A + m0, K, mb, M, a16, mp);  // transposed (a transposing copy cost more)
      std::fill(a16 + K * mp, a16 + Kp * mp, uint16_t{0});
    }
    execute_bf16(l, key, a16, bmem, C + m0 * N, mb, ep);
  }
}

// dX = dY W + beta_x dX and dW = dY^T X + beta_w dW on one bf16 copy of dY, kept whole in l.d:
// the first reads it as it is, the second transposed. The bias gradient db, if any, is summed
// in the pass that converts dY. Both run in the slices of T that a forward product of T rows
// would (dW's sum over T one slice after the other), so they share its few shapes.
void Backend::affine_backward_bf16(int64_t T, int64_t O, int64_t I, const float* dY,
                                   const float* X, const float* W, float* dX, float beta_x,
                                   float* dW, float beta_w, float* db) {
  Local& l = local();
  const std::vector<Slice> parts = slices(T, row_step(T, min_rows_), kAnyHeight);
  const int64_t Tp = padded_rows(parts);  // T and the zero rows
  auto* d16 = static_cast<uint16_t*>(l.d.get(Tp * O * sizeof(uint16_t)));  // [Tp, O]
  if (db) convert_bf16_sum_rows(dY, T, O, d16, db);
  else convert_bf16(dY, T, O, O, d16, O);
  std::fill(d16 + T * O, d16 + Tp * O, uint16_t{0});
  const int threads = omp_get_max_threads();
  const int bf16 = static_cast<int>(Precision::kBf16);
  if (dX) {  // [T, I] = [T, O] x op(B) = W [O, I]
    WeightEntry* w = find_weight(W, O * I);
    dnnl::memory bmem;
    for (const Slice& s : parts) {
      const MatmulKey key{bf16, false, w ? 0 : 1, s.height, I, O, 1.0f, beta_x, false, false,
                          threads};
      const auto& pd = l.matmul_pd(key);
      if (!bmem || (w && bmem.get_desc() != pd.weights_desc()))  // a layout per height
        bmem = bf16_b(l, pd, false, O, O, I, W, w);
      execute_bf16(l, key, d16 + s.m0 * O, bmem, dX + s.m0 * I, s.rows, {});
    }
  }
  if (dW) {  // [O, I] = sum over the slices of [O, h] (d16 read transposed) x X [h, I]
    auto* x16 = static_cast<uint16_t*>(l.b.get(Tp * I * sizeof(uint16_t)));  // [Tp, I]
    convert_bf16(X, T, I, I, x16, I);
    std::fill(x16 + T * I, x16 + Tp * I, uint16_t{0});
    for (const Slice& s : parts) {
      const MatmulKey key{bf16, true, 1, O, I, s.height, 1.0f, s.m0 == 0 ? beta_w : 1.0f, false,
                          false, threads};
      const auto& pd = l.matmul_pd(key);
      const dnnl::memory xmem(pd.weights_desc(), engine(), x16 + s.m0 * I);
      execute_bf16(l, key, d16 + s.m0 * O, xmem, dW, O, {});
    }
  }
}

void Backend::run_int8(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                       const float* A, const float* B, float beta, float* C, const Epilogue& ep,
                       WeightEntry& w) {
  Local& l = local();
  const MatmulKey key{static_cast<int>(Precision::kInt8), false, 0, M, N, K, 1.0f, 0.0f, false,
                      false, omp_get_max_threads()};
  const auto& pd = l.matmul_pd(key);
  const Packed& wq = int8_weights(l, B, tb, K, N, pd.weights_desc(), w);
  auto* a8 = static_cast<uint8_t*>(l.a.get(M * K));
  l.a_scale.resize(M);
  quantise_rows_u8(A, ta, M, K, a8, l.a_scale.data());
  auto* acc = static_cast<int32_t*>(l.acc.get(M * N * sizeof(int32_t)));
  dnnl::memory amem(pd.src_desc(), engine(), a8), cmem(pd.dst_desc(), engine(), acc);
  l.matmul(key).execute(l.stream, {{DNNL_ARG_SRC, amem},
                                   {DNNL_ARG_WEIGHTS, wq.mem},
                                   {DNNL_ARG_DST, cmem},
                                   {DNNL_ARG_SCRATCHPAD, l.scratchpad(pd)}});
  l.stream.wait();
  // Take the shift back and dequantise: C = alpha sa[m] sb[n] (acc - 128 colsum[n]) + beta C,
  // or + bias[n] (then beta is 0), then max(0, C) with relu.
  // (Pointers held locally and restrict: through the captured references, each store to C would
  // reload them, and the loop would not vectorise.)
  const float* __restrict sb = wq.scale.data();
  const int32_t* __restrict colsum = wq.colsum.data();
  const float* __restrict sa_all = l.a_scale.data();
  const float* __restrict bias = ep.bias;
  const bool relu = ep.relu;
  kernels::parallel_for(M, N, [=](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) {
      const float sa = alpha * sa_all[m];
      const int32_t* __restrict r = acc + m * N;
      float* __restrict c = C + m * N;
      if (bias)
        for (int64_t n = 0; n < N; ++n)
          c[n] = sa * sb[n] * static_cast<float>(r[n] - 128 * colsum[n]) + bias[n];
      else if (beta == 0.0f)
        for (int64_t n = 0; n < N; ++n)
          c[n] = sa * sb[n] * static_cast<float>(r[n] - 128 * colsum[n]);
      else
        for (int64_t n = 0; n < N; ++n) {
          const float v = sa * sb[n] * static_cast<float>(r[n] - 128 * colsum[n]);
          c[n] = v + beta * c[n];
        }
      if (relu)
        for (int64_t n = 0; n < N; ++n) c[n] = std::max(c[n], 0.0f);
    }
  });
}

bool Backend::gemm(Precision p, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                   const float* A, const float* B, float beta, float* C, const Epilogue& ep) {
  WeightEntry* w = find_weight(B, K * N);
  if (w ? N * K < kMinWeightMacs : M * N * K < kMinMacs) return false;
  try {
    if (p == Precision::kInt8) {
      if (!w) return false;  // products of two activations (attention) stay float32
      run_int8(ta, tb, M, N, K, alpha, A, B, beta, C, ep, *w);
      return true;
    }
    // A matrix-vector product of activations gains nothing from a conversion of both.
    if (!w && (M == 1 || N == 1)) return false;
    run_bf16(ta, tb, M, N, K, alpha, A, B, beta, C, ep, w);
    return true;
  } catch (const dnnl::error& e) {
    fail("oneDNN could not run a {} product [{} x {}] x [{} x {}]: {} (use --precision fp32)",
         name_of(p), M, K, K, N, e.what());
  }
}

bool Backend::affine_backward(int64_t T, int64_t O, int64_t I, const float* dY, const float* X,
                              const float* W, float* dX, float beta_x, float* dW, float beta_w,
                              float* db) {
  if (T <= 1 || O <= 1 || I <= 1 || T * O * I < kMinMacs) return false;
  try {
    affine_backward_bf16(T, O, I, dY, X, W, dX, beta_x, dW, beta_w, db);
    return true;
  } catch (const dnnl::error& e) {
    fail("oneDNN could not run the bf16 products of an affine map's gradients ([{} x {}] x "
         "[{} x {}]): {} (use --precision fp32)", T, O, O, I, e.what());
  }
}

Backend& backend() {
  static Backend* b = new Backend;  // never destroyed: weights may unregister at exit
  return *b;
}
}  // namespace

bool gemm(Precision p, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, const float* B, float beta, float* C, const float* bias, bool relu) {
  ATTNMT_CHECK((!bias && !relu) || (alpha == 1.0f && beta == 0.0f),
               "gemm: a bias or relu with alpha {}, beta {}",
               alpha, beta);
  return backend().gemm(p, trans_a, trans_b, M, N, K, alpha, A, B, beta, C, Epilogue{bias, relu});
}

bool affine_backward(int64_t T, int64_t O, int64_t I, const float* dY, const float* X,
                     const float* W, float* dX, float beta_x, float* dW, float beta_w, float* db) {
  return backend().affine_backward(T, O, I, dY, X, W, dX, beta_x, dW, beta_w, db);
}

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
           const float* A, const float* B, float beta, float* C) {
  const dnnl_status_t status =
      dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A, trans_a ? M : K, B,
                 trans_b ? K : N, beta, C, N);
  if (status != dnnl_success)
    fail("oneDNN's sgemm failed on [{} x {}] x [{} x {}] (status {}); set ATTNMT_FP32_GEMM=eigen",
         M, K, K, N, static_cast<int>(status));
}

void register_weight(const Tensor& w) {
  if (!w.empty()) backend().add_weight(w);
}
void unregister_weight(const Tensor& w) {
  if (!w.empty()) backend().remove_weight(w);
}
void weights_changed() { backend().changed(); }
void release_thread_cache() { local_slot().reset(); }

}  // namespace attnmt::dnnl_backend
