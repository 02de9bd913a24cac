// Data-parallel training: the batch shares, the bucketed gradient sum and the fingerprints that
// keep the ranks honest.
#include "train/data_parallel.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <span>

#include "tensor/error.h"
#include "train/cluster.h"

namespace attnmt {

namespace {

// A 64-bit hash built up from words and bytes (FNV-1a's constants, a word at a time).
class Hasher {
 public:
  void word(uint64_t w) { h_ = (h_ ^ w) * 0x100000001b3ULL; }
  void bytes(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      word(w);
    }
    uint64_t tail = 0;
    std::memcpy(&tail, p + i, n - i);
    word(tail ^ (uint64_t{n} << 56));
  }
  void text(const std::string& s) { bytes(s.data(), s.size()); }
  template <typename T>
  void values(const std::vector<T>& v) {
    word(v.size());
    bytes(v.data(), v.size() * sizeof(T));
  }
  uint64_t value() const { return h_ ^ (h_ >> 29); }

 private:
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

}  // namespace

Batch batch_share(const ParallelCorpus& corpus, const Batch& global, int rank, int ranks) {
  const auto n = static_cast<int64_t>(global.index.size());
  std::vector<int64_t> upto(n + 1, 0);  // target tokens (EOS included) of the first i pairs
  for (int64_t i = 0; i < n; ++i)
    upto[i + 1] = upto[i] + static_cast<int64_t>(corpus.tgt[global.index[i]].size()) + 1;
  // The run of rank r: the pairs whose tokens start in [r/N, (r+1)/N) of the batch's tokens.
  auto first_of = [&](int r) {
    const double at = static_cast<double>(upto[n]) * r / ranks;
    int64_t i = 0;
    while (i < n && static_cast<double>(upto[i]) < at) ++i;
    return i;
  };
  const int64_t begin = first_of(rank), end = rank + 1 == ranks ? n : first_of(rank + 1);
  const std::span<const int64_t> mine(global.index.data() + begin, end - begin);
  if (mine.empty()) return Batch{};
  return make_batch(corpus, mine);
}

void sum_gradients(ParameterStore& params, std::vector<float>& bucket, int64_t bucket_floats) {
  std::vector<Tensor*> packed;  // the gradients now in the bucket, in order
  int64_t used = 0;
  auto flush = [&] {
    if (packed.empty()) return;
    cluster::sum(std::span<float>(bucket.data(), used));
    int64_t at = 0;
    for (Tensor* g : packed) {
      std::memcpy(g->data(), bucket.data() + at, g->numel() * sizeof(float));
      at += g->numel();
    }
    packed.clear();
    used = 0;
  };
  bucket.resize(static_cast<size_t>(bucket_floats));
  for (const auto& [name, p] : params.all()) {
    Tensor& g = p->grad_buffer();
    const int64_t n = g.numel();
    if (n >= bucket_floats) {
      cluster::sum(std::span<float>(g.data(), n));
      continue;
    }
    if (used + n > bucket_floats) flush();
    std::memcpy(bucket.data() + used, g.data(), n * sizeof(float));
    packed.push_back(&g);
    used += n;
  }
  flush();
}

StepAgreement agree_on_step(ParameterStore& params, std::vector<float>& bucket,
                            const std::array<double, 3>& figures, double seconds,
                            bool stop_requested) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  cluster::barrier();  // apart from the sums, so that their time is the communication's alone
  const Clock::time_point all_here = Clock::now();
  std::array<double, 5> all = {figures[0], figures[1], figures[2],
                               cluster::rank() == 0 ? seconds : 0.0, stop_requested ? 1.0 : 0.0};
  cluster::sum(all);
  sum_gradients(params, bucket);
  const Clock::time_point end = Clock::now();
  return {{all[0], all[1], all[2]},
          all[3],
          all[4] > 0,
          std::chrono::duration<double>(all_here - start).count(),
          std::chrono::duration<double>(end - all_here).count()};
}

void share_validation_state(TrainState& st) {
  std::array<double, 3> v = {st.best_score, double(st.bad_validations), st.plateau_scale};
  cluster::broadcast(v);
  st.best_score = v[0];
  st.bad_validations = static_cast<int>(v[1]);
  st.plateau_scale = static_cast<float>(v[2]);
}

void require_ranks_agree(const TrainOptions& o, const ParallelCorpus& corpus, const Vocab& vocab,
                         const ParameterStore& params) {
  require_same_on_all_ranks(fingerprint_options(o), "options",
                            "give every rank the same command line and --config file");
  require_same_on_all_ranks(fingerprint_data(corpus, vocab),
                            "training data (the pairs as encoded with the vocabulary)",
                            "every rank must read the same --src, --tgt, --vocab and "
                            "--guided-alignment files");
  require_same_on_all_ranks(fingerprint_parameters(params), "starting parameters",
                            "with --resume, every rank must read the same checkpoint");
}

uint64_t fingerprint_options(const TrainOptions& o) {
  // Everything that changes what the ranks compute, and nothing that only one rank uses (the
  // validation files, the log) or that may differ per machine (paths of the same data, threads).
  std::string s = fmt::format(
      "output={} save_dtype={} vocab_given={} vocab_size={} vocab_model={} coverage={} "
      "max_length={} skip_bad={} batch_tokens={} lr={} schedule={} warmup={} adam={},{},{} "
      "clip={} smoothing={} ema={} guided={} guided_weight={} max_steps={} max_epochs={} "
      "max_time={} patience={} seed={} precision={} save_every={} keep_last={} valid_every={} "
      "resume={}",
      o.output, name_of(o.save_dtype), !o.vocab.empty(), o.vocab_size, name_of(o.vocab_model_type),
      o.character_coverage, o.max_length, o.skip_bad_lines, o.batch_tokens, o.lr,
      name_of(o.schedule), o.warmup, o.adam.beta1, o.adam.beta2, o.adam.eps, o.clip_norm,
      o.label_smoothing, o.ema, !o.guided_alignment.empty(), o.guided_alignment_weight,
      o.max_steps, o.max_epochs, o.max_time_minutes, o.patience, o.seed, name_of(o.precision),
      o.save_every, o.keep_last, o.valid_every, o.resume);
  for (const auto& [key, value] : o.model.to_pairs()) s += fmt::format(" {}={}", key, value);
  Hasher h;
  h.text(s);
  return h.value();
}

uint64_t fingerprint_data(const ParallelCorpus& corpus, const Vocab& vocab) {
  Hasher h;
  h.text(vocab.serialized());
  h.word(static_cast<uint64_t>(corpus.size()));
  for (int64_t i = 0; i < corpus.size(); ++i) {
    h.values(corpus.src[i]);
    h.values(corpus.tgt[i]);
    if (!corpus.guide.empty()) h.values(corpus.guide[i]);
  }
  return h.value();
}

uint64_t fingerprint_parameters(const ParameterStore& params) {
  Hasher h;
  for (const auto& [name, p] : params.all()) {
    h.text(name);
    h.bytes(p->value.data(), static_cast<size_t>(p->value.numel()) * sizeof(float));
  }
  return h.value();
}

void require_same_on_all_ranks(uint64_t value, const std::string& what, const std::string& hint) {
  const std::vector<uint64_t> all = cluster::gather(value);
  std::vector<int> differ;
  for (size_t r = 1; r < all.size(); ++r)
    if (all[r] != all[0]) differ.push_back(static_cast<int>(r));
  if (differ.empty()) return;
  fail("the ranks disagree: rank{} {} {} other {} than rank 0 ({} ranks): {}",
       differ.size() > 1 ? "s" : "", fmt::join(differ, ", "), differ.size() > 1 ? "have" : "has",
       what, all.size(), hint);
}

uint64_t rank_step_seed(uint64_t seed, int64_t step, int rank) {
  Hasher h;
  h.word(seed);
  h.word(static_cast<uint64_t>(step));
  h.word(static_cast<uint64_t>(rank) + 0x5eed);
  return h.value();
}

}  // namespace attnmt
