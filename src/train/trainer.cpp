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
    if (live_) fmt::print(stderr, "\r\033[K{}", s);
    else if (also_log && !quiet_) fmt::print(stderr, "{}\n", s);
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
  return {{"train.src", o.src},
          {"train.tgt", o.tgt},
          {"train.steps", std::to_string(s.step)},
          {"train.epochs", std::to_string(s.epoch)},
          {"train.seconds", fmt::format("{:.0f}", s.seconds)},
          {"train.target_tokens", std::to_string(s.tokens)},
          {"train.batch_tokens", std::to_string(o.batch_tokens)},
          {"train.lr", fmt::format("{}", o.lr)},
          {"train.schedule", o.schedule},
          {"train.label_smoothing", fmt::format("{}", o.label_smoothing)},
          {"train.seed", std::to_string(o.seed)},
          {"train.best_valid", s.best_score > -1e29 ? fmt::format("{:.4f}", s.best_score) : "none"}};
}

}  // namespace

TrainSummary train(const TrainOptions& o) {
  using Clock = std::chrono::steady_clock;
  ATTNMT_CHECK(!o.output.empty(), "no output model: give -o/--output MODEL");
  ATTNMT_CHECK(o.valid_src.empty() == o.valid_tgt.empty(),
               "--valid-src and --valid-tgt go together");
  ATTNMT_CHECK(o.batch_tokens > 0, "--batch-tokens must be positive");
  int threads = set_threads(o.threads);
  Reporter rep(o);

  // Model, vocabulary and optimiser: fresh, or restored from the checkpoint.
  TrainState st;
  std::unique_ptr<Seq2Seq> model;
  Vocab vocab;
  std::unique_ptr<LoadedCheckpoint> ckpt;
  if (o.resume) {
    ATTNMT_CHECK(std::filesystem::exists(o.checkpoint_path()),
                 "--resume: no checkpoint '{}' (it is written next to -o MODEL during training)",
                 o.checkpoint_path());
    ckpt = std::make_unique<LoadedCheckpoint>(load_checkpoint(o.checkpoint_path()));
    st = ckpt->state;
    vocab = ckpt->loaded.vocab;
    model = std::move(ckpt->loaded.model);
    rep.line(fmt::format("resuming from {} at step {} (epoch {}, batch {})", o.checkpoint_path(),
                         st.step, st.epoch + 1, st.batch_in_epoch));
  } else {
    vocab = obtain_vocab(o, rep);
    ModelConfig mc = o.model;
    mc.vocab_size = vocab.size();
    model = make_model(mc, o.seed);
  }
  Adam adam(model->params(), o.adam);
  if (ckpt) restore_optimizer(*ckpt, adam);
  ckpt.reset();

  ReaderOptions ro;
  ro.skip_bad_lines = o.skip_bad_lines;
  ro.max_length = o.max_length;
  ParallelCorpus corpus = load_corpus(o.src, o.tgt, vocab, vocab, ro);
  ATTNMT_CHECK(corpus.size() > 0, "no usable training pairs in {} / {} ({})", o.src, o.tgt,
               describe(corpus.stats));
  rep.line(fmt::format("training data: {}", describe(corpus.stats)));
  ParallelCorpus dev;
  if (!o.valid_src.empty()) {
    ReaderOptions vro;
    vro.skip_bad_lines = o.skip_bad_lines;
    dev = load_corpus(o.valid_src, o.valid_tgt, vocab, vocab, vro);
  }
  rep.line(fmt::format("{}: {} parameters, vocabulary {}, {} threads", model->config().arch,
                       model->params().n_scalars(), vocab.size(), threads));

  Schedule sched{o.schedule, o.lr, o.warmup};
  BatchOptions bo;
  bo.batch_tokens = o.batch_tokens;
  const int64_t max_epochs = (o.max_steps || o.max_epochs || o.max_time_minutes) ? o.max_epochs : 10;
  SignalScope signals;
  TrainSummary sum;
  const auto start = Clock::now();
  const double seconds_before = st.seconds;
  const int64_t tokens_before = st.tokens, steps_before = st.step;
  double window_loss = 0, window_tokens = 0;
  auto window_start = Clock::now();
  auto elapsed = [&] {
    return seconds_before + std::chrono::duration<double>(Clock::now() - start).count();
  };
  auto run_validation = [&] {
    if (dev.size() == 0) return;
    ValidResult v = validate(*model, dev, vocab, o.batch_tokens, o.valid_bleu_sentences);
    double score = v.bleu >= 0 ? v.bleu : -v.ce;
    bool better = score > st.best_score;
    rep.line(fmt::format("valid step {}: ce {:.4f} ppl {:.2f}{}{}", st.step, v.ce, v.ppl,
                         v.bleu >= 0 ? fmt::format(" bleu {:.2f}", v.bleu) : "",
                         better ? " (best: saved)" : ""));
    sum.last_valid_ce = v.ce;
    if (better) {
      st.best_score = score;
      st.bad_validations = 0;
      sum.best_valid_bleu = v.bleu;
      save_model(o.output, *model, vocab, training_info(o, st), o.save_dtype);
    } else {
      ++st.bad_validations;
      if (o.schedule == "plateau") st.plateau_scale *= sched.plateau_factor;
    }
  };
  auto checkpoint = [&] {
    st.seconds = elapsed();
    save_checkpoint(o.checkpoint_path(), *model, vocab, adam, st, model->rng(), training_info(o, st));
  };

  bool done = false;
  while (!done) {
    if (max_epochs && st.epoch >= max_epochs) {
      sum.stop_reason = fmt::format("reached {} epochs", max_epochs);
      break;
    }
    std::vector<Batch> batches = make_epoch_batches(corpus, bo, o.seed, st.epoch);
    for (int64_t i = st.batch_in_epoch; i < static_cast<int64_t>(batches.size()); ++i) {
      const Batch& b = batches[i];
      // One update.
      Var logits = model->logits(b, Mode::kTrain);  // [B, T, V]
      const int64_t V = logits->value.shape().last();
      Var flat = reshape(logits, Shape{static_cast<int64_t>(b.tgt_out.ids.size()), V});
      // The logits are not read again: the loss overwrites them with their own gradient.
      Var loss = cross_entropy_with_logits(flat, b.tgt_out.ids, o.label_smoothing, kPadId,
                                           /*consume_logits=*/true);
      const double ntok = static_cast<double>(b.n_tgt_tokens);
      backward(loss, Tensor::full(Shape{1}, static_cast<float>(1.0 / ntok)));
      clip_grad_norm(model->params(), o.clip_norm);
      float lr = sched.at(st.step + 1, st.plateau_scale);
      adam.step(lr);
      model->params().zero_grad();
      ++st.step;
      st.batch_in_epoch = i + 1;
      st.tokens += b.n_tgt_tokens;
      window_loss += loss->value[0];
      window_tokens += ntok;

      // Progress: epoch, step, loss, target tokens/s, learning rate, ETA.
      double now = elapsed();
      bool log_now = o.log_every > 0 && st.step % o.log_every == 0;
      if (log_now || st.step % 10 == 0) {
        double wsec = std::chrono::duration<double>(Clock::now() - window_start).count();
        double eta = -1;
        double per_step = (now - seconds_before) / std::max<int64_t>(1, st.step - steps_before);
        if (o.max_steps) eta = (o.max_steps - st.step) * per_step;
        else if (o.max_time_minutes) eta = o.max_time_minutes * 60 - now;
        else if (max_epochs)
          eta = ((max_epochs - st.epoch) * double(batches.size()) - st.batch_in_epoch) * per_step;
        rep.progress(fmt::format("epoch {} step {} loss {:.4f} tok/s {:.0f} lr {:.3g} eta {}",
                                 st.epoch + 1, st.step, window_loss / std::max(1.0, window_tokens),
                                 window_tokens / std::max(1e-9, wsec), lr, format_duration(eta)),
                     log_now);
        sum.last_loss = window_loss / std::max(1.0, window_tokens);
        if (log_now) {
          window_loss = window_tokens = 0;
          window_start = Clock::now();
        }
      }
      if (o.valid_every > 0 && st.step % o.valid_every == 0) {
        run_validation();
        if (o.patience > 0 && st.bad_validations >= o.patience) {
          sum.stop_reason = fmt::format("early stopping: {} validations without improvement",
                                        o.patience);
          done = true;
        }
      }
      if (o.save_every > 0 && st.step % o.save_every == 0) checkpoint();
      if (g_stop_signal) {
        sum.interrupted = true;
        sum.stop_reason = fmt::format("stopped by signal {}", static_cast<int>(g_stop_signal));
        done = true;
      } else if (o.max_steps && st.step >= o.max_steps) {
        sum.stop_reason = fmt::format("reached {} steps", o.max_steps);
        done = true;
      } else if (o.max_time_minutes && now >= o.max_time_minutes * 60) {
        sum.stop_reason = fmt::format("reached {} minutes", o.max_time_minutes);
        done = true;
      }
      if (done) break;
    }
    if (!done) {
      ++st.epoch;
      st.batch_in_epoch = 0;
    }
  }
  if (window_tokens > 0) sum.last_loss = window_loss / window_tokens;
  // The end: a last validation (unless it just ran), the checkpoint, and the model.
  if (!sum.interrupted && dev.size() > 0 && !(o.valid_every > 0 && st.step % o.valid_every == 0))
    run_validation();
  checkpoint();
  if (dev.size() == 0) save_model(o.output, *model, vocab, training_info(o, st), o.save_dtype);
  sum.steps = st.step;
  sum.epochs_done = st.epoch;
  sum.seconds = elapsed();
  sum.tokens_per_second = (st.tokens - tokens_before) / std::max(1e-9, sum.seconds - seconds_before);
  rep.line(fmt::format("{} after step {} ({}): {:.0f} target tokens/s; model {}, checkpoint {}",
                       sum.interrupted ? "interrupted" : "done", st.step, sum.stop_reason,
                       sum.tokens_per_second, o.output, o.checkpoint_path()));
  if (sum.interrupted) rep.line("continue with the same command and --resume");
  return sum;
}

}  // namespace attnmt
