// The contract every registered architecture keeps (models/registry.h), run on each of its
// examples: incremental decoding equals the teacher-forced pass, select() keeps, reorders and
// duplicates rows, save + load is bit-identical, and a tiny model memorises its corpus (in
// process, and through `attnmt train` + `attnmt translate`). A new architecture is tested
// here by registering it; its own peculiarities go in test_models_<name>.cpp.
#include <cmath>
#include <fstream>
#include <sstream>

#include "helpers.h"
#include "model_testing.h"
#include "models/model_io.h"
#include "models/registry.h"
#include "tensor/precision.h"
#include "text/vocab.h"

using namespace attnmt;
using namespace attnmt::testing;

namespace {

// Every example of every registered architecture.
std::vector<std::pair<const Architecture*, ModelExample>> all_examples(int vocab_size) {
  std::vector<std::pair<const Architecture*, ModelExample>> out;
  for (const Architecture& a : architectures())
    for (ModelExample& ex : a.examples(vocab_size)) out.emplace_back(&a, std::move(ex));
  return out;
}

// "--arch lstm --emb-dim 32 ...": the example as `attnmt train` options.

}  // namespace

TEST_CASE("contract: every architecture is registered with examples", "[models][contract]") {
  CHECK(architectures().size() == choices(Arch{}).names.size());
  for (const Architecture& a : architectures()) {
    INFO(a.name);
    CHECK(parse_choice<Arch>(a.name) == a.arch);
    CHECK(&architecture(a.arch) == &a);
    auto examples = a.examples(23);
    REQUIRE(examples.size() >= 2);
    for (const auto& ex : examples) {
      INFO(ex.name);
      CHECK(ex.config.arch == a.arch);
      CHECK_NOTHROW(ex.config.validate());
      CHECK(make_model(ex.config, 1)->config().arch == a.arch);
    }
  }
}

TEST_CASE("contract: parameters() counts exactly what the constructor builds",
          "[models][contract]") {
  for (const auto& [arch, ex] : all_examples(23)) {
    // Each example, and its variants of the options that add or remove tensors.
    std::vector<ModelConfig> configs;
    for (bool tie : {false, true})
      for (bool bias : {false, true})
        for (AttentionType att :
             {AttentionType::kDot, AttentionType::kGeneral, AttentionType::kAdditive}) {
          ModelConfig c = ex.config;
          c.tie_embeddings = tie, c.output_bias = bias, c.attention = att;
          c.input_feeding = !ex.config.input_feeding || tie;
          c.learned_positions = bias, c.pre_norm = !tie;
          try {
            c.validate();
          } catch (const Error&) {
            continue;  // dot attention where the widths differ
          }
          configs.push_back(c);
        }
    REQUIRE(configs.size() >= 8);
    for (const ModelConfig& c : configs) {
      INFO(arch->name << ": " << ex.name << ", tied " << c.tie_embeddings << ", bias "
                      << c.output_bias << ", attention " << static_cast<int>(c.attention));
      CHECK(arch->parameters(c) == make_model(c, 1)->params().n_scalars());
    }
  }
  // The shipped model, at its real size.
  const std::string shipped = std::string(ATTNMT_SOURCE_DIR) + "/models/en-es.attnmt";
  if (std::ifstream(shipped).good()) {
    LoadedModel lm = load_model(shipped);
    CHECK(architecture(lm.model->config().arch).parameters(lm.model->config()) ==
          lm.model->params().n_scalars());
  }
}

TEST_CASE("contract: a model too large for this machine's memory is refused before it is built",
          "[models][contract]") {
  for (const Architecture& a : architectures()) {
    ModelConfig c = a.examples(8000)[0].config;
    c.emb_dim = c.enc_hidden = c.dec_hidden = c.ffn_dim = 8192;
    c.enc_layers = c.dec_layers = 1024;  // ~10^12 parameters: 16 TB to train
    INFO(a.name);
    CHECK(a.parameters(c) > int64_t(100'000'000'000));
    CHECK_THROWS_WITH(make_model(c, 1), Catch::Contains("more than the") &&
                                            Catch::Contains("GiB this machine has available"));
  }
  ModelConfig c = architectures()[0].examples(23)[0].config;
  c.enc_layers = 1025;
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("at most 1024 layers"));
  c.enc_layers = 1, c.emb_dim = (1 << 20) + 1;
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("must be at most 1048576"));
}

TEST_CASE("contract: incremental decoding equals the teacher-forced pass", "[models][contract]") {
  const Batch batch = tiny_batch();
  for (const auto& [arch, ex] : all_examples(23)) {
    INFO(arch->name << ": " << ex.name);
    auto m = make_model(ex.config, 5);
    Tensor att;
    Tensor logp;
    {
      NoGradGuard ng;
      logp = m->forward(batch, Mode::kEval, &att)->value;
    }
    auto [step_logp, step_att] = run_steps(*m, batch);
    CHECK(max_diff_real(logp, step_logp, batch) < 1e-4);
    CHECK(max_diff_real(att, step_att, batch) < 1e-5);
  }
}

TEST_CASE("contract: alignment() is the attention of the teacher-forced pass, at any layer",
          "[models][contract]") {
  const Batch batch = tiny_batch();
  for (const auto& [arch, ex] : all_examples(23)) {
    INFO(arch->name << ": " << ex.name);
    auto m = make_model(ex.config, 5);
    NoGradGuard ng;
    // A Transformer may stop at its aligning layer: try each (and a head), not only the last.
    const bool transformer = m->config().arch == Arch::kTransformer;
    const int layers = transformer ? m->config().dec_layers : 1;
    for (int layer = 0; layer < layers; ++layer)
      for (int head : {-1, 0}) {
        INFO("layer " << layer << ", head " << head);
        if (transformer) m->set_alignment(layer, head);
        Tensor att;  // [B, T, S]
        m->forward(batch, Mode::kEval, &att);
        const Tensor fast = m->alignment(batch);
        REQUIRE(fast.shape() == att.shape());
        CHECK((fast.arr() - att.arr()).abs().maxCoeff() == 0.0f);
      }
  }
}

TEST_CASE("contract: attention_maps holds the alignment's map and rows of probabilities",
          "[models][contract]") {
  const Batch batch = tiny_batch();
  for (const auto& [arch, ex] : all_examples(23)) {
    INFO(arch->name << ": " << ex.name);
    auto m = make_model(ex.config, 5);
    NoGradGuard ng;
    Tensor att;  // [B, T, S]
    const Tensor logp = m->forward(batch, Mode::kEval, &att)->value;
    const AttentionMaps maps = m->attention_maps(batch);
    const ModelConfig& c = m->config();
    const bool transformer = c.arch == Arch::kTransformer;
    REQUIRE(maps.source.size() == static_cast<size_t>(transformer ? c.dec_layers : 1));
    CHECK(maps.decoder.size() == (transformer ? maps.source.size() : 0));
    CHECK(maps.encoder.size() == static_cast<size_t>(transformer ? c.enc_layers : 0));
    // The alignment is one of the source maps: its layer, one head or the heads' average.
    const int layer = transformer ? (c.align_layer < 0 ? c.dec_layers - 1 : c.align_layer) : 0;
    const Tensor& probs = maps.source[layer];  // [B, H, T, S]
    const int64_t H = probs.dim(1);
    double worst = 0;
    for (int b = 0; b < batch.size(); ++b)
      for (int t = 0; t < batch.tgt_len[b]; ++t)
        for (int s = 0; s < batch.src_len[b]; ++s) {
          double want = 0;
          if (transformer && c.align_head >= 0) {
            want = probs.at({b, c.align_head, t, s});
          } else {
            for (int64_t h = 0; h < H; ++h) want += probs.at({b, h, t, s});
            want /= static_cast<double>(H);
          }
          worst = std::max(worst, std::abs(want - att.at({b, t, s})));
        }
    CHECK(worst < 1e-6);
    // Every real row of every map is a distribution over the real keys; the decoder's is causal.
    auto check_rows = [&](const std::vector<Tensor>& layers, const std::vector<int>& rows,
                          const std::vector<int>& keys, bool causal) {
      for (const Tensor& p : layers)
        for (int b = 0; b < batch.size(); ++b)
          for (int64_t h = 0; h < p.dim(1); ++h)
            for (int r = 0; r < rows[b]; ++r) {
              double sum = 0;
              for (int k = 0; k < p.dim(3); ++k) {
                const float w = p.at({b, h, r, k});
                if (k >= keys[b] || (causal && k > r)) CHECK(w == 0.0f);
                sum += w;
              }
              CHECK(sum == Approx(1).margin(1e-5));
            }
    };
    check_rows(maps.source, batch.tgt_len, batch.src_len, false);
    check_rows(maps.decoder, batch.tgt_len, batch.tgt_len, true);
    check_rows(maps.encoder, batch.src_len, batch.src_len, false);
  }
}

TEST_CASE("contract: select reorders and duplicates decoder rows", "[models][contract]") {
  const Batch batch = tiny_batch();
  NoGradGuard ng;
  for (const auto& [arch, ex] : all_examples(23)) {
    INFO(arch->name << ": " << ex.name);
    auto m = make_model(ex.config, 6);
    // Two steps on rows {0, 1}, then select {1, 0, 1}, then two more steps.
    auto st = m->encode(batch.src, batch.src_len);
    m->step(*st, std::vector<int>{kBosId, kBosId});
    m->step(*st, std::vector<int>{11, 14});
    std::vector<int> rows{1, 0, 1};
    m->select(*st, rows);
    REQUIRE(st->rows() == 3);
    Step a = m->step(*st, std::vector<int>{15, 12, 16});
    Step a2 = m->step(*st, std::vector<int>{17, 13, 18});
    // Each row alone, from scratch, with the same tokens.
    std::vector<std::vector<int>> toks{
        {kBosId, 14, 15, 17}, {kBosId, 11, 12, 13}, {kBosId, 14, 16, 18}};
    for (int i = 0; i < 3; ++i) {
      const int r = rows[i];
      IdMatrix src =
          ids(1, 5,
              std::vector<int>(batch.src.ids.begin() + r * 5, batch.src.ids.begin() + (r + 1) * 5));
      std::vector<int> len{batch.src_len[r]};
      auto one = m->encode(src, len);
      Step s;
      for (int t = 0; t < 4; ++t) {
        s = m->step(*one, std::vector<int>{toks[i][t]});
        if (t == 2)
          for (int v = 0; v < 23; ++v)
            CHECK(s.logprobs.at({0, v}) == Approx(a.logprobs.at({i, v})).margin(1e-5));
      }
      for (int v = 0; v < 23; ++v)
        CHECK(s.logprobs.at({0, v}) == Approx(a2.logprobs.at({i, v})).margin(1e-5));
      for (int j = 0; j < len[0]; ++j)
        CHECK(s.attention.at({0, j}) == Approx(a2.attention.at({i, j})).margin(1e-6));
    }
  }
}

TEST_CASE("contract: saved and loaded gives the same config and bit-identical outputs",
          "[models][contract]") {
  TempDir tmp("contract_io");
  std::string src, tgt;
  const char* words[] = {"the", "cat", "sat", "on", "a", "mat", "dog", "ran", "far", "home"};
  for (int i = 0; i < 60; ++i) {
    for (int j = 0; j < 5; ++j) src += std::string(words[(i * 3 + j * 7) % 10]) + " ";
    src += "\n";
    for (int j = 0; j < 4; ++j) tgt += std::string(words[(i * 5 + j * 3) % 10]) + " ";
    tgt += "\n";
  }
  write_text(tmp.file("a.src"), src);
  write_text(tmp.file("a.tgt"), tgt);
  // 24 pieces: the corpus allows at most 28.
  const Vocab vocab = train_test_vocab(tmp.file("a.src"), tmp.file("a.tgt"), 24, tmp.file("v"));
  for (const auto& [arch, ex] : all_examples(vocab.size())) {
    INFO(arch->name << ": " << ex.name);
    auto m = make_model(ex.config, 9);
    save_model(tmp.file("m.bin"), *m, vocab);
    LoadedModel loaded = load_model(tmp.file("m.bin"));
    REQUIRE(loaded.model->config().to_pairs() == m->config().to_pairs());
    // One copy of the weights: the file keeps no parameter tensor once the model has them.
    CHECK(loaded.file.tensors.empty());
    Batch batch = tiny_batch();
    Tensor a1, a2;
    Tensor l1 = m->forward(batch, Mode::kEval, &a1)->value;
    Tensor l2 = loaded.model->forward(batch, Mode::kEval, &a2)->value;
    REQUIRE(l1.numel() == l2.numel());
    for (int64_t i = 0; i < l1.numel(); ++i) REQUIRE(l1[i] == l2[i]);
    for (int64_t i = 0; i < a1.numel(); ++i) REQUIRE(a1[i] == a2[i]);
    auto [s1, sa1] = run_steps(*m, batch);
    auto [s2, sa2] = run_steps(*loaded.model, batch);
    for (int64_t i = 0; i < s1.numel(); ++i) REQUIRE(s1[i] == s2[i]);
  }
}

TEST_CASE("contract: a tiny model memorises 50 reversed pairs in process",
          "[models][contract][train]") {
  // Target = the source reversed, ids 4..19, lengths 2..5 (+ EOS).
  Rng rng(21);
  const int n_pairs = 50, V = 20, S = 6, T = 6;
  std::vector<std::vector<int>> srcs, tgts;
  for (int i = 0; i < n_pairs; ++i) {
    int len = 2 + i % 4;
    std::vector<int> s;
    for (int j = 0; j < len; ++j) s.push_back(4 + static_cast<int>(rng.uniform(0.0f, 15.999f)));
    srcs.push_back(s);
    tgts.emplace_back(s.rbegin(), s.rend());
  }
  Batch batch;
  batch.src = ids(n_pairs, S, std::vector<int>(n_pairs * S, kPadId));
  batch.tgt_in = ids(n_pairs, T, std::vector<int>(n_pairs * T, kPadId));
  batch.tgt_out = batch.tgt_in;
  for (int i = 0; i < n_pairs; ++i) {
    int len = static_cast<int>(srcs[i].size());
    for (int j = 0; j < len; ++j) {
      batch.src.at(i, j) = srcs[i][j];
      batch.tgt_out.at(i, j) = tgts[i][j];
      batch.tgt_in.at(i, j + 1) = tgts[i][j];
    }
    batch.src.at(i, len) = kEosId;
    batch.tgt_out.at(i, len) = kEosId;
    batch.tgt_in.at(i, 0) = kBosId;
    batch.src_len.push_back(len + 1);
    batch.tgt_len.push_back(len + 1);
  }
  for (const Architecture& arch : architectures()) {
    const ModelExample ex = arch.examples(V).front();
    INFO(arch.name << ": " << ex.name);
    auto m = make_model(ex.config, 22);
    // Plain Adam (the trainer's optimiser is not this test's subject).
    std::vector<Tensor> m1, m2;
    for (auto& [path, p] : m->params().all()) {
      m1.push_back(Tensor::zeros(p->shape()));
      m2.push_back(Tensor::zeros(p->shape()));
    }
    auto greedy_all_correct = [&] {
      NoGradGuard ng;
      auto st = m->encode(batch.src, batch.src_len);
      std::vector<int> tok(n_pairs, kBosId);
      std::vector<std::vector<int>> out(n_pairs);
      std::vector<bool> done(n_pairs, false);
      for (int t = 0; t < T + 1; ++t) {
        Step s = m->step(*st, tok);
        for (int i = 0; i < n_pairs; ++i) {
          int best = 0;
          for (int v = 1; v < V; ++v)
            if (s.logprobs.at({i, v}) > s.logprobs.at({i, best})) best = v;
          tok[i] = best;
          if (done[i]) continue;
          if (best == kEosId)
            done[i] = true;
          else
            out[i].push_back(best);
        }
      }
      for (int i = 0; i < n_pairs; ++i)
        if (!done[i] || out[i] != tgts[i]) return false;
      return true;
    };
    bool learned = false;
    int step = 0;
    for (; step < 600 && !learned; ++step) {
      m->params().zero_grad();
      Var logp = m->forward(batch, Mode::kTrain);
      Var loss =
          cross_entropy(reshape(logp, Shape{n_pairs * T, V}), batch.tgt_out.ids, 0.0f, kPadId);
      backward(scale(loss, 1.0f / 200.0f));
      const float lr = 3e-3f, b1 = 0.9f, b2 = 0.98f;
      size_t k = 0;
      for (auto& [path, p] : m->params().all()) {
        if (!p->grad.empty()) {
          m1[k].arr() = b1 * m1[k].arr() + (1 - b1) * p->grad.arr();
          m2[k].arr() = b2 * m2[k].arr() + (1 - b2) * p->grad.arr().square();
          float c1 = 1 - std::pow(b1, float(step + 1)), c2 = 1 - std::pow(b2, float(step + 1));
          p->value.arr() -= lr * (m1[k].arr() / c1) / ((m2[k].arr() / c2).sqrt() + 1e-9f);
        }
        ++k;
      }
      if (step % 25 == 24) learned = greedy_all_correct();
    }
    INFO("steps " << step);
    CHECK(learned);
  }
}

namespace {
// `attnmt translate` of dir/train.en with `flags`: how many lines equal dir/train.es.
int translated_exactly(const std::string& model, const std::string& d, const std::string& flags) {
  const std::vector<std::string> refs = split_lines(read_text(d + "/train.es"));
  auto r = run_attnmt("translate -m " + model + " -i " + d + "/train.en --threads 1 " + flags);
  INFO(flags << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  const std::vector<std::string> hyps = split_lines(r.out);
  REQUIRE(hyps.size() == refs.size());
  int exact = 0;
  for (size_t i = 0; i < refs.size(); ++i) {
    if (hyps[i] == refs[i])
      ++exact;
    else
      UNSCOPED_INFO(flags << ": line " << i << ": '" << hyps[i] << "' vs '" << refs[i] << "'");
  }
  return exact;
}
}  // namespace

// Trained in float32 and (where oneDNN can run it) in bf16; each model translates its corpus
// exactly in its own precision, and in int8.
TEST_CASE("contract: attnmt train memorises the tiny corpus, greedy and beam 5 reproduce it",
          "[e2e][train][translate][contract][precision]") {
  TempDir dir("e2e-contract");
  const std::string d = dir.path().string();
  write_tiny_corpus(d);
  std::vector<std::string> precisions = {"fp32"};
  const CpuFeatures cpu = cpu_features();
  if (cpu.avx512_core) precisions.push_back("bf16");
  else WARN("bf16 not tested: this CPU has no AVX-512");
  if (!cpu.avx2) WARN("int8 not tested: this CPU has no AVX2");
  for (const Architecture& arch : architectures())
  for (const std::string& precision : precisions) {
    const ModelExample ex = arch.examples(40).front();
    INFO(arch.name << ": " << ex.name << ", trained in " << precision);
    const std::string model = d + "/" + std::string(arch.name) + "-" + precision + ".attnmt";
    auto t = run_attnmt("train --src " + d + "/train.en --tgt " + d + "/train.es -o " + model +
                        " --vocab-size 40 --threads 1 -q --precision " + precision + " " +
                        std::string(arch.tiny_recipe) + as_options(ex.config));
    INFO(t.err);
    REQUIRE(t.exit_code == 0);
    int64_t n = 0;
    if (precision == "fp32") {
      CHECK(count_memorised(model, d, n) == n);  // greedy in process reproduces every reference
      CHECK(n == 50);
    }
    CHECK(translated_exactly(model, d, "--greedy --precision " + precision) == 50);
    CHECK(translated_exactly(model, d, "--beam 5 --precision " + precision) == 50);
    if (cpu.avx2) {
      CHECK(translated_exactly(model, d, "--greedy --precision int8") == 50);
      CHECK(translated_exactly(model, d, "--beam 5 --precision int8") == 50);
    }
    if (precision != "fp32") continue;
    {
      // Stored as int8 (a quarter of the matrices' bytes). With VNNI it translates exactly as
      // before in int8: the stored values quantise back to the same integers and scales. Without
      // VNNI the weights are quantised again to 7 bits (precision.h), from the stored values
      // rather than the float32 ones, so it must still reproduce the corpus. (The file also
      // holds the vocabulary: the tensors' saving is measured against float16's, which saves
      // half of their float32 bytes where int8 saves about three quarters.)
      const std::string small = model + ".int8", half = model + ".f16";
      auto c = run_attnmt("convert -m " + model + " -o " + small + " --dtype int8");
      REQUIRE(c.exit_code == 0);
      REQUIRE(run_attnmt("convert -m " + model + " -o " + half + " --dtype float16").exit_code == 0);
      const double f32 = fs::file_size(model), i8 = fs::file_size(small), f16 = fs::file_size(half);
      CHECK(f32 - i8 > 1.3 * (f32 - f16));
      CHECK(run_attnmt("info " + small).out.find("int8 (") != std::string::npos);
      for (const char* flags : {"--greedy", "--beam 5"}) {
        if (!cpu.avx2) break;
        if (int8_weight_levels(cpu) < 127) {
          CHECK(translated_exactly(small, d, std::string(flags) + " --precision int8") == 50);
          continue;
        }
        const std::string args = " -i " + d + "/train.en --threads 1 --precision int8 " + flags;
        auto a = run_attnmt("translate -m " + model + args);
        auto b = run_attnmt("translate -m " + small + args);
        REQUIRE((a.exit_code == 0 && b.exit_code == 0));
        CHECK(a.out == b.out);
      }
    }
    // `attnmt info` describes it as the registry does.
    ModelConfig trained = load_model(model).model->config();
    auto info = run_attnmt("info " + model);
    CHECK(info.exit_code == 0);
    CHECK(info.out.find(arch.describe(trained)) != std::string::npos);
    const std::string recipe(arch.tiny_recipe);
    const std::string steps = recipe.substr(recipe.find("--max-steps ") + 12);
    CHECK(info.out.find("train.steps = " + steps.substr(0, steps.find(' '))) != std::string::npos);
    CHECK(info.out.find("train.precision = fp32") != std::string::npos);
  }
}

TEST_CASE("contract: a model file whose config no longer matches its tensors is refused",
          "[models][contract][io]") {
  TempDir tmp("contract_edit");
  write_tiny_corpus(tmp.path().string());
  const Vocab vocab =
      train_test_vocab(tmp.file("train.en"), tmp.file("train.es"), 40, tmp.file("spm"));
  for (const Architecture& arch : architectures()) {
    ModelConfig c = arch.examples(vocab.size()).front().config;
    c.enc_layers = 2;
    INFO(arch.name);
    save_model(tmp.file("m.bin"), *make_model(c, 1), vocab);
    // One encoder layer fewer: a stored layer would be ignored silently.
    ModelFile f = load_model_file(tmp.file("m.bin"));
    f.set_config("enc_layers", "1");
    save_model_file(tmp.file("fewer.bin"), f);
    CHECK_THROWS_WITH(
        load_model(tmp.file("fewer.bin")),
        Catch::Contains("is not a parameter of this") && Catch::Contains("encoder/layer_1"));
    // One more: a parameter has no stored value.
    f.set_config("enc_layers", "3");
    save_model_file(tmp.file("more.bin"), f);
    CHECK_THROWS_WITH(load_model(tmp.file("more.bin")),
                      Catch::Contains("is missing from the model file"));
  }
}
