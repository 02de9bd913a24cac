// Validation decodes with the real decoder: the dev translations it scores are exactly what
// `attnmt translate --greedy` writes for the same model and lines (before, the trainer had its
// own greedy loop with another length cap and EOS rule).
#include <sstream>

#include "helpers.h"
#include "models/model_io.h"
#include "models/registry.h"
#include "tensor/precision.h"
#include "tensor/threads.h"
#include "train/validation.h"

using namespace attnmt;
using namespace attnmt::testing;

TEST_CASE("validation's translations are attnmt translate --greedy's", "[train][decode]") {
  TempDir dir("valid-greedy");
  const std::string d = dir.path().string();
  write_tiny_corpus(d);
  const Vocab vocab = train_test_vocab(d + "/train.en", d + "/train.es", 40, d + "/spm");
  const ParallelCorpus dev = load_corpus(d + "/train.en", d + "/train.es", vocab, vocab);
  REQUIRE(dev.size() == 50);
  for (const Architecture& arch : architectures()) {
    INFO(arch.name);
    // A random model: it rarely ends by itself, so the length cap decides most outputs.
    auto model = make_model(arch.examples(vocab.size()).front().config, 3);
    const std::string path = d + "/" + std::string(arch.name) + ".attnmt";
    save_model(path, *model, vocab);
    // In each precision that the trainer can run (bf16 emulated where the CPU has no bf16).
    for (Precision p : {Precision::kFp32, Precision::kBf16}) {
      if (p == Precision::kBf16 && !cpu_features().avx512_core) continue;
      INFO(name_of(p));
      std::vector<std::string> ours;
      {
        ScopedPrecision products(p);
        ours = validation_translations(*model, dev, vocab, 50);
      }
      // With this process's thread count: oneDNN's sums split by threads, so their rounding
      // depends on it (what is exact is one precision on one thread count).
      auto r = run_attnmt("translate --greedy --threads " + std::to_string(get_threads()) +
                          " --precision " + std::string(name_of(p)) + " -m " + path + " -i " + d +
                          "/train.en");
      REQUIRE(r.exit_code == 0);
      const std::vector<std::string> theirs = split_lines(r.out);
      REQUIRE(theirs.size() == ours.size());
      int same = 0;
      for (size_t i = 0; i < ours.size(); ++i) same += ours[i] == theirs[i];
      CHECK(same == 50);
      size_t longest = 0;
      for (const auto& s : ours) longest = std::max(longest, s.size());
      CHECK(longest > 0);  // not all empty: the comparison says something
    }
  }
}
