// The one thread that runs the model for `attnmt serve`: requests that arrive together are
// translated together. The HTTP threads submit lines and wait for the future; this thread takes
// what is queued (after a short window, so that requests arriving within it join), at most
// max_batch sentences of one search setting at a time, encodes them, translates them in one
// translate_ids() call (its own length-sorted batches) and hands each request its part.
// The model, the vocabulary and OpenMP are only used here: nothing is shared between threads
// but the queue.
// Not here: HTTP (serve/server.h), JSON (serve/api.h).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "decode/forced.h"
#include "decode/translator.h"

namespace attnmt::serve {

struct Work {
  std::vector<std::string> lines;  // checked text (serve/api.h), encoded by the batcher
  SearchOptions search;
  bool maps = false;  // also every attention map of each best hypothesis
};

struct WorkResult {
  EncodedWindow src;                          // the lines' pieces, cut at the input limit
  std::vector<std::vector<Hypothesis>> hyps;  // [lines] best first
  std::vector<PairAttention> maps;            // [lines] when asked for
};

struct BatcherOptions {
  int max_batch = 32;  // sentences translated together (a larger request runs alone)
  std::chrono::microseconds window{5000};  // how long the first request waits for company
  int threads = 0;                         // OpenMP threads of the model (0: all cores)
  // Idle this long after a round, the memory of freed tensors goes back to the system
  // (release_free_memory in tensor/memory.h): one large request does not hold it for good.
  // Zero: never.
  std::chrono::milliseconds release_after{2000};
  TranslateOptions translate;              // batching and the cut; search comes per Work
};

struct BatcherStats {
  int64_t rounds = 0;     // translate_ids calls
  int64_t requests = 0;   // Work items done
  int64_t sentences = 0;  // lines translated
  int64_t largest = 0;    // most sentences in one round
  int64_t releases = 0;   // times memory went back to the system when idle
};

class Batcher {
 public:
  // The model and vocabulary must outlive the batcher.
  Batcher(Seq2Seq& model, const Vocab& vocab, BatcherOptions options);
  ~Batcher();  // stop()
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues the work; the future holds its result or the error the model raised. After stop()
  // the future holds an error saying the server is stopping.
  std::future<WorkResult> submit(Work work);
  // Finishes what is queued, then ends the thread. Idempotent.
  void stop();
  BatcherStats stats() const;

 private:
  struct Pending {
    Work work;
    std::promise<WorkResult> done;
  };
  void run();
  // Takes the next round: the first pending work and the ones after it with the same search,
  // up to max_batch sentences. Called with the lock held.
  std::vector<Pending> take_round();
  void translate(std::vector<Pending>& round);

  Seq2Seq& model_;
  const Vocab& vocab_;
  BatcherOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  int64_t queued_sentences_ = 0;
  bool stopping_ = false;
  BatcherStats stats_;
  std::thread thread_;
};

}  // namespace attnmt::serve
