// attnmt used as a hostile but realistic user would (issue 13): outputs that must not be
// replaced, outputs that are inputs, training that diverges, --resume with other options,
// signals, a second training on the same model, input that is not text, sizes that do not fit,
// failures that must come before any work or any output. Each case failed before its fix.
#include <fmt/format.h>

#include <thread>

#include "helpers.h"
#include "io/model_file.h"

using namespace attnmt;
using namespace attnmt::testing;

namespace {

const std::string kTiny =
    " --vocab-size 30 --emb-dim 16 --enc-hidden 16 --dec-hidden 32 --dropout 0"
    " --batch-tokens 100 --threads 1 -q";

// `attnmt train` on dir/train.{en,es} into `out`, with `flags` (the tiny LSTM's by default).
std::string train_args(const std::string& d, const std::string& out,
                       const std::string& flags = kTiny) {
  return fmt::format("train --src {0}/train.en --tgt {0}/train.es -o {1} {2}", d, out, flags);
}

// dir/train.{en,es} and a model dir/m.bin trained for 3 steps (with m.bin.ckpt).
std::string tiny_setup(const TempDir& dir) {
  const std::string d = dir.path().string();
  write_tiny_corpus(d, 20);
  auto r = run_attnmt(train_args(d, d + "/m.bin") + " --max-steps 3");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return d;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("an output that is an input is refused before any work, the input intact",
          "[hardening]") {
  TempDir dir("hard-same");
  const std::string d = tiny_setup(dir);
  const std::string es = read_text(d + "/train.es");
  auto train = run_attnmt(train_args(d, d + "/train.es") + " --max-steps 2");
  CHECK(train.exit_code == 1);
  CHECK(has(train.err, "is the same file as --tgt"));
  CHECK(read_text(d + "/train.es") == es);
  CHECK_FALSE(fs::exists(d + "/train.es.spm.model"));  // refused before the vocabulary
  // --log onto the training data would append to it.
  auto log = run_attnmt(train_args(d, d + "/m2.bin") + " --max-steps 2 --log " + d + "/train.en");
  CHECK(log.exit_code == 1);
  CHECK(has(log.err, "--log"));
  // translate and align, also through another name (a symbolic link).
  fs::create_symlink(d + "/train.en", d + "/link.en");
  const std::string en = read_text(d + "/train.en");
  auto translate = run_attnmt(fmt::format("translate -m {0}/m.bin -i {0}/train.en -o {0}/link.en", d));
  CHECK(translate.exit_code == 1);
  CHECK(has(translate.err, "is the same file as -i"));
  auto align = run_attnmt(fmt::format(
      "align -m {0}/m.bin --src {0}/train.en --tgt {0}/train.es --format soft -o {0}/train.es", d));
  CHECK(align.exit_code == 1);
  CHECK(has(align.err, "is the same file as --tgt"));
  CHECK(read_text(d + "/train.en") == en);
  CHECK(read_text(d + "/train.es") == es);
}

TEST_CASE("translate -o through a link to /dev/null keeps the link and the device", "[hardening]") {
  TempDir dir("hard-dev");
  const std::string d = tiny_setup(dir);
  fs::create_symlink("/dev/null", d + "/null.txt");
  auto r = run_attnmt(fmt::format("translate -m {0}/m.bin -i {0}/train.en -o {0}/null.txt", d));
  CHECK(r.exit_code == 0);
  CHECK(fs::is_symlink(d + "/null.txt"));
  CHECK(fs::is_character_file("/dev/null"));
}

TEST_CASE("output locations are checked before any work", "[hardening]") {
  TempDir dir("hard-late");
  const std::string d = dir.path().string();
  write_tiny_corpus(d, 20);
  auto folder = run_attnmt(train_args(d, d) + " --max-steps 2");
  CHECK(folder.exit_code == 1);
  CHECK(has(folder.err, "is a folder"));
  CHECK_FALSE(has(folder.err, "vocabulary: trained"));
  auto missing = run_attnmt(train_args(d, d + "/no/such/m.bin") + " --max-steps 2");
  CHECK(missing.exit_code == 1);
  CHECK(has(missing.err, "does not exist; create it first"));
  auto log = run_attnmt(train_args(d, d + "/m.bin") + " --max-steps 2 --log " + d + "/no/log.txt");
  CHECK(log.exit_code == 1);
  CHECK(has(log.err, "--log"));
  CHECK_FALSE(fs::exists(d + "/m.bin.spm.model"));  // nothing was trained
}

TEST_CASE("training that diverges stops with an error and never saves a non-finite model",
          "[hardening]") {
  TempDir dir("hard-nan");
  const std::string d = tiny_setup(dir);
  const std::string model = read_text(d + "/m.bin"), ckpt = read_text(d + "/m.bin.ckpt");
  // A learning rate that overflows the parameters at once: every later loss is NaN.
  auto r = run_attnmt(train_args(d, d + "/m.bin") +
                      " --resume --max-steps 40 --lr 1e30 --clip-norm 0");
  CHECK(r.exit_code == 1);
  CHECK(has(r.err, "training diverged"));
  CHECK(has(r.err, "Lower --lr"));
  CHECK(read_text(d + "/m.bin") == model);
  CHECK(read_text(d + "/m.bin.ckpt") == ckpt);
  CHECK_FALSE(fs::exists(d + "/m.bin.lock"));
}

TEST_CASE("resuming refuses another architecture, vocabulary or a float16 checkpoint, says what "
          "it keeps, and does nothing when the budget is met",
          "[hardening]") {
  TempDir dir("hard-resume");
  const std::string d = tiny_setup(dir);
  const std::string ckpt = read_text(d + "/m.bin.ckpt");
  auto done = run_attnmt(train_args(d, d + "/m.bin") + " --resume --max-steps 3");
  CHECK(done.exit_code == 0);
  CHECK(read_text(d + "/m.bin.ckpt") == ckpt);  // no step was made
  auto loud = run_attnmt(train_args(d, d + "/m.bin", "--threads 1 --resume --max-steps 3"));
  CHECK(has(loud.err, "nothing to do: the checkpoint is at step 3 and --max-steps is 3"));

  auto arch = run_attnmt(train_args(d, d + "/m.bin") + " --resume --max-steps 5 --arch transformer");
  CHECK(arch.exit_code == 1);
  CHECK(has(arch.err, "architecture lstm but --arch is transformer"));

  REQUIRE(run_attnmt(fmt::format("vocab --src {0}/train.en --tgt {0}/train.es --size 40 -o "
                                 "{0}/other --threads 1",
                                 d))
              .exit_code == 0);
  auto vocab = run_attnmt(train_args(d, d + "/m.bin") + " --resume --max-steps 5 --vocab " + d +
                          "/other.model");
  CHECK(vocab.exit_code == 1);
  CHECK(has(vocab.err, "is not the vocabulary the checkpoint"));

  auto kept = run_attnmt(train_args(d, d + "/m.bin",
                                     "--vocab-size 30 --emb-dim 32 --enc-hidden 16 --dec-hidden 32 "
                                     "--batch-tokens 100 --threads 1 --resume --max-steps 4"));
  CHECK(kept.exit_code == 0);
  CHECK(has(kept.err, "emb_dim 16 (given: 32)"));

  REQUIRE(run_attnmt(fmt::format("convert -m {0}/m.bin.ckpt -o {0}/h.bin.ckpt --dtype float16", d))
              .exit_code == 0);
  auto half = run_attnmt(train_args(d, d + "/h.bin") + " --resume --max-steps 6");
  CHECK(half.exit_code == 1);
  CHECK(has(half.err, "stores float16 tensors"));
}

TEST_CASE("a second training on the same model is refused while the first runs, and a signal "
          "stops the first with a checkpoint and no temp file",
          "[hardening]") {
  TempDir dir("hard-lock");
  const std::string d = dir.path().string();
  write_tiny_corpus(d, 20);
  const std::string first = fmt::format("'{}' {} --max-steps 1000000 --save-every 50", ATTNMT_BINARY,
                                        train_args(d, d + "/m.bin"));
  // Start the first in the background, wait for its lock, try a second, then stop the first.
  auto r = run_shell(fmt::format(
      "{0} & pid=$!; for i in $(seq 300); do [ -s {1}/m.bin.ckpt ] && break; sleep 0.1; done; "
      "'{2}' {3} --max-steps 5; echo \"second=$?\"; kill -TERM $pid; wait $pid; echo \"first=$?\"",
      first, d, ATTNMT_BINARY, train_args(d, d + "/m.bin")));
  INFO(r.out << r.err);
  CHECK(has(r.out, "second=1"));
  CHECK(has(r.err, "is in use: another attnmt process (pid"));
  CHECK(has(r.out, "first=130"));  // stopped by the signal, after a checkpoint
  CHECK(fs::exists(d + "/m.bin.ckpt"));
  CHECK(fs::exists(d + "/m.bin"));
  for (const auto& e : fs::directory_iterator(d)) {
    CHECK_FALSE(has(e.path().filename().string(), ".tmp."));
    CHECK_FALSE(has(e.path().filename().string(), ".lock"));
  }
}

TEST_CASE("a signal during translate -o removes its temp file, and stale ones are cleaned up",
          "[hardening]") {
  TempDir dir("hard-signal");
  const std::string d = tiny_setup(dir);
  // The input is a FIFO this shell holds open, so translate waits with its temp file made;
  // then SIGTERM.
  auto r = run_shell(fmt::format(
      "mkfifo {1}/in; exec 3<>{1}/in; echo the cat >&3; "
      "'{0}' translate -m {1}/m.bin -o {1}/out.txt < {1}/in & pid=$!; "
      "for i in $(seq 300); do ls {1}/out.txt.tmp.* >/dev/null 2>&1 && break; sleep 0.1; done; "
      "ls {1}; kill -TERM $pid; wait $pid; echo \"code=$?\"; exec 3>&-; rm {1}/in",
      ATTNMT_BINARY, d));
  INFO(r.out << r.err);
  CHECK(has(r.out, "out.txt.tmp."));  // it was there
  CHECK(has(r.out, "code=143"));      // 128 + SIGTERM
  for (const auto& e : fs::directory_iterator(d)) CHECK_FALSE(has(e.path().filename().string(), "out.txt"));
  // One left by a process that no longer runs (kill -9): removed at the next start.
  write_text(d + "/out.txt.tmp.999999999", "partial");
  auto next = run_attnmt(fmt::format("translate -m {0}/m.bin -i {0}/train.en -o {0}/out.txt", d));
  CHECK(next.exit_code == 0);
  CHECK(has(next.err, "removed '" + d + "/out.txt.tmp.999999999'"));
  CHECK_FALSE(fs::exists(d + "/out.txt.tmp.999999999"));
}

TEST_CASE("input that is not text (NUL bytes, UTF-16) is refused with file:line", "[hardening]") {
  TempDir dir("hard-text");
  const std::string d = tiny_setup(dir);
  std::string utf16;
  for (char c : std::string("the cat\nthe dog\n")) utf16 += std::string{c, '\0'};
  write_text(d + "/u16.txt", utf16);
  auto a = run_attnmt(fmt::format("translate -m {0}/m.bin -i {0}/u16.txt -o {0}/out.txt", d));
  CHECK(a.exit_code == 1);
  CHECK(has(a.err, "u16.txt:1: NUL bytes"));
  CHECK(has(a.err, "looks like UTF-16"));
  CHECK_FALSE(fs::exists(d + "/out.txt"));
  write_text(d + "/bom.txt", std::string("\xFF\xFE", 2) + utf16);
  auto b = run_attnmt(fmt::format("translate -m {0}/m.bin -i {0}/bom.txt", d));
  CHECK(b.exit_code == 1);
  CHECK(has(b.err, "UTF-16 byte-order mark"));
  // A NUL byte in training data: refused naming the line, or skipped on request.
  std::string es = read_text(d + "/train.es");
  es.insert(es.find('\n') + 3, 1, '\0');  // in line 2
  write_text(d + "/nul.es", es);
  const std::string nul = fmt::format("train --src {0}/train.en --tgt {0}/nul.es{1} --max-steps 1",
                                      d, kTiny);
  auto c = run_attnmt(nul + " -o " + d + "/n.bin");
  CHECK(c.exit_code == 1);
  CHECK(has(c.err, "nul.es:2: a NUL byte at byte 3"));
  auto skipped = run_attnmt(nul + " -o " + d + "/n.bin --skip-bad-lines");
  CHECK(skipped.exit_code == 0);
}

TEST_CASE("sizes that do not fit say what does", "[hardening]") {
  TempDir dir("hard-sizes");
  const std::string d = dir.path().string();
  write_tiny_corpus(d, 20);
  const std::string vocab = fmt::format("vocab --src {0}/train.en --tgt {0}/train.es --threads 1 -o "
                                        "{0}/v",
                                        d);
  auto small = run_attnmt(vocab + " --size 5");
  CHECK(small.exit_code == 1);
  CHECK(has(small.err, "5 pieces are too few: this text needs at least"));
  // Too many pieces for a tiny corpus: fewer are made, with a warning (unigram).
  auto large = run_attnmt(vocab + " --size 10000");
  CHECK(large.exit_code == 0);
  CHECK(has(large.err, "warning: this corpus gives only"));
  // A Transformer holding 12 positions: longer training pairs are skipped, longer inputs cut.
  auto t = run_attnmt(train_args(d, d + "/t.bin",
                                  "--arch transformer --emb-dim 16 --heads 2 --ffn-dim 32 "
                                  "--max-positions 12 --vocab-size 30 --threads 1 --max-steps 2"));
  INFO(t.err);
  REQUIRE(t.exit_code == 0);
  CHECK(has(t.err, "the model holds 12 positions"));
  std::string words;
  for (int i = 0; i < 30; ++i) words += "the red cat ";
  write_text(d + "/long.txt", words + "\nthe cat\n");
  auto cut = run_attnmt(fmt::format("translate -m {0}/t.bin -i {0}/long.txt --max-output-length "
                                    "50 --max-output-ratio 0 --max-output-extra 50",
                                    d));
  CHECK(cut.exit_code == 0);
  CHECK(split_lines(cut.out).size() == 2);
  CHECK(has(cut.err, "1 line(s) longer than 11 pieces were cut (the model holds 12 positions"));
}

TEST_CASE("a write error on standard output is an error, not exit 0", "[hardening]") {
  if (!fs::exists("/dev/full")) {
    WARN("skipped: no /dev/full on this machine");
    return;
  }
  TempDir dir("hard-full");
  const std::string d = tiny_setup(dir);
  auto info = run_shell(fmt::format("'{}' info {}/m.bin > /dev/full", ATTNMT_BINARY, d));
  CHECK(info.exit_code == 1);
  CHECK(has(info.err, "cannot write to standard output"));
  auto score = run_shell(fmt::format("'{0}' score --hyp {1}/train.es --ref {1}/train.es > /dev/full",
                                     ATTNMT_BINARY, d));
  CHECK(score.exit_code == 1);
  auto dirs = run_attnmt(fmt::format("score --hyp {0} --ref {0}", d));
  CHECK(dirs.exit_code == 1);
  CHECK(has(dirs.err, "is a directory"));
}

TEST_CASE("align refuses files of different lengths before printing anything", "[hardening]") {
  TempDir dir("hard-align");
  const std::string d = tiny_setup(dir);
  write_text(d + "/src.txt", "the cat\nthe dog\nthe red cat\n");
  write_text(d + "/tgt.txt", "el gato\nel perro\nel gato rojo\nuno mas\n");
  for (const char* format : {"pharaoh", "json"}) {
    auto r = run_attnmt(fmt::format("align -m {0}/m.bin --src {0}/src.txt --tgt {0}/tgt.txt "
                                    "--format {1}",
                                    d, format));
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(has(r.err, "has 3 lines but target file"));
  }
  auto svg = run_attnmt(fmt::format("align -m {0}/m.bin --src {0}/src.txt --tgt {0}/tgt.txt "
                                    "--format svg -o {0}/svg",
                                    d));
  CHECK(svg.exit_code == 1);
  CHECK((!fs::exists(d + "/svg") || fs::is_empty(d + "/svg")));
}

TEST_CASE("out of memory is an error that names what bounds it, not an abort", "[hardening]") {
  if (ATTNMT_TESTING_ASAN) {
    WARN("skipped under AddressSanitizer: it cannot run with a 4 GB address space");
    return;
  }
  TempDir dir("hard-oom");
  const std::string d = dir.path().string();
  write_tiny_corpus(d, 20);
  // One pair of 12,000 words (about 50,000 pieces): its attention alone needs about 20 GB, far
  // beyond a 4 GB address space.
  std::string big;
  for (int i = 0; i < 3000; ++i) big += "the red cat sees ";
  write_text(d + "/big.en", read_text(d + "/train.en") + big + "\n");
  write_text(d + "/big.es", read_text(d + "/train.es") + big + "\n");
  auto r = run_shell(fmt::format(
      "ulimit -v 4000000; '{0}' train --src {1}/big.en --tgt {1}/big.es -o {1}/m.bin "
      "--arch transformer --emb-dim 16 --heads 2 --ffn-dim 32 --max-positions 100000 "
      "--max-train-length 0 --vocab-size 30 --batch-tokens 100000 --threads 1 --max-steps 2",
      ATTNMT_BINARY, d));
  CHECK(r.exit_code == 1);
  CHECK(has(r.err, "attnmt train: error: out of memory"));
  CHECK(has(r.err, "--max-train-length"));
  CHECK_FALSE(fs::exists(d + "/m.bin"));
}

TEST_CASE("more threads than 4x the cores is a warning", "[hardening]") {
  TempDir dir("hard-threads");
  const std::string d = dir.path().string();
  write_tiny_corpus(d, 20);
  const unsigned cores = std::thread::hardware_concurrency();
  if (cores == 0) {
    WARN("skipped: the number of cores is unknown here");
    return;
  }
  const std::string small = "--vocab-size 30 --emb-dim 16 --enc-hidden 16 --dec-hidden 32 "
                            "--max-steps 1 --threads ";
  auto many = run_attnmt(train_args(d, d + "/m.bin", small + std::to_string(4 * cores + 1)));
  CHECK(many.exit_code == 0);
  CHECK(has(many.err, fmt::format("warning: --threads {} is more than 4 times", 4 * cores + 1)));
  auto fine = run_attnmt(train_args(d, d + "/m2.bin", small + std::to_string(cores)));
  CHECK(fine.exit_code == 0);
  CHECK_FALSE(has(fine.err, "warning: --threads"));
}
