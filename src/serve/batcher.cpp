// The model's thread of attnmt serve (see batcher.h).
#include "serve/batcher.h"

#include <algorithm>

#include "autograd/var.h"
#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/memory.h"
#include "tensor/threads.h"

namespace attnmt::serve {

namespace {
bool same_search(const SearchOptions& a, const SearchOptions& b) {
  return a.beam == b.beam && a.n_best == b.n_best && a.greedy == b.greedy &&
         a.length_penalty == b.length_penalty && a.max_length == b.max_length &&
         a.max_length_ratio == b.max_length_ratio && a.max_length_extra == b.max_length_extra;
}
}  // namespace

Batcher::Batcher(Seq2Seq& model, const Vocab& vocab, BatcherOptions options)
    : model_(model), vocab_(vocab), options_(std::move(options)) {
  thread_ = std::thread([this] { run(); });
}

Batcher::~Batcher() { stop(); }

std::future<WorkResult> Batcher::submit(Work work) {
  Pending p{std::move(work), {}};
  std::future<WorkResult> f = p.done.get_future();
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      p.done.set_exception(std::make_exception_ptr(Error("the server is stopping")));
      return f;
    }
    queued_sentences_ += static_cast<int64_t>(p.work.lines.size());
    queue_.push_back(std::move(p));
  }
  wake_.notify_one();
  return f;
}

void Batcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

BatcherStats Batcher::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::vector<Batcher::Pending> Batcher::take_round() {
  std::vector<Pending> round;
  int64_t sentences = 0;
  const SearchOptions search = queue_.front().work.search;
  for (auto it = queue_.begin(); it != queue_.end();) {
    const int64_t n = static_cast<int64_t>(it->work.lines.size());
    if (!same_search(it->work.search, search)) {
      ++it;
      continue;
    }
    if (!round.empty() && sentences + n > options_.max_batch) break;
    sentences += n;
    round.push_back(std::move(*it));
    it = queue_.erase(it);
  }
  queued_sentences_ -= sentences;
  return round;
}

void Batcher::run() {
  // OpenMP's thread count is a setting of each thread: this one's is set here, once.
  set_threads(options_.threads);
  const auto work_or_stop = [&] { return stopping_ || !queue_.empty(); };
  const bool release = options_.release_after.count() > 0;
  bool released = true;  // nothing done since memory last went back
  for (;;) {
    std::vector<Pending> round;
    {
      std::unique_lock lock(mutex_);
      if (release && !released && !wake_.wait_for(lock, options_.release_after, work_or_stop)) {
        lock.unlock();
        release_thread_gemm_cache();  // primitives of past batch shapes (then freed below)
        release_free_memory();
        released = true;
        lock.lock();
        ++stats_.releases;
      }
      wake_.wait(lock, work_or_stop);
      if (queue_.empty()) return;  // stopping, nothing left
      // A short window for other requests to join this one, unless the round is full already.
      const auto deadline = std::chrono::steady_clock::now() + options_.window;
      wake_.wait_until(lock, deadline,
                       [&] { return stopping_ || queued_sentences_ >= options_.max_batch; });
      round = take_round();
    }
    translate(round);
    released = false;
  }
}

void Batcher::translate(std::vector<Pending>& round) {
  try {
    NoGradGuard no_grad;
    std::vector<std::string> lines;
    for (const Pending& p : round)
      lines.insert(lines.end(), p.work.lines.begin(), p.work.lines.end());
    const EncodedWindow all =
        encode_window(vocab_, lines, input_cut(model_, options_.translate.max_input_pieces));
    const std::vector<std::vector<int>>& src = all.ids;
    TranslateOptions options = options_.translate;
    options.search = round.front().work.search;
    options.batch_size = std::max(options.batch_size, options_.max_batch);
    std::vector<std::vector<Hypothesis>> hyps = translate_ids(model_, src, options);
    std::vector<WorkResult> results(round.size());
    size_t at = 0;
    for (size_t k = 0; k < round.size(); ++k) {
      const Work& w = round[k].work;
      WorkResult& r = results[k];
      const size_t n = w.lines.size();
      r.hyps.assign(std::make_move_iterator(hyps.begin() + at),
                    std::make_move_iterator(hyps.begin() + at + n));
      r.src.ids.assign(src.begin() + at, src.begin() + at + n);
      r.src.labels.assign(all.labels.begin() + at, all.labels.begin() + at + n);
      r.src.cut.assign(all.cut.begin() + at, all.cut.begin() + at + n);
      r.src.truncated = std::count(r.src.cut.begin(), r.src.cut.end(), 1);
      at += n;
      if (w.maps) {
        std::vector<std::vector<int>> best(n);
        for (size_t i = 0; i < n; ++i)
          if (!r.hyps[i].empty()) best[i] = r.hyps[i][0].tokens;
        r.maps = forced_attention_maps(model_, r.src.ids, best);
      }
    }
    {
      // Counted before any request learns its result: whoever reads the stats after a reply
      // (serve's closing line after SIGTERM) finds this round in them.
      std::lock_guard lock(mutex_);
      ++stats_.rounds;
      stats_.requests += static_cast<int64_t>(round.size());
      stats_.sentences += static_cast<int64_t>(src.size());
      stats_.largest = std::max<int64_t>(stats_.largest, static_cast<int64_t>(src.size()));
    }
    for (size_t k = 0; k < round.size(); ++k) round[k].done.set_value(std::move(results[k]));
  } catch (...) {
    // Every request of the round learns what went wrong; the thread goes on with the next.
    for (Pending& p : round) {
      try {
        p.done.set_exception(std::current_exception());
      } catch (const std::future_error&) {  // this one had its value already
      }
    }
  }
}

}  // namespace attnmt::serve
