// The file-translation pipeline (see translator.h): windows of lines, length-sorted batches,
// beam search, output in input order.
#include "decode/translator.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <numeric>

#include "decode/forced.h"
#include "io/atomic_file.h"
#include "tensor/error.h"
#include "tensor/threads.h"
#include "text/utf8.h"

namespace attnmt {

// ---- Input ----

EncodedWindow encode_window(const Vocab& vocab, const std::vector<std::string>& lines,
                            int max_pieces) {
  EncodedWindow w;
  const int n = static_cast<int>(lines.size());
  w.ids.resize(n);
  w.labels.resize(n);
  std::vector<char>& cut = w.cut;
  cut.assign(n, 0);
  // An exception must not leave an OpenMP region: keep the first message, throw after.
  std::string error;
#pragma omp parallel for schedule(dynamic, 16)
  for (int i = 0; i < n; ++i) {
    try {
      w.ids[i] = vocab.encode(lines[i], w.labels[i]);
      if (max_pieces > 0 && static_cast<int>(w.ids[i].size()) > max_pieces) {
        w.ids[i].resize(max_pieces);
        w.labels[i].resize(max_pieces);
        cut[i] = 1;
      }
    } catch (const std::exception& e) {
#pragma omp critical
      if (error.empty()) error = e.what();
    }
  }
  if (!error.empty()) throw Error(error);
  w.truncated = std::count(cut.begin(), cut.end(), 1);
  return w;
}

int input_cut(const Seq2Seq& model, int max_input_pieces) {
  const int positions = model.max_positions();
  if (positions <= 0) return max_input_pieces;
  return max_input_pieces > 0 ? std::min(max_input_pieces, positions - 1) : positions - 1;
}

// ---- Search in batches ----

std::vector<std::vector<Hypothesis>> translate_ids(Seq2Seq& model,
                                                   const std::vector<std::vector<int>>& src,
                                                   const TranslateOptions& options,
                                                   const std::function<void(int64_t)>& on_batch) {
  const int n = static_cast<int>(src.size());
  std::vector<std::vector<Hypothesis>> results(n);
  // Longest first: a batch's padding is set by its first sentence, and the costliest batches
  // run while memory is fresh. Empty sources are never fed to the model.
  std::vector<int> order;
  for (int i = 0; i < n; ++i)
    if (!src[i].empty()) order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return src[a].size() > src[b].size(); });
  const int64_t rows_per_sentence =
      options.search.greedy ? 1 : std::max(options.search.beam, options.search.n_best);
  const int max_sentences = std::max(1, options.batch_size);
  int64_t done = n - static_cast<int64_t>(order.size());
  // The decoder reads BOS + the output so far: the output may not outgrow the model's positions
  // (the search's last step, which forces EOS, takes one more).
  SearchOptions search = options.search;
  if (model.max_positions() > 1)
    search.max_length = std::min(search.max_length, model.max_positions() - 1);
  // The batches, longest first; then searched by workers of one thread each (the last
  // batches, the shortest, keep them all busy to the end), or on all the threads when there is
  // only one batch.
  std::vector<std::pair<size_t, size_t>> batches;  // [begin, end) in `order`
  for (size_t begin = 0; begin < order.size();) {
    const int S = static_cast<int>(src[order[begin]].size()) + 1;  // longest, with EOS
    size_t end = begin + 1;
    while (end < order.size() && static_cast<int>(end - begin) < max_sentences &&
           (options.batch_tokens <= 0 ||
            static_cast<int64_t>(end - begin + 1) * S * rows_per_sentence <= options.batch_tokens))
      ++end;
    batches.emplace_back(begin, end);
    begin = end;
  }
  std::mutex done_mutex;
  run_on_workers(static_cast<int64_t>(batches.size()), options.workers ? get_threads() : 1,
                 [&](int64_t b) {
    const auto [begin, end] = batches[b];
    const int S = static_cast<int>(src[order[begin]].size()) + 1;
    IdMatrix ids;
    ids.rows = static_cast<int>(end - begin);
    ids.cols = S;
    ids.ids.assign(static_cast<size_t>(ids.rows) * S, kPadId);
    std::vector<int> len(ids.rows);
    for (int r = 0; r < ids.rows; ++r) {
      const auto& s = src[order[begin + r]];
      std::copy(s.begin(), s.end(), ids.ids.begin() + static_cast<size_t>(r) * S);
      ids.at(r, static_cast<int>(s.size())) = kEosId;
      len[r] = static_cast<int>(s.size()) + 1;
    }
    auto hyps = beam_search(model, ids, len, search);
    for (int r = 0; r < ids.rows; ++r) results[order[begin + r]] = std::move(hyps[r]);
    std::lock_guard lock(done_mutex);
    done += ids.rows;
    if (on_batch) on_batch(done);
  });
  return results;
}

void TranslateOptions::validate() const {
  const SearchOptions& s = search;
  ATTNMT_CHECK(s.beam >= 1 && s.beam <= 100, "--beam must be between 1 and 100, got {}", s.beam);
  ATTNMT_CHECK(s.n_best >= 1 && s.n_best <= 100, "--n-best must be between 1 and 100, got {}",
               s.n_best);
  ATTNMT_CHECK(!(s.greedy && s.n_best > 1), "--greedy finds one translation: drop --n-best");
  ATTNMT_CHECK(std::isfinite(s.length_penalty), "--length-penalty must be a finite number");
  ATTNMT_CHECK(s.max_length >= 1, "--max-output-length must be at least 1");
  ATTNMT_CHECK(std::isfinite(s.max_length_ratio) && s.max_length_ratio >= 0,
               "--max-output-ratio must be a finite number >= 0");
  ATTNMT_CHECK(s.max_length_extra >= 0, "--max-output-extra must not be negative");
  ATTNMT_CHECK(batch_size >= 1, "--batch-size must be at least 1");
  ATTNMT_CHECK(batch_tokens >= 0, "--batch-tokens must not be negative");
  ATTNMT_CHECK(window >= 1, "--window must be at least 1");
  ATTNMT_CHECK(align_layer >= kModelsChoice && align_head >= kModelsChoice,
               "--alignment-layer and --alignment-head must be -1 (the last layer, the heads' "
               "average) or a layer or head number from 0");
  ATTNMT_CHECK(max_input_pieces >= 1, "--max-input-length must be at least 1");
  ATTNMT_CHECK(std::isfinite(links.diagonal) && links.diagonal >= 0 && links.diagonal <= 1000,
               "--alignment-diagonal must be a number from 0 (no prior) to 1000, got {}",
               links.diagonal);
}

void use_probe(Seq2Seq& model, AlignmentMethod method, const std::vector<std::vector<int>>& src,
               std::vector<std::vector<Hypothesis>>& hyps) {
  if (reads_attention(method)) return;
  std::vector<std::vector<int>> sources, targets;
  std::vector<Hypothesis*> where;
  for (size_t i = 0; i < hyps.size(); ++i)
    for (Hypothesis& h : hyps[i])
      if (h.attention.size() == h.tokens.size() + 1) {  // not a failed search's stand-in
        sources.push_back(src[i]);
        targets.push_back(h.tokens);
        where.push_back(&h);
      }
  std::vector<Matrix> probed = forced_alignment(model, sources, targets, method);
  for (size_t k = 0; k < where.size(); ++k)
    if (!probed[k].empty()) where[k]->attention = std::move(probed[k]);
}

// ---- Output ----

Alignment hypothesis_alignment(const Vocab& vocab, const std::vector<int>& src,
                               const Hypothesis& hyp, bool word_level, AlignmentMethod method,
                               bool keep_eos,
                               const std::vector<std::string>* src_labels,
                               const std::vector<std::string>* tgt_labels,
                               WordAggregate aggregate) {
  Alignment a;
  const bool src_labelled = src_labels && src_labels->size() == src.size();
  const bool tgt_labelled = tgt_labels && tgt_labels->size() == hyp.tokens.size();
  a.src_tokens = src_labelled ? *src_labels : vocab.pieces(src);
  a.src_tokens.push_back(kEosToken);
  a.tgt_tokens = tgt_labelled ? *tgt_labels : vocab.pieces(hyp.tokens);
  a.tgt_tokens.push_back(kEosToken);
  a.weights = hyp.attention;
  if (a.weights.size() != a.tgt_tokens.size()) {
    // Only the stand-in of a failed search (search.h) has no row per token: no alignment.
    a.tgt_tokens.assign(a.weights.size(), kEosToken);
  }
  check_alignment(a);
  if (method == AlignmentMethod::kShifted) a = shift_to_inputs(a);
  if (!keep_eos) a = without_eos(a);
  if (word_level) a = to_word_level(a, aggregate);
  return a;
}

namespace {

std::string alignment_text(const Vocab& vocab, const std::vector<int>& src, const Hypothesis* hyp,
                           const TranslateOptions& o) {
  if (o.alignment == AlignmentOutput::kNone) return {};
  if (!hyp) return " ||| ";
  Alignment a = hypothesis_alignment(vocab, src, *hyp, o.level == AlignmentLevel::kWord, o.method,
                                     false, nullptr, nullptr, o.aggregate);
  return " ||| " + (o.alignment == AlignmentOutput::kHard ? format_pharaoh(a, o.links) : format_soft(a));
}

}  // namespace

std::string format_translation(const Vocab& vocab, int64_t index, const std::vector<int>& src,
                               const std::vector<Hypothesis>& hyps,
                               const TranslateOptions& options) {
  if (!options.n_best_format) {
    if (hyps.empty()) return alignment_text(vocab, src, nullptr, options);
    return vocab.decode(hyps[0].tokens) + alignment_text(vocab, src, &hyps[0], options);
  }
  // An empty input still gets one n-best line, with an empty hypothesis and score 0.
  if (hyps.empty())
    return fmt::format("{} |||  ||| {:.6f}{}", index, 0.0,
                       alignment_text(vocab, src, nullptr, options));
  std::string out;
  for (size_t k = 0; k < hyps.size(); ++k) {
    if (k) out += '\n';
    out += fmt::format("{} ||| {} ||| {:.6f}{}", index, vocab.decode(hyps[k].tokens), hyps[k].score,
                       alignment_text(vocab, src, &hyps[k], options));
  }
  return out;
}

// ---- The file loop ----

namespace {

// "translated 1200 lines, 85.3 lines/s": rewritten in place on a terminal, one line per window
// otherwise (when asked for with --progress).
class Progress {
 public:
  explicit Progress(bool on) : on_(on), tty_(isatty(fileno(stderr)) != 0), start_(Clock::now()) {}
  void update(int64_t lines, bool window_end) {
    if (!on_ || (!tty_ && !window_end)) return;
    std::fprintf(stderr, "%stranslated %lld lines, %.1f lines/s%s", tty_ ? "\r" : "",
                 static_cast<long long>(lines), lines / std::max(1e-9, seconds()),
                 tty_ ? "" : "\n");
    std::fflush(stderr);
    printed_ = true;
  }
  void finish() {
    if (on_ && tty_ && printed_) std::fputc('\n', stderr);
  }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  using Clock = std::chrono::steady_clock;
  bool on_, tty_, printed_ = false;
  Clock::time_point start_;
};

}  // namespace

TranslateStats translate_file(Seq2Seq& model, const Vocab& vocab, const std::string& input_path,
                              std::ostream& out, const TranslateOptions& options) {
  LineReader in(input_path);
  Progress progress(options.progress);
  TranslateStats stats;
  std::vector<std::string> lines;
  std::string line;
  const int window = std::max(1, options.window);
  for (;;) {
    lines.clear();
    while (static_cast<int>(lines.size()) < window && in.next(line)) lines.push_back(line);
    if (lines.empty()) break;
    EncodedWindow w = encode_window(vocab, lines, input_cut(model, options.max_input_pieces));
    const int64_t base = stats.lines;
    auto hyps = translate_ids(model, w.ids, options,
                              [&](int64_t done) { progress.update(base + done, false); });
    if (options.alignment != AlignmentOutput::kNone) use_probe(model, options.method, w.ids, hyps);
    for (size_t i = 0; i < lines.size(); ++i) {
      out << format_translation(vocab, base + static_cast<int64_t>(i), w.ids[i], hyps[i], options)
          << '\n';
      stats.empty += w.ids[i].empty();
      stats.src_pieces += static_cast<int64_t>(w.ids[i].size());
      if (!hyps[i].empty()) stats.tgt_pieces += static_cast<int64_t>(hyps[i][0].tokens.size());
    }
    if (!out)
      fail("write error while writing translations of lines {}..{}", base + 1,
           base + static_cast<int64_t>(lines.size()));
    stats.lines += static_cast<int64_t>(lines.size());
    stats.truncated += w.truncated;
    progress.update(stats.lines, true);
  }
  progress.finish();
  stats.seconds = progress.seconds();
  return stats;
}

}  // namespace attnmt
