// The differentiable ops. Each op's forward and backward live side by side in one of the
// ops_*.cpp files; each has a finite-difference gradient check in tests/test_autograd_*.cpp.
// Shapes: outermost first; "..." means any leading dimensions (flattened to rows).
// Masks are float tensors of the input's shape: 1 = keep, 0 = masked out.
// Not here: layers with parameters (src/nn/), which compose these ops.
#pragma once

#include <span>
#include <vector>

#include "autograd/var.h"
#include "tensor/random.h"

namespace attnmt {

// ---- products (ops_math.cpp)
// x [..., In], w [Out, In], b [Out] or null  ->  [..., Out]   (y = x w^T + b)
Var linear(const Var& x, const Var& w, const Var& b = nullptr);
// relu(linear(x, w, b)) with the relu applied by the product as it writes its output: no pass
// and no tensor of its own (a feed-forward layer's first half).
Var linear_relu(const Var& x, const Var& w, const Var& b = nullptr);
// 2-D views: a [M, K] (or [K, M] with trans_a), b [K, N] (or [N, K] with trans_b) -> [M, N]
Var matmul(const Var& a, const Var& b, bool trans_a = false, bool trans_b = false);
// a [G, M, K], b [G, K, N] (last two axes transposed on request) -> [G, M, N]
Var bmm(const Var& a, const Var& b, bool trans_a = false, bool trans_b = false);

// base [N, Out] + sum_i x_i [N, In_i] w_i^T ([Out, In_i]) in one buffer: the gate
// pre-activations of a recurrent step without a temporary per term.
Var affine_sum(const Var& base, const std::vector<std::pair<Var, Var>>& terms);

// ---- element-wise (ops_math.cpp); a and b have the same shape
Var add(const Var& a, const Var& b);
Var sub(const Var& a, const Var& b);
Var mul(const Var& a, const Var& b);
Var scale(const Var& x, float s);
// x [A, R, C] + y [A, C] broadcast over R (or x [R, C] + y [C] when y has rank 1)
Var add_broadcast(const Var& x, const Var& y);
Var sum(const Var& x);   // -> [1]
Var mean(const Var& x);  // -> [1]

// ---- activations and normalisation (ops_activation.cpp)
Var tanh(const Var& x);
Var sigmoid(const Var& x);
Var relu(const Var& x);
Var gelu(const Var& x);
// Over the last axis; masked entries get probability 0 (log-probability -1e30).
Var softmax(const Var& x, const Tensor* mask = nullptr);
Var log_softmax(const Var& x, const Tensor* mask = nullptr);
// x [..., D], gamma [D], beta [D] -> [..., D]
Var layer_norm(const Var& x, const Var& gamma, const Var& beta, float eps = 1e-5f);
// Inverted dropout: identity when !training or p == 0.
Var dropout(const Var& x, float p, Rng& rng, bool training);
// x + dropout(y) (a residual connection) in one pass and one tensor, with the same draws.
Var add_dropout(const Var& x, const Var& y, float p, Rng& rng, bool training);
// Entries where mask == 0 become `value` (no gradient flows to them).
Var masked_fill(const Var& x, const Tensor& mask, float value);

// ---- shapes and lookups (ops_shape.cpp)
Var reshape(const Var& x, const Shape& shape);
Var transpose(const Var& x, int axis_a, int axis_b);
Var concat(const std::vector<Var>& xs, int axis);
Var slice(const Var& x, int axis, int64_t begin, int64_t end);
// table [V, D], ids (row-major, shape `ids_shape`) -> ids_shape + [D]
Var embedding(const Var& table, std::span<const int> ids, const Shape& ids_shape);
// x [N, ...] -> x[begin:end] as a view sharing x's storage (no copy); gradients add into the
// same rows of x's gradient.
Var narrow_rows(const Var& x, int64_t begin, int64_t end);
// x [N, ...]: rows picked (and repeated) by index -> [rows.size(), ...]
Var index_rows(const Var& x, std::span<const int> rows);

// ---- loss (ops_loss.cpp)
// Label-smoothed cross-entropy from log-probabilities logp [N, V] against targets [N],
// summed over the positions whose target is not pad_id -> [1]. The smoothed target is
// (1 - eps) on the reference and eps / V spread uniformly (as PyTorch's label_smoothing).
Var cross_entropy(const Var& logp, std::span<const int> targets, float smoothing, int pad_id);
// The same loss from unnormalised scores logits [N, V], log-softmax fused in: only the row
// log-sum-exps [N] are kept for backward (the logits are the producer's value), so training never
// holds a [N, V] log-probability tensor or its gradient.
// With consume_logits the logits' values are overwritten, in the same pass that reads them, by
// the logits' gradient for the loss's gradient `expected_grad` (for a caller that does not read
// the logits again and knows the scale it will back-propagate, 1/tokens in training): training
// holds a single [N, V] buffer instead of two, and backward only hands it on (rescaled, should
// another gradient arrive).
Var cross_entropy_with_logits(const Var& logits, std::span<const int> targets, float smoothing,
                              int pad_id, bool consume_logits = false, float expected_grad = 1.0f);

// ---- recurrent and attention blocks (ops_rnn.cpp, ops_attention.cpp)
// LSTM legend: Hd is the LSTM's width (H stays the number of attention heads, as everywhere).
// One LSTM step's pointwise part: gates [B, 4Hd] (pre-activation, order i f g o), c_prev
// [B, Hd] -> [2, B, Hd]: h then c (take them with narrow_rows on a [2B, Hd] reshape: no copies).
Var lstm_cell(const Var& gates, const Var& c_prev);
// A whole LSTM layer over time given the input projections of all steps (one GEMM done by the
// caller): xproj [B, S, 4Hd] (input part + bias), w_hh [4Hd, Hd], lengths [B] -> [B, S + 2, Hd]:
// rows [0, S) the outputs (0 at padding), row S the final h, row S + 1 the final c.
// With `reverse` the layer reads each sequence from its last real position back to 0.
Var lstm_sequence(const Var& xproj, const Var& w_hh, std::span<const int> lengths, bool reverse);
// Scaled dot-product attention, fused: q [B, H, T, d], k and v [B, H, S, d] -> [B, H, T, d].
// Keys at positions >= key_lengths[b] are masked (empty span: none); `causal` masks s > t.
// When `probs` is given it receives the attention weights [B, H, T, S]. With dropout_p > 0 the
// weights are dropped out (inverted dropout, one draw from `rng`, the same mask as dropout() of
// the weights) before they weigh v; `probs` still gets them whole.
Var attention(const Var& q, const Var& k, const Var& v, std::span<const int> key_lengths,
              bool causal, Tensor* probs = nullptr, float dropout_p = 0.0f, Rng* rng = nullptr);

}  // namespace attnmt
