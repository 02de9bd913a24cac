// The training loop. One update: teacher-forced forward, label-smoothed cross-entropy summed
// over real target tokens, backward with 1/tokens, clip, Adam. Around it: validation, the best
// model, early stopping, atomic checkpoints (every N steps, at the end, on SIGINT/SIGTERM).
#include "train/trainer.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "autograd/ops.h"
#include "tensor/error.h"
#include "tensor/threads.h"
#include "text/batch.h"
#include "text/corpus.h"
#include "text/vocab.h"
#include "train/checkpoint.h"
#include "train/validation.h"

namespace attnmt {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_stop_signal(int sig) { g_stop_signal = sig; }

struct SignalScope {  // installs the handlers for the run, restores the old ones after
  using Handler = void (*)(int);
  Handler old_int, old_term;
  SignalScope() {
    g_stop_signal = 0;
    old_int = std::signal(SIGINT, on_stop_signal);
    old_term = std::signal(SIGTERM, on_stop_signal);
  }
  ~SignalScope() {
    std::signal(SIGINT, old_int);
    std::signal(SIGTERM, old_term);
  }
};

// Progress and log lines: stderr (a live line on a terminal) and the --log file.
class Reporter {
 public:
  explicit Reporter(const TrainOptions& o)
      : quiet_(o.quiet), live_(!o.quiet && (o.progress || isatty(STDERR_FILENO))) {
    if (!o.log_file.empty()) {
      log_.open(o.log_file, std::ios::app);
      ATTNMT_CHECK(log_.good(), "cannot open log file '{}' for writing", o.log_file);
    }
  }
  void line(const std::string& s) {  // a permanent line
    if (!quiet_) fmt::print(stderr, "{}{}\n", live_ ? "\r\033[K" : "", s);
    if (log_.is_open()) log_ << s << '\n' << std::flush;
  }
  void progress(const std::string& s, bool also_log) {
    if (live_)
      fmt::print(stderr, "\r\033[K{}", s);
    else if (also_log && !quiet_)
      fmt::print(stderr, "{}\n", s);
    if (also_log && log_.is_open()) log_ << s << '\n' << std::flush;
  }
  ~Reporter() {
    if (live_) fmt::print(stderr, "\n");
  }

 private:
  bool quiet_, live_;
  std::ofstream log_;
};

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  int64_t t = static_cast<int64_t>(s);
  return t >= 3600 ? fmt::format("{}h{:02}m", t / 3600, t / 60 % 60)
                   : fmt::format("{}m{:02}s", t / 60, t % 60);
}

Vocab obtain_vocab(const TrainOptions& o, Reporter& rep) {
  if (!o.vocab.empty()) {
    std::string path = o.vocab;
    if (!std::filesystem::exists(path) && std::filesystem::exists(path + ".model"))
      path += ".model";
    return Vocab::load(path);
  }
  VocabOptions vo;
  vo.src = o.src;
  vo.tgt = o.tgt;
  vo.size = o.vocab_size;
  vo.prefix = o.output + ".spm";
  vo.model_type = o.vocab_model_type;
  vo.character_coverage = o.character_coverage;
  vo.seed = o.seed;
  vo.threads = o.threads;
  vo.reader.skip_bad_lines = o.skip_bad_lines;
  VocabResult vr = train_vocab(vo);
  rep.line(fmt::format("vocabulary: trained {} pieces -> {}", o.vocab_size, vr.written.at(0)));
  return Vocab::load(vr.written.at(0));
}

KeyValues training_info(const TrainOptions& o, const TrainState& s) {
  return {
      {"train.src", o.src},
      {"train.tgt", o.tgt},
      {"train.steps", std::to_string(s.step)},
      {"train.epochs", std::to_string(s.epoch)},
      {"train.seconds", fmt::format("{:.0f}", s.seconds)},
      {"train.target_tokens", std::to_string(s.tokens)},
      {"train.batch_tokens", std::to_string(o.batch_tokens)},
      {"train.lr", fmt::format("{}", o.lr)},
      {"train.schedule", std::string(name_of(o.schedule))},
      {"train.label_smoothing", fmt::format("{}", o.label_smoothing)},
      {"train.seed", std::to_string(o.seed)},
      {"train.best_valid", s.best_score > -1e29 ? fmt::format("{:.4f}", s.best_score) : "none"}};
}

using Clock = std::chrono::steady_clock;

// Everything one training run holds; the stages below each take it.
struct Run {
  explicit Run(const TrainOptions& options) : o(options), rep(options) {}
  const TrainOptions& o;
  Reporter rep;
  int threads = 0;
  TrainState st;
  std::unique_ptr<Seq2Seq> model;
  Vocab vocab;
  std::unique_ptr<Adam> adam;
  ParallelCorpus corpus, dev;
  Schedule sched;
  int64_t max_epochs = 0;
  TrainSummary sum;
  // Timing: this process's share, on top of what the checkpoint had.
  Clock::time_point start = Clock::now(), window_start = Clock::now();
  double seconds_before = 0;
  int64_t tokens_before = 0, steps_before = 0;
  double window_loss = 0, window_tokens = 0;  // since the last logged line

  double elapsed() const {
    return seconds_before + std::chrono::duration<double>(Clock::now() - start).count();
  }
};

// Stage 1: the model, vocabulary and optimiser (fresh, or restored from the checkpoint) and
// the data.
void prepare(Run& r) {
  const TrainOptions& o = r.o;
  r.threads = set_threads(o.threads);
  std::unique_ptr<LoadedCheckpoint> ckpt;
  if (o.resume) {
    ATTNMT_CHECK(std::filesystem::exists(o.checkpoint_path()),
                 "--resume: no checkpoint '{}' (it is written next to -o MODEL during training)",
                 o.checkpoint_path());
    ckpt = std::make_unique<LoadedCheckpoint>(load_checkpoint(o.checkpoint_path()));
    r.st = ckpt->state;
    r.vocab = ckpt->loaded.vocab;
    r.model = std::move(ckpt->loaded.model);
    r.rep.line(fmt::format("resuming from {} at step {} (epoch {}, batch {})", o.checkpoint_path(),
                           r.st.step, r.st.epoch + 1, r.st.batch_in_epoch));
  } else {
    r.vocab = obtain_vocab(o, r.rep);
    ModelConfig mc = o.model;
    mc.vocab_size = r.vocab.size();
    r.model = make_model(mc, o.seed);
  }
  r.adam = std::make_unique<Adam>(r.model->params(), o.adam);
  if (ckpt) restore_optimizer(*ckpt, *r.adam);
  ckpt.reset();

  ReaderOptions ro;
  ro.skip_bad_lines = o.skip_bad_lines;
  ro.max_length = o.max_length;
  r.corpus = load_corpus(o.src, o.tgt, r.vocab, r.vocab, ro);
  ATTNMT_CHECK(r.corpus.size() > 0, "no usable training pairs in {} / {} ({})", o.src, o.tgt,
               describe(r.corpus.stats));
  r.rep.line(fmt::format("training data: {}", describe(r.corpus.stats)));
  if (!o.valid_src.empty()) {
    ReaderOptions vro;
    vro.skip_bad_lines = o.skip_bad_lines;
    r.dev = load_corpus(o.valid_src, o.valid_tgt, r.vocab, r.vocab, vro);
  }
  r.rep.line(fmt::format("{}: {} parameters, vocabulary {}, {} threads",
                         name_of(r.model->config().arch), r.model->params().n_scalars(),
                         r.vocab.size(), r.threads));
  r.sched = Schedule{o.schedule, o.lr, o.warmup};
  r.max_epochs = (o.max_steps || o.max_epochs || o.max_time_minutes) ? o.max_epochs : 10;
  r.start = r.window_start = Clock::now();
  r.seconds_before = r.st.seconds;
  r.tokens_before = r.st.tokens;
  r.steps_before = r.st.step;
}

// Stage 2: one update. Teacher-forced forward, label-smoothed cross-entropy summed over the
// real target tokens, backward with 1/tokens, clip, Adam. Returns the learning rate used.
float train_step(Run& r, const Batch& b) {
  Var logits = r.model->logits(b, Mode::kTrain);  // [B, T, V]
  const int64_t V = logits->value.shape().last();
  Var flat = reshape(logits, Shape{static_cast<int64_t>(b.tgt_out.ids.size()), V});
  // The logits are not read again: the loss overwrites them with their own gradient.
  Var loss = cross_entropy_with_logits(flat, b.tgt_out.ids, r.o.label_smoothing, kPadId,
                                       /*consume_logits=*/true);
  const double ntok = static_cast<double>(b.n_tgt_tokens);
  backward(loss, Tensor::full(Shape{1}, static_cast<float>(1.0 / ntok)));
  clip_grad_norm(r.model->params(), r.o.clip_norm);
  const float lr = r.sched.at(r.st.step + 1, r.st.plateau_scale);
  r.adam->step(lr);
  r.model->params().zero_grad();
  ++r.st.step;
  r.st.tokens += b.n_tgt_tokens;
  r.window_loss += loss->value[0];
  r.window_tokens += ntok;
  return lr;
}

// Progress: epoch, step, loss, target tokens/s, learning rate, ETA (every 10 steps on the live
// line, every log_every steps as a permanent line).
void report_progress(Run& r, float lr, int64_t batches_per_epoch) {
  const TrainOptions& o = r.o;
  const bool log_now = o.log_every > 0 && r.st.step % o.log_every == 0;
  if (!log_now && r.st.step % 10 != 0) return;
  const double now = r.elapsed();
  const double wsec = std::chrono::duration<double>(Clock::now() - r.window_start).count();
  const double per_step =
      (now - r.seconds_before) / std::max<int64_t>(1, r.st.step - r.steps_before);
  double eta = -1;
  if (o.max_steps)
    eta = (o.max_steps - r.st.step) * per_step;
  else if (o.max_time_minutes)
    eta = o.max_time_minutes * 60 - now;
  else if (r.max_epochs)
    eta =
        ((r.max_epochs - r.st.epoch) * double(batches_per_epoch) - r.st.batch_in_epoch) * per_step;
  const double loss = r.window_loss / std::max(1.0, r.window_tokens);
  r.rep.progress(fmt::format("epoch {} step {} loss {:.4f} tok/s {:.0f} lr {:.3g} eta {}",
                             r.st.epoch + 1, r.st.step, loss,
                             r.window_tokens / std::max(1e-9, wsec), lr, format_duration(eta)),
                 log_now);
  r.sum.last_loss = loss;
  if (log_now) {
    r.window_loss = r.window_tokens = 0;
    r.window_start = Clock::now();
  }
}

// Stage 3: validation; the best model so far is saved to -o.
void run_validation(Run& r) {
  if (r.dev.size() == 0) return;
  const TrainOptions& o = r.o;
  ValidResult v = validate(*r.model, r.dev, r.vocab, o.batch_tokens, o.valid_bleu_sentences);
  const double score = v.bleu >= 0 ? v.bleu : -v.ce;
  const bool better = score > r.st.best_score;
  r.rep.line(fmt::format("valid step {}: ce {:.4f} ppl {:.2f}{}{}", r.st.step, v.ce, v.ppl,
                         v.bleu >= 0 ? fmt::format(" bleu {:.2f}", v.bleu) : "",
                         better ? " (best: saved)" : ""));
  r.sum.last_valid_ce = v.ce;
  if (better) {
    r.st.best_score = score;
    r.st.bad_validations = 0;
    r.sum.best_valid_bleu = v.bleu;
    save_model(o.output, *r.model, r.vocab, training_info(o, r.st), o.save_dtype);
  } else {
    ++r.st.bad_validations;
    if (o.schedule == ScheduleKind::kPlateau) r.st.plateau_scale *= r.sched.plateau_factor;
  }
}

// Stage 4: the checkpoint (atomic), with everything --resume needs.
void checkpoint(Run& r) {
  r.st.seconds = r.elapsed();
  save_checkpoint(r.o.checkpoint_path(), *r.model, r.vocab, *r.adam, r.st, r.model->rng(),
                  training_info(r.o, r.st));
}

// After an update: validation and checkpoint when due; the reason to stop, or "".
std::string after_step(Run& r) {
  const TrainOptions& o = r.o;
  if (o.valid_every > 0 && r.st.step % o.valid_every == 0) {
    run_validation(r);
    if (o.patience > 0 && r.st.bad_validations >= o.patience)
      return fmt::format("early stopping: {} validations without improvement", o.patience);
  }
  if (o.save_every > 0 && r.st.step % o.save_every == 0) checkpoint(r);
  if (g_stop_signal) {
    r.sum.interrupted = true;
    return fmt::format("stopped by signal {}", static_cast<int>(g_stop_signal));
  }
  if (o.max_steps && r.st.step >= o.max_steps) return fmt::format("reached {} steps", o.max_steps);
  if (o.max_time_minutes && r.elapsed() >= o.max_time_minutes * 60)
    return fmt::format("reached {} minutes", o.max_time_minutes);
  return {};
}

// The end: a last validation (unless it just ran), the checkpoint, the model and the summary.
void finish(Run& r) {
  const TrainOptions& o = r.o;
  if (r.window_tokens > 0) r.sum.last_loss = r.window_loss / r.window_tokens;
  if (!r.sum.interrupted && r.dev.size() > 0 &&
      !(o.valid_every > 0 && r.st.step % o.valid_every == 0))
    run_validation(r);
  checkpoint(r);
  if (r.dev.size() == 0)
    save_model(o.output, *r.model, r.vocab, training_info(o, r.st), o.save_dtype);
  r.sum.steps = r.st.step;
  r.sum.epochs_done = r.st.epoch;
  r.sum.seconds = r.elapsed();
  r.sum.tokens_per_second =
      (r.st.tokens - r.tokens_before) / std::max(1e-9, r.sum.seconds - r.seconds_before);
  r.rep.line(fmt::format("{} after step {} ({}): {:.0f} target tokens/s; model {}, checkpoint {}",
                         r.sum.interrupted ? "interrupted" : "done", r.st.step, r.sum.stop_reason,
                         r.sum.tokens_per_second, o.output, o.checkpoint_path()));
  if (r.sum.interrupted) r.rep.line("continue with the same command and --resume");
}

}  // namespace

TrainSummary train(const TrainOptions& o) {
  ATTNMT_CHECK(!o.output.empty(), "no output model: give -o/--output MODEL");
  o.validate();
  Run r(o);
  prepare(r);
  SignalScope signals;
  BatchOptions bo;
  bo.batch_tokens = o.batch_tokens;
  for (;;) {
    if (r.max_epochs && r.st.epoch >= r.max_epochs) {
      r.sum.stop_reason = fmt::format("reached {} epochs", r.max_epochs);
      break;
    }
    const std::vector<Batch> batches = make_epoch_batches(r.corpus, bo, o.seed, r.st.epoch);
    const auto n = static_cast<int64_t>(batches.size());
    for (int64_t i = r.st.batch_in_epoch; i < n && r.sum.stop_reason.empty(); ++i) {
      const float lr = train_step(r, batches[i]);
      r.st.batch_in_epoch = i + 1;
      report_progress(r, lr, n);
      r.sum.stop_reason = after_step(r);
    }
    if (!r.sum.stop_reason.empty()) break;
    ++r.st.epoch;
    r.st.batch_in_epoch = 0;
  }
  finish(r);
  return r.sum;
}

}  // namespace attnmt
