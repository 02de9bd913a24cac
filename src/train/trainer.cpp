// The training loop. One update: teacher-forced forward, label-smoothed cross-entropy summed
// over real target tokens, backward with 1/tokens, clip, Adam. Around it: validation, the best
// model, early stopping, atomic checkpoints (every N steps, at the end, on SIGINT/SIGTERM).
#include "train/trainer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>
#include <thread>

#include "autograd/ops.h"
#include "io/output_path.h"
#include "tensor/error.h"
#include "tensor/memory.h"
#include "tensor/precision.h"
#include "tensor/threads.h"
#include "text/batch.h"
#include "text/corpus.h"
#include "text/vocab.h"
#include "train/averaging.h"
#include "train/checkpoint.h"
#include "train/cluster.h"
#include "train/curve_log.h"
#include "train/data_parallel.h"
#include "train/guided_alignment.h"
#include "train/reporter.h"
#include "train/stop_signals.h"
#include "train/validation.h"

namespace attnmt {

namespace {

// --vocab PREFIX or PREFIX.model: the file to read.
std::string vocab_model_path(const std::string& vocab) {
  if (!std::filesystem::exists(vocab) && std::filesystem::exists(vocab + ".model"))
    return vocab + ".model";
  return vocab;
}

Vocab obtain_vocab(const TrainOptions& o, Reporter& rep) {
  if (!o.vocab.empty()) return Vocab::load(vocab_model_path(o.vocab));
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
  vo.size_option = "--vocab-size";
  VocabResult vr = train_vocab(vo);
  rep.line(fmt::format("vocabulary: trained {} pieces -> {}", vr.pieces, vr.written.at(0)));
  if (vr.pieces < o.vocab_size)
    rep.line(fmt::format("warning: this corpus gives only {} pieces, not the {} asked for "
                         "(--vocab-size is an upper limit)",
                         vr.pieces, o.vocab_size));
  return Vocab::load(vr.written.at(0));
}

KeyValues training_info(const TrainOptions& o, const TrainState& s) {
  KeyValues kv = {
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
      {"train.precision", std::string(name_of(precision()))},
      {"train.best_valid", s.best_score > -1e29 ? fmt::format("{:.4f}", s.best_score) : "none"}};
  if (o.warmup > 0) kv.emplace_back("train.warmup", std::to_string(o.warmup));
  if (cluster::distributed()) kv.emplace_back("train.ranks", std::to_string(cluster::size()));
  if (o.ema > 0)
    kv.emplace_back("train.ema", fmt::format("{} (the saved weights are the average)", o.ema));
  // A guided model aligns with the head it taught (its align_layer, align_head): its word
  // links too, not the occlusion that links default to (cli/search_options.h).
  if (!o.guided_alignment.empty()) kv.emplace_back("align.method", "prediction");
  return kv;
}

// Every file training will write, checked before any work (the folder exists and is writable,
// it is not a folder, it is not one of the inputs); returns stale temp files it removed.
std::vector<std::string> check_outputs(const TrainOptions& o) {
  std::vector<NamedPath> inputs = {{"--src", o.src}, {"--tgt", o.tgt}};
  if (!o.valid_src.empty()) {
    inputs.push_back({"--valid-src", o.valid_src});
    inputs.push_back({"--valid-tgt", o.valid_tgt});
  }
  if (!o.vocab.empty()) inputs.push_back({"--vocab", vocab_model_path(o.vocab)});
  std::vector<NamedPath> outputs = {{"-o", o.output}, {"the checkpoint", o.checkpoint_path()}};
  if (o.vocab.empty() && !o.resume) {
    outputs.push_back({"the vocabulary", o.output + ".spm.model"});
    outputs.push_back({"the vocabulary", o.output + ".spm.vocab"});
  }
  if (!o.log_file.empty()) {
    outputs.push_back({"--log", o.log_file});
    outputs.push_back({"--log's learning-curve record", curve_record_path(o.log_file)});
  }
  if (o.keep_last > 0) outputs.push_back({"--keep-last", snapshot_path(o.output, 0)});
  std::vector<std::string> removed;
  for (const NamedPath& out : outputs)
    for (std::string& path : check_output(out, inputs)) removed.push_back(std::move(path));
  return removed;
}

using Clock = std::chrono::steady_clock;

// Everything one training run holds; the stages below each take it.
struct Run {
  explicit Run(const TrainOptions& options) : o(options), rep(options, root) {}
  const TrainOptions& o;
  // Under mpirun (train/data_parallel.h): rank 0 alone validates, reports and writes files.
  const bool parallel = cluster::distributed(), root = cluster::rank() == 0;
  Reporter rep;
  int threads = 0;
  TrainState st;
  std::unique_ptr<Seq2Seq> model;
  Vocab vocab;
  std::unique_ptr<Adam> adam;
  std::unique_ptr<Ema> ema;  // --ema: the moving average of the parameters
  ParallelCorpus corpus, dev;
  Schedule sched;
  Budget budget;  // what the linear and cosine schedules decay over
  int64_t max_epochs = 0;
  TrainSummary sum;
  // Timing: this process's share, on top of what the checkpoint had.
  Clock::time_point start = Clock::now(), window_start = Clock::now();
  double seconds_before = 0;
  int64_t tokens_before = 0, steps_before = 0;
  double window_loss = 0, window_tokens = 0;  // since the last logged line
  double window_guided = 0, window_guided_rows = 0;  // --guided-alignment's loss, its rows
  int non_finite_in_a_row = 0;                // updates skipped for a NaN/Inf loss or gradient
  // Under mpirun: what the ranks agreed on at the last update (rank 0's clock, a signal on
  // any rank), so that they take every decision alike; and the gradient bucket.
  double agreed_seconds = 0;
  bool agreed_stop = false;
  double waited = 0, summed = 0;  // this process's seconds waiting for other ranks, summing
  std::vector<float> bucket;

  double elapsed() const {
    return seconds_before + std::chrono::duration<double>(Clock::now() - start).count();
  }
  // The time that decisions (the schedule, --max-time) use: the same on every rank.
  double clock() const { return parallel ? agreed_seconds : elapsed(); }
  // The updates the run will have made when it stops (estimated at every step for --max-time).
  int64_t total_steps(int64_t batches_per_epoch) const {
    RunPosition at{st.step, st.epoch, st.batch_in_epoch, batches_per_epoch, clock(), 0};
    if (st.step > steps_before)  // this process's rate
      at.seconds_per_step = (at.seconds - seconds_before) / double(st.step - steps_before);
    else if (st.step > 0)  // just resumed: the checkpoint's
      at.seconds_per_step = seconds_before / double(st.step);
    return estimate_total_steps(budget, at);
  }
};

// The vocabulary: given, or trained by rank 0 (the others wait, then read what it wrote).
Vocab obtain_vocab_on_all_ranks(Run& r) {
  if (!r.parallel) return obtain_vocab(r.o, r.rep);
  Vocab vocab;
  if (r.root) vocab = obtain_vocab(r.o, r.rep);
  cluster::barrier();
  if (r.root) return vocab;
  const std::string path =
      r.o.vocab.empty() ? r.o.output + ".spm.model" : vocab_model_path(r.o.vocab);
  ATTNMT_CHECK(std::filesystem::exists(path),
               "{}: cannot see the vocabulary '{}' that rank 0 wrote: under mpirun, -o must be on "
               "a filesystem that every rank sees (docs/DISTRIBUTED.md), or give every rank the "
               "same --vocab",
               cluster::whoami(), path);
  return Vocab::load(path);
}

// Stage 1: the model, vocabulary and optimiser (fresh, or restored from the checkpoint) and
// the data.
void prepare(Run& r) {
  const TrainOptions& o = r.o;
  r.threads = set_threads(o.threads == 0 && r.parallel ? cluster::default_threads() : o.threads);
  if (r.parallel && r.threads > cluster::allowed_cores())
    r.rep.line(fmt::format("warning: --threads {} on a rank that mpirun bound to {} core(s): "
                           "the threads will share them; run mpirun with --bind-to none, or "
                           "give --threads {}",
                           r.threads, cluster::allowed_cores(), cluster::allowed_cores()));
  const ResolvedPrecision precision =
      resolve_precision(o.precision, PrecisionUse::kTraining, cpu_features());
  set_precision(precision.precision);
  r.max_epochs = (o.max_steps || o.max_epochs || o.max_time_minutes) ? o.max_epochs : 10;
  const unsigned cores = std::thread::hardware_concurrency();
  if (cores && o.threads > 4 * static_cast<int>(cores))
    r.rep.line(fmt::format("warning: --threads {} is more than 4 times this machine's {} cores: "
                           "expect it to be slower than --threads 0 (all cores)",
                           o.threads, cores));
  std::unique_ptr<LoadedCheckpoint> ckpt;
  if (o.resume) {
    ATTNMT_CHECK(std::filesystem::exists(o.checkpoint_path()),
                 "--resume: no checkpoint '{}' (it is written next to -o MODEL during training)",
                 o.checkpoint_path());
    ckpt = std::make_unique<LoadedCheckpoint>(load_checkpoint(o.checkpoint_path()));
    std::unique_ptr<Vocab> given;
    if (!o.vocab.empty()) given = std::make_unique<Vocab>(Vocab::load(vocab_model_path(o.vocab)));
    std::vector<std::string> kept = check_resume(*ckpt, o, given.get());
    r.st = ckpt->state;
    r.sum.stop_reason = budget_met(o, r.st, r.max_epochs);
    if (!r.sum.stop_reason.empty()) return;  // nothing to do: nothing is loaded or written
    r.vocab = ckpt->loaded.vocab;
    r.model = std::move(ckpt->loaded.model);
    r.rep.line(fmt::format("resuming from {} at step {} (epoch {}, batch {})", o.checkpoint_path(),
                           r.st.step, r.st.epoch + 1, r.st.batch_in_epoch));
    const std::string* ranks = ckpt->loaded.file.find_config("train.ranks");
    if ((ranks ? std::atoi(ranks->c_str()) : 1) != cluster::size())
      r.rep.line(fmt::format("resuming with {} rank(s) a run of {}: the batches are the same "
                             "(--batch-tokens is the whole job's), the dropout masks are not",
                             cluster::size(), ranks ? *ranks : "1"));
    if (!kept.empty())
      r.rep.line(fmt::format("resuming: the checkpoint's model settings are kept over the "
                             "options: {}",
                             fmt::join(kept, ", ")));
  } else {
    if (o.vocab.empty()) {  // a model too big for the machine is refused before the vocabulary
      ModelConfig planned = o.model;
      planned.vocab_size = o.vocab_size;
      check_trainable_here(planned);
    }
    r.vocab = obtain_vocab_on_all_ranks(r);
    ModelConfig mc = o.model;
    mc.vocab_size = r.vocab.size();
    r.model = make_model(mc, o.seed);
  }
  r.adam = std::make_unique<Adam>(r.model->params(), o.adam);
  if (ckpt) restore_optimizer(*ckpt, *r.adam);
  if (o.ema > 0) {
    r.ema = std::make_unique<Ema>(r.model->params(), o.ema);
    if (ckpt && !r.ema->load_state(ckpt->loaded.file.tensors, o.checkpoint_path()))
      r.rep.line("--ema: the checkpoint has no average; it starts from the current weights");
  }
  ckpt.reset();

  // A side takes its pieces + BOS or EOS: pairs the model cannot hold are skipped like long ones.
  const int fits = r.model->max_positions() > 0 ? r.model->max_positions() - 1 : 0;
  ReaderOptions ro;
  ro.skip_bad_lines = o.skip_bad_lines;
  ro.max_length = fits > 0 && (o.max_length <= 0 || o.max_length > fits) ? fits : o.max_length;
  if (ro.max_length != o.max_length)
    r.rep.line(fmt::format("pairs with a side over {} pieces are skipped: the model holds {} "
                           "positions (--max-positions)",
                           fits, r.model->max_positions()));
  r.corpus = load_corpus(o.src, o.tgt, r.vocab, r.vocab, ro);
  ATTNMT_CHECK(r.corpus.size() > 0, "no usable training pairs in {} / {} ({})", o.src, o.tgt,
               describe(r.corpus.stats));
  r.rep.line(fmt::format("training data: {}", describe(r.corpus.stats)));
  if (!o.guided_alignment.empty()) {
    ATTNMT_CHECK(r.model->supports_guided_alignment(),
                 "--guided-alignment supervises a Transformer's attention head: this model is "
                 "an {}",
                 name_of(r.model->config().arch));
    const GuideStats g = attach_guided_alignment(r.corpus, r.vocab, o.guided_alignment,
                                                 count_lines(o.src, "source"));
    // One head learns to align: that head, not the heads' average, is what the model's
    // alignments then read (also when a --resume adds the guidance).
    if (r.model->config().align_head < 0)
      r.model->set_alignment(r.model->config().align_layer, 0);
    const ModelConfig& c = r.model->config();
    r.rep.line(fmt::format(
        "guided alignment: {} pairs with {} word links from {} ({} pairs left unguided: their "
        "links name words beyond their lines); supervising decoder layer {}, head {}, weight {}",
        g.pairs, g.links, o.guided_alignment, g.mismatched,
        c.aligning_layer(), c.align_head,
        o.guided_alignment_weight));
    ATTNMT_CHECK(g.pairs > 0, "--guided-alignment '{}': no training pair got links",
                 o.guided_alignment);
  }
  if (!o.valid_src.empty() && r.root) {  // only rank 0 validates
    ReaderOptions vro;
    vro.skip_bad_lines = o.skip_bad_lines;
    vro.max_length = fits;
    r.dev = load_corpus(o.valid_src, o.valid_tgt, r.vocab, r.vocab, vro);
  }
  r.rep.line(fmt::format("{}: {} parameters, vocabulary {}, {} threads, products in {}",
                         name_of(r.model->config().arch), r.model->params().n_scalars(),
                         r.vocab.size(), r.threads, precision.why));
  if (r.parallel) {
    require_ranks_agree(o, r.corpus, r.vocab, r.model->params());
    r.rep.line(fmt::format("data-parallel: {} ranks ({} on this machine), {} threads each; every "
                           "rank computes about 1/{} of each batch of {} target tokens",
                           cluster::size(), cluster::local_size(), r.threads, cluster::size(),
                           o.batch_tokens));
  }
  r.sched = Schedule{o.schedule, o.lr, o.warmup};
  r.budget = Budget{o.max_steps, r.max_epochs, o.max_time_minutes * 60};
  r.start = r.window_start = Clock::now();
  r.seconds_before = r.st.seconds;
  r.tokens_before = r.st.tokens;
  r.steps_before = r.st.step;
}

// A NaN or Inf loss or gradient norm: the update is skipped (counted, reported); several in a row
// end training with an error, before anything is saved.
constexpr int kMaxNonFiniteInARow = 5;

void skip_update(Run& r, double loss, double norm) {
  r.model->params().zero_grad();
  ++r.sum.skipped_updates;
  ++r.non_finite_in_a_row;
  r.rep.line(fmt::format("step {}: the {} is {}; update skipped ({} in a row, {} in all)",
                         r.st.step + 1, std::isfinite(loss) ? "gradient norm" : "loss",
                         std::isfinite(loss) ? norm : loss, r.non_finite_in_a_row,
                         r.sum.skipped_updates));
  if (r.non_finite_in_a_row >= kMaxNonFiniteInARow)
    fail("training diverged at step {}: {} updates in a row had a non-finite loss or gradient. "
         "Nothing was saved over '{}' or its checkpoint. Lower --lr (now {}), warm up longer "
         "(--warmup) or clip harder (--clip-norm), then train again or --resume from the last "
         "checkpoint",
         r.st.step + 1, kMaxNonFiniteInARow, r.o.output, r.o.lr);
}

// Stage 2: one update. Teacher-forced forward, label-smoothed cross-entropy summed over the
// real target tokens, backward with 1/tokens, clip, Adam. Returns false when the update was
// skipped (a non-finite loss or gradient). Under mpirun each rank takes its share of `global`,
// and the gradients are summed before the clip: every rank makes the same update.
bool train_step(Run& r, const Batch& global, int64_t batches_per_epoch, float& lr) {
  Batch share;
  if (r.parallel) {
    share = batch_share(r.corpus, global, cluster::rank(), cluster::size());
    r.model->rng() = Rng(rank_step_seed(r.o.seed, r.st.step + 1, cluster::rank()));
  }
  const Batch& b = r.parallel ? share : global;
  // Both losses are sums over target tokens: one scale, 1/tokens of the whole batch, keeps
  // their ratio the weight and makes the ranks' gradients add up to the whole batch's.
  const double ntok = static_cast<double>(global.n_tgt_tokens);
  std::array<double, 3> figures = {0, 0, 0};  // loss, guided loss, guided rows
  if (b.size() > 0) try {
    Var guided;  // --guided-alignment: -sum guide * log attention over the guided rows [1]
    Var logits = r.model->logits(b, Mode::kTrain, nullptr, b.guide.empty() ? nullptr : &guided);
    const int64_t V = logits->value.shape().last();
    Var flat = reshape(logits, Shape{static_cast<int64_t>(b.tgt_out.ids.size()), V});
    // The logits are not read again: the loss overwrites them with their own gradient.
    const float grad = static_cast<float>(1.0 / ntok);  // what backward gives the loss
    Var loss = cross_entropy_with_logits(flat, b.tgt_out.ids, r.o.label_smoothing, kPadId,
                                         /*consume_logits=*/true, grad);
    Var total = guided ? add(loss, scale(guided, r.o.guided_alignment_weight)) : loss;
    backward(total, Tensor::full(Shape{1}, grad));
    figures = {loss->value[0], guided ? guided->value[0] : 0.0, double(b.guided_rows)};
  } catch (const TensorMemoryLimit& e) {  // say which batch: its shape is what to lower
    throw e.within(fmt::format("step {}, a batch of {} pairs and {} target tokens (up to {} "
                               "source and {} target pieces a pair)",
                               r.st.step + 1, b.size(), b.n_tgt_tokens, b.src.cols,
                               b.tgt_out.cols));
  }
  if (r.parallel) {
    const StepAgreement a = agree_on_step(r.model->params(), r.bucket, figures,
                                          r.root ? r.elapsed() : 0.0, StopSignals::received() != 0);
    figures = a.figures;
    r.agreed_seconds = a.seconds;
    r.agreed_stop = a.stop;
    r.waited += a.waited;
    r.summed += a.summed;
  }
  const double norm = clip_grad_norm(r.model->params(), r.o.clip_norm);
  lr = r.sched.at(r.st.step + 1, r.st.plateau_scale,
                  decays_to_budget(r.o.schedule) ? r.total_steps(batches_per_epoch) : 0);
  if (!std::isfinite(figures[0]) || !std::isfinite(norm)) {
    skip_update(r, figures[0], norm);
    return false;
  }
  r.non_finite_in_a_row = 0;
  r.adam->step(lr);
  r.model->params().zero_grad();
  ++r.st.step;
  if (r.ema) r.ema->update(r.st.step);
  r.st.tokens += global.n_tgt_tokens;
  r.window_loss += figures[0];
  r.window_tokens += ntok;
  if (figures[2] > 0) r.window_guided += figures[1], r.window_guided_rows += figures[2];
  return true;
}

// Never writes a model with a NaN or Inf parameter: it would translate nothing but garbage.
void require_finite_parameters(const Run& r) {
  for (const auto& [name, p] : r.model->params().all()) {
    const float* v = p->value.data();
    for (int64_t i = 0, n = p->value.numel(); i < n; ++i)
      if (!std::isfinite(v[i]))
        fail("parameter '{}' is not finite at step {}: not saving it over '{}' or its "
             "checkpoint; lower --lr (now {}) and train again, or --resume from the last "
             "checkpoint",
             name, r.st.step, r.o.output, r.o.lr);
  }
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
  const std::string guided =
      r.window_guided_rows > 0
          ? fmt::format(" alignment {:.4f}", r.window_guided / r.window_guided_rows)
          : std::string();
  r.rep.progress(fmt::format("epoch {} step {} loss {:.4f}{} tok/s {:.0f} lr {:.3g} eta {}",
                             r.st.epoch + 1, r.st.step, loss, guided,
                             r.window_tokens / std::max(1e-9, wsec), lr, format_duration(eta)),
                 log_now);
  r.sum.last_loss = loss;
  if (log_now) {
    r.rep.point({.step = r.st.step, .minutes = now / 60, .lr = lr, .train_loss = loss});
    r.window_loss = r.window_tokens = 0;
    r.window_guided = r.window_guided_rows = 0;
    r.window_start = Clock::now();
  }
}

// Stage 3: validation; the best model so far is saved to -o.
void run_validation(Run& r) {
  if (r.dev.size() == 0) return;
  const TrainOptions& o = r.o;
  AveragedWeights averaged(r.ema.get());  // validated and saved: the average, with --ema
  ValidResult v = validate(*r.model, r.dev, r.vocab, o.batch_tokens, o.valid_bleu_sentences);
  r.rep.point({.step = r.st.step,
               .minutes = r.elapsed() / 60,
               .dev_ce = v.ce,
               .dev_bleu = v.bleu >= 0 ? v.bleu : NAN});
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
    require_finite_parameters(r);
    r.st.seconds = r.elapsed();  // the model's train.seconds: now, not the last checkpoint's
    save_model(o.output, *r.model, r.vocab, training_info(o, r.st), o.save_dtype);
  } else {
    ++r.st.bad_validations;
    if (o.schedule == ScheduleKind::kPlateau) r.st.plateau_scale *= r.sched.plateau_factor;
  }
}

// Stage 4: the checkpoint (atomic), with everything --resume needs.
// With --keep-last, the model of this step too (OUTPUT.step-S), and only the newest N of those.
void checkpoint(Run& r) {
  require_finite_parameters(r);
  r.st.seconds = r.elapsed();
  save_checkpoint(r.o.checkpoint_path(), *r.model, r.vocab, *r.adam, r.st, r.model->rng(),
                  training_info(r.o, r.st), r.ema ? r.ema->state() : NamedTensors{});
  if (r.o.keep_last <= 0) return;
  AveragedWeights averaged(r.ema.get());
  save_model(snapshot_path(r.o.output, r.st.step), *r.model, r.vocab, training_info(r.o, r.st),
             r.o.save_dtype);
  prune_snapshots(r.o.output, r.o.keep_last);
}

// After an update: validation and checkpoint when due; the reason to stop, or "".
std::string after_step(Run& r) {
  const TrainOptions& o = r.o;
  if (o.valid_every > 0 && r.st.step % o.valid_every == 0) {
    if (r.root) run_validation(r);
    if (r.parallel) share_validation_state(r.st);
    if (o.patience > 0 && r.st.bad_validations >= o.patience)
      return fmt::format("early stopping: {} validations without improvement", o.patience);
  }
  if (o.save_every > 0 && r.st.step % o.save_every == 0) {
    if (r.parallel)
      require_same_on_all_ranks(fingerprint_parameters(r.model->params()),
                                fmt::format("parameters at step {}", r.st.step),
                                "they drifted apart; please report it, and --resume from the "
                                "last checkpoint");
    if (r.root) checkpoint(r);
  }
  const int sig = StopSignals::received();
  if (r.parallel ? r.agreed_stop : sig != 0) {
    r.sum.interrupted = true;
    return sig ? fmt::format("stopped by signal {}", sig)
                         : std::string("stopped by a signal to another rank");
  }
  if (o.max_steps && r.st.step >= o.max_steps) return fmt::format("reached {} steps", o.max_steps);
  if (o.max_time_minutes && r.clock() >= o.max_time_minutes * 60)
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
  if (r.root) checkpoint(r);
  if (r.root && r.dev.size() == 0) {
    AveragedWeights averaged(r.ema.get());
    save_model(o.output, *r.model, r.vocab, training_info(o, r.st), o.save_dtype);
  }
  r.sum.steps = r.st.step;
  r.sum.epochs_done = r.st.epoch;
  r.sum.seconds = r.elapsed();
  r.sum.tokens_per_second =
      (r.st.tokens - r.tokens_before) / std::max(1e-9, r.sum.seconds - r.seconds_before);
  if (r.sum.skipped_updates)
    r.rep.line(fmt::format("{} update(s) skipped for a non-finite loss or gradient",
                           r.sum.skipped_updates));
  r.rep.line(fmt::format("{} after step {} ({}): {:.0f} target tokens/s, tensors at most {}; "
                         "model {}, checkpoint {}",
                         r.sum.interrupted ? "interrupted" : "done", r.st.step, r.sum.stop_reason,
                         r.sum.tokens_per_second, format_bytes(tensor_memory().peak), o.output,
                         o.checkpoint_path()));
  if (r.parallel) {
    const double steps = r.sum.seconds - r.seconds_before;
    r.rep.line(fmt::format("data-parallel, rank 0: {:.1f}% of the time waiting for the other "
                           "ranks, {:.1f}% summing the gradients ({:.1f} ms a step)",
                           100 * r.waited / steps, 100 * r.summed / steps,
                           1e3 * r.summed / std::max<int64_t>(1, r.st.step - r.steps_before)));
  }
  if (r.sum.interrupted) r.rep.line("continue with the same command and --resume");
}

}  // namespace

TrainSummary train(const TrainOptions& o) {
  ATTNMT_CHECK(!o.output.empty(), "no output model: give -o/--output MODEL");
  o.validate();
  // Under mpirun, rank 0 alone writes: it alone checks the outputs and holds the lock.
  const bool writes = cluster::rank() == 0;
  const std::vector<std::string> stale = writes ? check_outputs(o) : std::vector<std::string>{};
  std::optional<FileLock> lock;
  if (writes) lock.emplace(o.output + ".lock", fmt::format("the model '{}'", o.output));
  Run r(o);
  for (const std::string& path : stale)
    r.rep.line(fmt::format("removed '{}', left by a process that no longer runs", path));
  prepare(r);
  if (!r.sum.stop_reason.empty()) {  // --resume with the budget already used up
    r.rep.line(fmt::format("nothing to do: {}; raise the limit to train further",
                           r.sum.stop_reason));
    r.sum.steps = r.st.step;
    return r.sum;
  }
  StopSignals signals(o.checkpoint_path());
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
      float lr = 0;
      const bool updated = train_step(r, batches[i], n, lr);
      r.st.batch_in_epoch = i + 1;
      if (!updated) continue;
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
