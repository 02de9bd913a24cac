// bench_text: times reading + validating + encoding a parallel corpus (load_corpus) and cutting
// one epoch of token-budget batches. A CMake target (tools/microbench) run by tools/bench-text.sh;
// not a test.
// usage: bench_text MODEL SRC TGT THREADS
#include <fmt/format.h>

#include <chrono>

#include "cli/process.h"
#include "tensor/threads.h"
#include "text/batch.h"
#include "text/corpus.h"
#include "text/vocab.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    fmt::print(stderr, "usage: bench_text MODEL SRC TGT THREADS\n");
    return 2;
  }
  attnmt::setup_process(argv);
  using clock = std::chrono::steady_clock;
  auto secs = [](clock::time_point a, clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  };
  try {
    attnmt::set_threads(std::atoi(argv[4]));
    attnmt::Vocab vocab = attnmt::Vocab::load(argv[1]);
    // Reading and validating alone, to separate file handling from SentencePiece's encoding.
    auto r0 = clock::now();
    attnmt::ParallelReader reader(argv[2], argv[3]);
    attnmt::SentencePair pair;
    int64_t bytes = 0;
    while (reader.next(pair)) bytes += pair.src.size() + pair.tgt.size();
    auto r1 = clock::now();
    fmt::print("read+validate only:   {:.3f} s  ({:.1f} MB)\n", secs(r0, r1), bytes / 1e6);
    auto t0 = clock::now();
    attnmt::ParallelCorpus corpus = attnmt::load_corpus(argv[2], argv[3], vocab, vocab);
    auto t1 = clock::now();
    attnmt::BatchOptions options;  // 4096 target tokens, pools of 100 batches
    auto batches = attnmt::make_epoch_batches(corpus, options, 1, 0);
    auto t2 = clock::now();
    int64_t real = 0, cells = 0, src_tokens = 0;
    for (const auto& b : batches) {
      real += b.n_tgt_tokens;
      cells += static_cast<int64_t>(b.tgt_out.rows) * b.tgt_out.cols;
      for (int n : b.src_len) src_tokens += n;
    }
    fmt::print("pairs {}  src tokens {}  tgt tokens {}  ({})\n", corpus.size(), src_tokens, real,
               attnmt::describe(corpus.stats));
    fmt::print("read+validate+encode: {:.3f} s\n", secs(t0, t1));
    fmt::print("batch one epoch:      {:.3f} s  ({} batches, target padding {:.1f}%)\n",
               secs(t1, t2), batches.size(), 100.0 * (cells - real) / cells);
    fmt::print("total:                {:.3f} s\n", secs(t0, t2));
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_text: {}\n", e.what());
    return 1;
  }
  return 0;
}
