// Data-parallel training under `mpirun --oversubscribe -np 2` (train/data_parallel.h): the same
// parameters as one process with the same global batch, an exact --resume, a killed rank that
// ends the job with a loadable checkpoint, and ranks given other data or options refused at
// the start. Skipped, saying why, where attnmt was built without MPI or mpirun is missing.
#include <cmath>
#include <cstring>

#include "helpers.h"
#include "io/model_file.h"
#include "text/batch.h"
#include "train/checkpoint.h"
#include "train/cluster.h"
#include "train/data_parallel.h"

using namespace attnmt;
using namespace attnmt::testing;

namespace {

std::string mpirun(const std::string& ranks);

// "" when the tests can run, else why not: attnmt has MPI, and mpirun can start two processes
// here (a machine that cannot, e.g. without shared memory, is not attnmt's failure).
std::string mpi_missing() {
  if (!cluster::built_with_mpi()) return "attnmt was built without MPI (libopenmpi-dev)";
  if (run_shell("command -v mpirun").exit_code != 0) return "mpirun is not installed (openmpi-bin)";
  static const RunResult probe = run_shell(mpirun("-np 2 true"));
  if (probe.exit_code != 0) return "mpirun cannot start 2 processes here: " + probe.err;
  return "";
}

#define REQUIRE_MPI()                                  \
  if (const std::string why = mpi_missing(); !why.empty()) { \
    WARN("skipped: " << why);                          \
    return;                                            \
  }

// mpirun with N ranks on this machine, whoever runs it (root in CI containers), on shared memory
// alone (no network interface needed) without the single-copy mechanism containers forbid. `ranks` may also be an MPMD list.
// Under AddressSanitizer (tools/test-sanitized.sh) the ranks do not check for leaks: Open MPI
// leaves its own allocations after MPI_Finalize in components it has unloaded, whose frames
// LeakSanitizer cannot name, so no suppression can tell them from ours. (The training they run
// is leak-checked by the tests without MPI; the last ASAN_OPTIONS entry wins.)
std::string mpirun(const std::string& ranks) {
  return "ASAN_OPTIONS=\"${ASAN_OPTIONS:-}:detect_leaks=0\" "
         "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 300 mpirun "
         "--oversubscribe --mca btl self,vader --mca btl_vader_single_copy_mechanism none " +
         ranks;
}
std::string attnmt_binary() { return std::string("'") + ATTNMT_BINARY + "'"; }

// A tiny LSTM (no dropout unless given) on the tiny corpus, fp32 products (bf16 would round
// the two runs' different partial sums differently), one thread a rank.
std::string mpi_train_args(const std::string& d, const std::string& extra = "",
                       int batch_tokens = 120) {
  return "train --src " + d + "/train.en --tgt " + d + "/train.es --vocab " + d +
         "/v.model --emb-dim 16 --enc-hidden 16 --dec-hidden 32 --lr 0.01 --precision fp32 "
         "--threads 1 -q --batch-tokens " +
         std::to_string(batch_tokens) + " " + extra;
}

void prepare(const std::string& d) {
  write_tiny_corpus(d, 60);
  train_test_vocab(d + "/train.en", d + "/train.es", 40, d + "/v");
}

// The largest difference between two files' parameters (their tensors, "adam/" and "ema/" left
// out); +inf when they do not hold the same tensors.
double max_difference(const std::string& a, const std::string& b, bool with_optimizer = false) {
  const ModelFile x = load_model_file(a), y = load_model_file(b);
  if (x.tensors.size() != y.tensors.size()) return INFINITY;
  double worst = 0;
  for (size_t i = 0; i < x.tensors.size(); ++i) {
    const auto& [name, t] = x.tensors[i];
    if (name != y.tensors[i].first || t.numel() != y.tensors[i].second.numel()) return INFINITY;
    if (!with_optimizer && (name.rfind("adam/", 0) == 0 || name.rfind("ema/", 0) == 0)) continue;
    for (int64_t k = 0; k < t.numel(); ++k)
      worst = std::max(worst, double(std::fabs(t.data()[k] - y.tensors[i].second.data()[k])));
  }
  return worst;
}

}  // namespace

TEST_CASE("batch_share cuts a global batch into runs of about equal target tokens, in order",
          "[train][mpi]") {
  TempDir dir("mpi-share");
  const std::string d = dir.path().string();
  prepare(d);
  Vocab v = Vocab::load(d + "/v.model");
  const ParallelCorpus corpus = load_corpus(d + "/train.en", d + "/train.es", v, v);
  BatchOptions bo;
  bo.batch_tokens = 150;
  for (const Batch& b : make_epoch_batches(corpus, bo, 1, 0)) {
    for (int ranks : {1, 2, 3}) {
      std::vector<int64_t> seen;
      int64_t tokens = 0, most = 0, longest = 0;
      for (int64_t i : b.index) longest = std::max<int64_t>(longest, corpus.tgt[i].size() + 1);
      for (int r = 0; r < ranks; ++r) {
        const Batch s = batch_share(corpus, b, r, ranks);
        seen.insert(seen.end(), s.index.begin(), s.index.end());
        tokens += s.n_tgt_tokens;
        most = std::max(most, s.n_tgt_tokens);
      }
      CHECK(seen == b.index);  // every pair once, in the batch's order
      CHECK(tokens == b.n_tgt_tokens);
      // About equal: no share more than an even part plus one pair's tokens.
      CHECK(most <= b.n_tgt_tokens / ranks + longest);
    }
  }
}

TEST_CASE("mpirun -np 2 train: the parameters of one process with the same global batch",
          "[e2e][train][mpi]") {
  REQUIRE_MPI();
  TempDir dir("mpi-same");
  const std::string d = dir.path().string();
  prepare(d);
  const std::string args = mpi_train_args(d, "--dropout 0 --max-steps 30 --save-every 1000");
  auto one = run_attnmt(args + " -o " + d + "/one.bin");
  INFO(one.err);
  REQUIRE(one.exit_code == 0);
  auto two = run_shell(mpirun("-np 2 ") + attnmt_binary() + " " + args + " -o " + d + "/two.bin");
  INFO(two.err);
  REQUIRE(two.exit_code == 0);
  // Only the order of the additions differs: float rounding, amplified a little by Adam.
  const double same = max_difference(d + "/one.bin", d + "/two.bin");
  CHECK(same < 2e-4);
  // The yardstick: one process with half the batch (another data order) is far off.
  REQUIRE(run_attnmt(mpi_train_args(d, "--dropout 0 --max-steps 30", 60) + " -o " + d + "/half.bin")
              .exit_code == 0);
  CHECK(max_difference(d + "/one.bin", d + "/half.bin") > 100 * same);
  // Both ranks hold the model: rank 0 alone wrote it, its vocabulary is the given one.
  CHECK(!fs::exists(d + "/two.bin.spm.model"));
  const ModelFile m = load_model_file(d + "/two.bin");
  CHECK(*m.find_config("train.ranks") == "2");
}

TEST_CASE("mpirun -np 2 train --resume continues bit for bit, dropout included",
          "[e2e][train][mpi]") {
  REQUIRE_MPI();
  TempDir dir("mpi-resume");
  const std::string d = dir.path().string();
  prepare(d);
  const std::string run = mpirun("-np 2 ") + attnmt_binary() + " " +
                          mpi_train_args(d, "--dropout 0.3 --save-every 1000 --warmup 4");
  REQUIRE(run_shell(run + " -o " + d + "/straight.bin --max-steps 16").exit_code == 0);
  REQUIRE(run_shell(run + " -o " + d + "/split.bin --max-steps 8").exit_code == 0);
  auto resumed = run_shell(run + " -o " + d + "/split.bin --max-steps 16 --resume");
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK(max_difference(d + "/straight.bin.ckpt", d + "/split.bin.ckpt", true) == 0.0);
  const LoadedCheckpoint c = load_checkpoint(d + "/split.bin.ckpt");
  CHECK(c.state.step == 16);
}

TEST_CASE("a killed rank ends the mpirun job with the last checkpoint intact and resumable",
          "[e2e][train][mpi]") {
  REQUIRE_MPI();
  TempDir dir("mpi-kill");
  const std::string d = dir.path().string();
  prepare(d);
  // Without --vocab: rank 0 trains the vocabulary, the other rank waits and reads it.
  std::string args = mpi_train_args(d, "--dropout 0.1 --save-every 5 --log-every 1000");
  const std::string given = "--vocab " + d + "/v.model";
  args.replace(args.find(given), given.size(), "--vocab-size 40");
  const std::string run = mpirun("-np 2 ") + attnmt_binary() + " " + args;
  // Train "for ever"; once a checkpoint exists, kill -9 rank 1 (a child of mpirun whose
  // environment says OMPI_COMM_WORLD_RANK=1); the job must end, not hang.
  const std::string script =
      run + " -o " + d + "/m.bin --max-steps 1000000 2>" + d + "/err & job=$!\n" +
      "for i in $(seq 600); do [ -f " + d + "/m.bin.ckpt ] && break; sleep 0.1; done\n"
      "sleep 0.5\n"
      "victim=''\n"
      "for p in $(pgrep -P $(pgrep -P $job -x mpirun || echo $job) attnmt); do\n"
      "  tr '\\0' '\\n' < /proc/$p/environ | grep -qx OMPI_COMM_WORLD_RANK=1 && victim=$p\n"
      "done\n"
      "[ -n \"$victim\" ] || { echo 'no rank 1 found'; kill $job; exit 3; }\n"
      "kill -9 $victim\n"
      "wait $job; echo \"mpirun exit $?\"\n";
  auto r = run_shell(script);
  const std::string err = read_text(d + "/err");
  INFO(r.out << r.err << err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("mpirun exit 0") == std::string::npos);  // the job failed, as it must
  CHECK(r.out.find("mpirun exit") != std::string::npos);    // and it ended
  // Rank 0 says what to do; the checkpoint loads and the same command with --resume goes on.
  CHECK(err.find("stays intact: the same mpirun command with --resume continues") !=
        std::string::npos);
  CHECK(fs::exists(d + "/m.bin.spm.model"));
  const LoadedCheckpoint c = load_checkpoint(d + "/m.bin.ckpt");
  REQUIRE(c.state.step >= 5);
  CHECK(c.state.step % 5 == 0);
  auto resumed = run_shell(run + " -o " + d + "/m.bin --resume --max-steps " +
                           std::to_string(c.state.step + 3));
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK(load_checkpoint(d + "/m.bin.ckpt").state.step == c.state.step + 3);
}

TEST_CASE("ranks given another corpus or other options are refused before training",
          "[e2e][train][mpi]") {
  REQUIRE_MPI();
  TempDir dir("mpi-mismatch");
  const std::string d = dir.path().string();
  prepare(d);
  fs::create_directories(d + "/other");
  write_tiny_corpus(d + "/other", 61);  // one pair more
  const std::string common = "--vocab " + d + "/v.model --emb-dim 16 --enc-hidden 16 "
                             "--dec-hidden 32 --max-steps 5 --threads 1 -q -o " + d + "/m.bin";
  const std::string mine = attnmt_binary() + " train --src " + d + "/train.en --tgt " + d +
                           "/train.es " + common;
  const std::string theirs = attnmt_binary() + " train --src " + d + "/other/train.en --tgt " +
                             d + "/other/train.es " + common;
  auto data = run_shell(mpirun("-np 1 " + mine + " : -np 1 " + theirs));
  INFO(data.err);
  CHECK(data.exit_code != 0);
  CHECK(data.err.find("the ranks disagree: rank 1 has other training data (the pairs as encoded "
                      "with the vocabulary) than rank 0") != std::string::npos);
  auto options = run_shell(mpirun("-np 1 " + mine + " : -np 1 " + mine + " --lr 0.002"));
  INFO(options.err);
  CHECK(options.exit_code != 0);
  CHECK(options.err.find("the ranks disagree: rank 1 has other options than rank 0") !=
        std::string::npos);
  CHECK(!fs::exists(d + "/m.bin"));  // nothing trained, nothing written
}
