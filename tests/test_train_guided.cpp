// Guided alignment (train/guided_alignment.h): word links become piece links, batches carry
// them as rows that sum to 1, the attention's log-weights that the loss reads have exact
// gradients (finite differences), and a tiny Transformer trained with a given, unnatural
// alignment (each target word linked to the mirrored source word) makes its supervised head
// reproduce it, which the copy task alone never would.
#include <algorithm>
#include <sstream>

#include "gradcheck.h"
#include "helpers.h"
#include "nn/transformer_blocks.h"
#include "text/batch.h"
#include "train/guided_alignment.h"

using namespace attnmt;
using namespace attnmt::testing;

TEST_CASE("guided alignment: word links become the links of every piece of the two words",
          "[train][guided]") {
  const std::vector<std::string> src = {"\xE2\x96\x81" "das", "\xE2\x96\x81" "Haus", "chen"};
  const std::vector<std::string> tgt = {"\xE2\x96\x81" "the", "\xE2\x96\x81" "little",
                                        "\xE2\x96\x81" "house"};
  std::vector<std::pair<int, int>> pieces;
  REQUIRE(word_to_piece_links(src, tgt, {{0, 0}, {1, 1}, {1, 2}}, pieces));
  std::sort(pieces.begin(), pieces.end());
  CHECK(pieces == std::vector<std::pair<int, int>>{{0, 0}, {1, 1}, {1, 2}, {2, 1}, {2, 2}});
  // A link past the words (the line and its pieces disagree): no links at all.
  CHECK_FALSE(word_to_piece_links(src, tgt, {{0, 0}, {2, 0}}, pieces));
  CHECK(pieces.empty());
}

TEST_CASE("guided alignment: a batch's guide rows spread 1 over the linked source pieces",
          "[train][guided]") {
  ParallelCorpus c;
  c.src = {{5, 6, 7}, {8}};
  c.tgt = {{9, 10}, {11, 12, 13}};
  c.line_no = {1, 2};
  c.guide = {{{0, 0}, {2, 0}, {1, 1}}, {}};  // pair 1: no links
  const std::vector<int64_t> order = {0, 1};
  const Batch b = make_batch(c, order);
  const int64_t T = b.tgt_out.cols, S = b.src.cols;  // 4 (3 + EOS), 4 (3 + EOS)
  REQUIRE(b.guide.size() == static_cast<size_t>(2 * T * S));
  auto g = [&](int r, int t, int s) { return b.guide[(r * T + t) * S + s]; };
  CHECK(g(0, 0, 0) == 0.5f);
  CHECK(g(0, 0, 2) == 0.5f);
  CHECK(g(0, 1, 1) == 1.0f);
  CHECK(g(0, 1, 0) == 0.0f);
  CHECK(g(0, 2, 0) == 0.0f);  // the EOS row is not guided
  CHECK(b.guided_rows == 2);
  for (int t = 0; t < T; ++t)
    for (int s = 0; s < S; ++s) CHECK(g(1, t, s) == 0.0f);
}

TEST_CASE("gradcheck the attention's log-weights that guided alignment reads", "[train][guided][grad]") {
  Rng rng(7);
  const int64_t B = 2, H = 2, T = 3, S = 4, d = 3;
  const std::vector<int> lengths = {4, 2};
  const std::vector<Tensor> inputs = {random_tensor(Shape{B, H, T, d}, rng),
                                      random_tensor(Shape{B, H, S, d}, rng),
                                      random_tensor(Shape{B, H, S, d}, rng)};
  // The context and the log-weights both flow into the checked output.
  auto f = [&](const std::vector<Var>& x) {
    Var log_probs;
    Var ctx = scaled_attention(x[0], x[1], x[2], lengths, false, 0.0f, rng, true, nullptr,
                               &log_probs);
    Tensor keep = Tensor::zeros(log_probs->value.shape());  // the real keys only
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < H * T; ++i)
        for (int64_t s = 0; s < lengths[b]; ++s) keep[(b * H * T + i) * S + s] = 1.0f;
    return concat({reshape(ctx, Shape{B * H * T * d}),
                   reshape(mul(constant(keep), log_probs), Shape{B * H * T * S})},
                  0);
  };
  CHECK(gradcheck(f, inputs) == 0);
}

TEST_CASE("guided alignment: a trained head reproduces a given mirrored alignment",
          "[train][guided][e2e]") {
  TempDir dir("guided");
  const std::string d = dir.path().string();
  write_tiny_corpus(d, 60);
  // Copy task; the given links join target word j to source word n-1-j (mirrored), which the
  // copy itself does not need: only the guidance can teach the head that.
  write_text(d + "/copy.en", read_text(d + "/train.en"));
  std::string links;
  const std::vector<std::string> lines = split_lines(read_text(d + "/train.en"));
  std::vector<std::vector<std::string>> wanted;
  for (const std::string& line : lines) {
    const int n = static_cast<int>(std::count(line.begin(), line.end(), ' ')) + 1;
    std::vector<std::string> w;
    for (int j = 0; j < n; ++j) w.push_back(std::to_string(n - 1 - j) + "-" + std::to_string(j));
    std::string joined;
    for (const std::string& p : w) joined += (joined.empty() ? "" : " ") + p;
    links += joined + "\n";
    std::sort(w.begin(), w.end());
    wanted.push_back(w);
  }
  write_text(d + "/mirror.align", links);
  auto t = run_attnmt("train --src " + d + "/train.en --tgt " + d + "/copy.en -o " + d +
                      "/m.attnmt --vocab-size 30 --arch transformer --emb-dim 32 --heads 2"
                      " --ffn-dim 64 --enc-layers 2 --dec-layers 2 --dropout 0"
                      " --label-smoothing 0 --batch-tokens 500 --lr 0.003 --warmup 20"
                      " --schedule inverse-sqrt --max-steps 120 --threads 1 --align-layer 1"
                      " --guided-alignment " + d + "/mirror.align --guided-alignment-weight 1");
  INFO(t.err);
  REQUIRE(t.exit_code == 0);
  CHECK_THAT(t.err, Catch::Contains("guided alignment: 60 pairs"));
  // The model aligns with the supervised head now (align_head 0): its links are the mirror.
  auto a = run_attnmt("align -m " + d + "/m.attnmt --src " + d + "/train.en --tgt " + d +
                      "/copy.en --format pharaoh --threads 1");
  REQUIRE(a.exit_code == 0);
  // The file says align.method = prediction: the links read that head, not occlusion (the
  // default of a model that names no method, which says so on stderr).
  CHECK(a.err.find("occlusion") == std::string::npos);
  const std::vector<std::string> rows = split_lines(a.out);
  REQUIRE(rows.size() == lines.size());
  int total = 0, same = 0;
  for (size_t k = 0; k < rows.size(); ++k) {
    std::istringstream in(rows[k]);
    for (std::string p; in >> p;) {
      ++total;
      same += std::binary_search(wanted[k].begin(), wanted[k].end(), p);
    }
  }
  INFO(same << " of " << total << " links are the given ones");
  CHECK(total > 150);
  CHECK(same >= 0.9 * total);
}
