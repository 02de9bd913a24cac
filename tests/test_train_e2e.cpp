// End-to-end training through the CLI: a tiny model memorises a tiny corpus, N steps straight
// equal N/2 + resume + N/2 exactly, damaged model files are refused, bad options are reported.
#include <cstring>
#include <fstream>
#include <map>

#include "helpers.h"
#include "models/model_io.h"
#include "tensor/precision.h"
#include "text/batch.h"
#include "train/validation.h"

using namespace attnmt;
using namespace attnmt::testing;

namespace {
const std::string kTinyLstm =
    " --emb-dim 32 --enc-hidden 32 --dec-hidden 64 --dropout 0 --label-smoothing 0"
    " --batch-tokens 500 --lr 0.01 --threads 1 -q";

}  // namespace

// In each precision the trainer runs (bf16 emulated on a CPU without bf16 instructions): what
// is exact is one precision on one thread count.
TEST_CASE("training N steps equals N/2 steps, --resume, N/2 more, bit for bit",
          "[e2e][train][precision]") {
  TempDir dir("e2e-resume");
  std::string d = dir.path().string();
  write_tiny_corpus(d);
  std::vector<std::string> precisions = {"fp32"};
  if (cpu_features().avx512_core) precisions.push_back("bf16");
  std::map<std::string, ModelFile> straight;
  for (const std::string& precision : precisions) {
    INFO(precision);
    // Dropout on, so the restored random state matters; several epochs, so the data position
    // does.
    std::string common = " --src " + d + "/train.en --tgt " + d + "/train.es --vocab-size 40"
                         " --emb-dim 16 --enc-hidden 16 --dec-hidden 32 --dropout 0.2"
                         " --batch-tokens 100 --lr 0.005 --threads 1 -q --save-every 1000"
                         " --precision " + precision;
    const std::string one = d + "/straight-" + precision + ".bin", two = d + "/split-" + precision + ".bin";
    REQUIRE(run_attnmt("train" + common + " -o " + one + " --max-steps 14").exit_code == 0);
    // The same vocabulary for the split run: train it the same way (same data, seed, threads).
    REQUIRE(run_attnmt("train" + common + " -o " + two + " --max-steps 7").exit_code == 0);
    auto r = run_attnmt("train" + common + " -o " + two + " --max-steps 14 --resume");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    ModelFile a = load_model_file(one + ".ckpt");
    ModelFile b = load_model_file(two + ".ckpt");
    CHECK(a.config_at("checkpoint.step") == "14");
    CHECK(b.config_at("checkpoint.step") == "14");
    REQUIRE(a.tensors.size() == b.tensors.size());
    int differing = 0;
    for (size_t i = 0; i < a.tensors.size(); ++i) {
      const Tensor &x = a.tensors[i].second, &y = b.tensors[i].second;
      REQUIRE(a.tensors[i].first == b.tensors[i].first);
      if (std::memcmp(x.data(), y.data(), x.numel() * sizeof(float)) != 0) {
        UNSCOPED_INFO("differs: " << a.tensors[i].first);
        ++differing;
      }
    }
    CHECK(differing == 0);
    // And training really moved the parameters away from the 7-step state.
    CHECK(a.config_at("checkpoint.rng") == b.config_at("checkpoint.rng"));
    straight.emplace(precision, std::move(a));
  }
  if (straight.size() == 2) {  // bf16 did run: its parameters are not float32's
    const ModelFile &f = straight.at("fp32"), &h = straight.at("bf16");
    int differing = 0;
    for (size_t i = 0; i < f.tensors.size(); ++i)
      differing += std::memcmp(f.tensors[i].second.data(), h.tensors[i].second.data(),
                               f.tensors[i].second.numel() * sizeof(float)) != 0;
    CHECK(differing > 0);
  }
}

TEST_CASE("a damaged or truncated model file is refused with a clear message", "[e2e][train]") {
  TempDir dir("e2e-damage");
  std::string d = dir.path().string();
  write_tiny_corpus(d, 20);
  REQUIRE(run_attnmt("train --src " + d + "/train.en --tgt " + d + "/train.es -o " + d +
                     "/m.bin --vocab-size 30 --max-steps 2" + kTinyLstm).exit_code == 0);
  std::string bytes = read_text(d + "/m.bin");
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x20;
  write_text(d + "/flipped.bin", flipped);
  write_text(d + "/short.bin", bytes.substr(0, bytes.size() * 2 / 3));
  auto f = run_attnmt("info " + d + "/flipped.bin");
  CHECK(f.exit_code == 1);
  CHECK(f.err.find("damaged") != std::string::npos);
  auto t = run_attnmt("info " + d + "/short.bin");
  CHECK(t.exit_code == 1);
  CHECK(t.err.find("truncated") != std::string::npos);
  auto missing = run_attnmt("info " + d + "/nope.bin");
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("nope.bin") != std::string::npos);
}

TEST_CASE("attnmt train reports bad input and options clearly", "[e2e][train]") {
  TempDir dir("e2e-bad");
  std::string d = dir.path().string();
  write_tiny_corpus(d, 20);
  write_text(d + "/short.es", "uno\ndos\n");
  auto mismatch = run_attnmt("train --src " + d + "/train.en --tgt " + d + "/short.es -o " + d +
                             "/m.bin --vocab-size 30 --max-steps 1" + kTinyLstm);
  CHECK(mismatch.exit_code == 1);
  CHECK(mismatch.err.find("short.es") != std::string::npos);
  CHECK_FALSE(fs::exists(d + "/m.bin"));
  auto bad_arch = run_attnmt("train --src " + d + "/train.en --tgt " + d + "/train.es -o " + d +
                             "/m.bin --vocab-size 30 --arch rnn" + kTinyLstm);
  CHECK(bad_arch.exit_code == 2);  // a usage error, refused before the vocabulary is trained
  CHECK(bad_arch.err.find("unknown architecture 'rnn' for option '--arch': choose lstm or "
                          "transformer") != std::string::npos);
  CHECK_FALSE(fs::exists(d + "/m.bin.spm.model"));
  auto no_ckpt = run_attnmt("train --src " + d + "/train.en --tgt " + d + "/train.es -o " + d +
                            "/m2.bin --resume" + kTinyLstm);
  CHECK(no_ckpt.exit_code == 1);
  CHECK(no_ckpt.err.find("m2.bin.ckpt") != std::string::npos);
  auto missing_opt = run_attnmt("train --src " + d + "/train.en");
  CHECK(missing_opt.exit_code == 2);
}

TEST_CASE("attnmt train refuses nonsensical values before any work", "[e2e][train]") {
  TempDir dir("e2e-bad-values");
  const std::string d = dir.path().string();
  write_tiny_corpus(d);
  const std::string base =
      "train --src " + d + "/train.en --tgt " + d + "/train.es -o " + d + "/m.bin ";
  for (const auto& [args, says] : std::vector<std::pair<std::string, std::string>>{
           {"--lr 0", "--lr must be a positive number"},
           {"--lr nan", "--lr must be a positive number"},
           {"--adam-beta1 1", "--adam-beta1 must be in [0, 1)"},
           {"--adam-beta2 -0.5", "--adam-beta2 must be in [0, 1)"},
           {"--clip-norm -1", "--clip-norm must be >= 0"},
           {"--warmup -5", "--warmup must not be negative"},
           {"--max-steps -1", "must not be negative"},
           {"--threads -2", "--threads must be from 0 (all cores) to 1024, got -2"},
           {"--threads 100000", "--threads must be from 0 (all cores) to 1024, got 100000"},
           {"--arch transformer --emb-dim 30 --heads 4", "not divisible by 4 heads"},
           {"--config " + d, "is not a regular file"}}) {
    INFO(args);
    auto r = run_attnmt(base + args);
    CHECK(r.exit_code == (args.starts_with("--config") ? 1 : 2));  // a file problem, or usage
    CHECK(r.err.find(says) != std::string::npos);
    CHECK_FALSE(fs::exists(d + "/m.bin.spm.model"));  // refused before the vocabulary
  }
}
