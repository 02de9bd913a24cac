// The translation pipeline (decode/translator.h) on a mock copy model with a tiny trained
// vocabulary: input order, empty lines, n-best and alignment output formats; forced alignment;
// and `attnmt translate` / `attnmt align` end to end with a small random LSTM model,
// including the errors a user can cause.
#include <fmt/format.h>

#include <regex>
#include <sstream>

#include "decode/forced.h"
#include "decode/translator.h"
#include "helpers.h"
#include "mock_seq2seq.h"
#include "models/model_io.h"
#include "models/registry.h"
#include "tensor/precision.h"
#include "tensor/threads.h"

using namespace attnmt;
using namespace attnmt::testing;

namespace {

const char* kWords[] = {"the",  "cat",   "sat",   "on",   "mat",   "a",    "dog",  "ran",
                        "home", "quick", "brown", "fox",  "jumps", "over", "lazy", "red",
                        "blue", "green", "sun",   "moon", "star",  "sky",  "tree", "river"};

std::vector<std::string> make_lines(int n, uint64_t seed) {
  std::vector<std::string> lines;
  for (int i = 0; i < n; ++i) {
    std::string line;
    const int len = 1 + static_cast<int>((seed + i * 7) % 9);
    for (int w = 0; w < len; ++w) {
      if (w) line += ' ';
      line += kWords[(seed * 31 + i * 13 + w * 5 + w * i) % 24];
    }
    lines.push_back(line);
  }
  return lines;
}

// A 60-piece vocabulary trained once on generated English-like lines (a fraction of a second).
const Vocab& tiny_vocab() {
  static std::unique_ptr<TempDir> dir;
  static Vocab vocab;
  if (vocab.empty()) {
    dir = std::make_unique<TempDir>("decode-vocab");
    std::string a, b;
    for (const auto& l : make_lines(400, 1)) a += l + "\n";
    for (const auto& l : make_lines(400, 2)) b += l + "\n";
    write_text(dir->file("a.txt"), a);
    write_text(dir->file("b.txt"), b);
    VocabOptions o;
    o.src = dir->file("a.txt");
    o.tgt = dir->file("b.txt");
    o.size = 60;
    o.prefix = dir->file("tiny");
    o.threads = 1;
    train_vocab(o);
    vocab = Vocab::load(dir->file("tiny.model"));
  }
  return vocab;
}

// A small randomly initialised LSTM saved with the tiny vocabulary (for the CLI tests).
std::string tiny_model(const TempDir& dir) {
  ModelConfig c;
  c.vocab_size = tiny_vocab().size();
  c.emb_dim = 16;
  c.enc_hidden = 16;
  c.dec_hidden = 32;
  auto model = make_model(c, 7);
  const std::string path = dir.file("tiny.attnmt");
  save_model(path, *model, tiny_vocab());
  return path;
}

int n_words(const std::string& s) {
  std::istringstream in(s);
  int n = 0;
  for (std::string w; in >> w;) ++n;
  return n;
}

// Random scores over whole-word pieces ("▁cat") and EOS only, so that the words of the decoded
// output are exactly the hypothesis' pieces (no "⁇" for UNK, no lone "▁").
ScoreFn word_scores(const Vocab& vocab) {
  std::vector<char> allowed(vocab.size(), 0);
  for (int v = 4; v < vocab.size(); ++v) {
    const std::string p = vocab.piece(v);
    allowed[v] = p.size() > 4 && p.starts_with(kWordMark);
  }
  allowed[kEosId] = 1;
  auto base = random_scores(vocab.size(), 1.0f);
  return [allowed, base](const std::vector<int>& src, const std::vector<int>& history) {
    std::vector<float> s = base(src, history);
    for (size_t v = 0; v < s.size(); ++v)
      if (!allowed[v]) s[v] = -30.0f;
    return s;
  };
}

}  // namespace

TEST_CASE("translate_ids keeps input order across length-sorted batches and skips empties",
          "[decode]") {
  const Vocab& vocab = tiny_vocab();
  MockSeq2Seq model(vocab.size(), copy_scores(vocab.size()));
  std::vector<std::vector<int>> src;
  for (const auto& line : make_lines(23, 5)) src.push_back(vocab.encode(line));
  src[3].clear();
  src[17].clear();
  TranslateOptions o;
  o.batch_size = 3;
  o.batch_tokens = 200;
  auto result = translate_ids(model, src, o);
  REQUIRE(result.size() == src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i].empty()) {
      CHECK(result[i].empty());
      continue;
    }
    REQUIRE(result[i].size() == 1);
    CHECK(result[i][0].tokens == src[i]);  // the copy model returns each line's own source
  }
  CHECK(model.max_rows.load() <= 3 * 5);
}

TEST_CASE("translate_file: one output line per input line, in order, empty stays empty",
          "[decode]") {
  const Vocab& vocab = tiny_vocab();
  MockSeq2Seq model(vocab.size(), copy_scores(vocab.size()));
  TempDir dir("decode-file");
  auto lines = make_lines(11, 9);
  lines[0] = "";
  lines[5] = "   ";
  lines.push_back("");
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  write_text(dir.file("in.txt"), text);
  TranslateOptions o;
  o.window = 4;  // several windows
  o.batch_size = 2;
  std::ostringstream out;
  TranslateStats stats = translate_file(model, vocab, dir.file("in.txt"), out, o);
  auto got = split_lines(out.str());
  REQUIRE(got.size() == lines.size());
  CHECK(stats.lines == static_cast<int64_t>(lines.size()));
  CHECK(stats.empty == 3);
  for (size_t i = 0; i < lines.size(); ++i) CHECK(got[i] == vocab.decode(vocab.encode(lines[i])));
}

TEST_CASE("n-best lines read INDEX ||| hypothesis ||| score, best first", "[decode]") {
  const Vocab& vocab = tiny_vocab();
  MockSeq2Seq model(vocab.size(), random_scores(vocab.size(), 1.0f));
  TempDir dir("decode-nbest");
  auto lines = make_lines(5, 3);
  lines[2] = "";
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  write_text(dir.file("in.txt"), text);
  TranslateOptions o;
  o.search.beam = 4;
  o.search.n_best = 3;
  o.n_best_format = true;
  std::ostringstream out;
  translate_file(model, vocab, dir.file("in.txt"), out, o);
  const std::regex line_re(R"(^(\d+) \|\|\| (.*) \|\|\| (-?\d+\.\d+)$)");
  std::vector<int> per_index(lines.size(), 0);
  int last_index = -1;
  double last_score = 0;
  for (const auto& l : split_lines(out.str())) {
    std::smatch m;
    REQUIRE(std::regex_match(l, m, line_re));
    const int index = std::stoi(m[1]);
    REQUIRE(index >= 0);
    REQUIRE(index < static_cast<int>(lines.size()));
    CHECK(index >= last_index);  // input order
    const double score = std::stod(m[3]);
    if (index == last_index) CHECK(score <= last_score);
    last_index = index;
    last_score = score;
    ++per_index[index];
  }
  for (size_t i = 0; i < lines.size(); ++i) CHECK(per_index[i] == (lines[i].empty() ? 1 : 3));
}

TEST_CASE("alignments appended to translations: Pharaoh pairs in range, soft rows sum to 1",
          "[decode]") {
  const Vocab& vocab = tiny_vocab();
  MockSeq2Seq model(vocab.size(), word_scores(vocab));
  TempDir dir("decode-align");
  auto lines = make_lines(8, 4);
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  write_text(dir.file("in.txt"), text);
  for (bool word_level : {true, false}) {
    TranslateOptions o;
    o.level = word_level ? AlignmentLevel::kWord : AlignmentLevel::kPiece;
    o.alignment = AlignmentOutput::kHard;
    std::ostringstream hard;
    translate_file(model, vocab, dir.file("in.txt"), hard, o);
    o.alignment = AlignmentOutput::kSoft;
    std::ostringstream soft;
    translate_file(model, vocab, dir.file("in.txt"), soft, o);
    auto hard_lines = split_lines(hard.str()), soft_lines = split_lines(soft.str());
    int non_empty = 0;
    REQUIRE(hard_lines.size() == lines.size());
    REQUIRE(soft_lines.size() == lines.size());
    for (size_t i = 0; i < lines.size(); ++i) {
      const auto ids = vocab.encode(lines[i]);
      const size_t bar = hard_lines[i].find(" ||| ");
      REQUIRE(bar != std::string::npos);
      const std::string hyp = hard_lines[i].substr(0, bar);
      const int n_src = word_level ? n_words(lines[i]) : static_cast<int>(ids.size());
      // Every output piece is a whole word (word_scores), so words = pieces on that side.
      const int n_tgt = n_words(hyp);
      non_empty += n_tgt > 0;
      std::istringstream pairs(hard_lines[i].substr(bar + 5));
      int n_pairs = 0;
      for (std::string p; pairs >> p; ++n_pairs) {
        int s = -1, t = -1;
        REQUIRE(std::sscanf(p.c_str(), "%d-%d", &s, &t) == 2);
        CHECK(s >= 0);
        CHECK(s < n_src);
        CHECK(t >= 0);
        CHECK(t < n_tgt);
      }
      CHECK(n_pairs == n_tgt);  // one link per target token
      const size_t soft_bar = soft_lines[i].find(" ||| ");
      REQUIRE(soft_bar == bar);
      std::istringstream rows(soft_lines[i].substr(soft_bar + 5));
      int n_rows = 0;
      for (std::string row; rows >> row; ++n_rows) {
        std::istringstream cells(row);
        double sum = 0;
        int n_cols = 0;
        for (std::string c; std::getline(cells, c, ','); ++n_cols) sum += std::stod(c);
        CHECK(n_cols == n_src);
        CHECK(sum == Approx(1.0).margin(0.01));
      }
      CHECK(n_rows == n_tgt);
    }
    CHECK(non_empty > 0);  // the checks above saw real alignments
  }
}

TEST_CASE("forced attention: one row per target piece plus EOS, one column per source position",
          "[decode]") {
  const Vocab& vocab = tiny_vocab();
  TempDir dir("decode-forced");
  LoadedModel lm = load_model(tiny_model(dir));
  std::vector<std::vector<int>> src, tgt;
  for (const auto& l : make_lines(6, 11)) src.push_back(vocab.encode(l));
  for (const auto& l : make_lines(6, 12)) tgt.push_back(vocab.encode(l));
  tgt[4].clear();
  auto att = forced_attention(*lm.model, src, tgt, 4);
  REQUIRE(att.size() == 6);
  CHECK(att[4].empty());
  for (size_t i = 0; i < att.size(); ++i) {
    if (i == 4) continue;
    REQUIRE(att[i].size() == tgt[i].size() + 1);
    for (const auto& row : att[i]) {
      REQUIRE(row.size() == src[i].size() + 1);
      float sum = 0;
      for (float w : row) sum += w;
      CHECK(sum == Approx(1.0f).margin(1e-4));
    }
  }
  // The same pair alone gives the same matrix: padding in a batch changes nothing.
  auto alone = forced_attention(*lm.model, {src[0]}, {tgt[0]});
  for (size_t t = 0; t < att[0].size(); ++t)
    for (size_t s = 0; s < att[0][t].size(); ++s)
      CHECK(alone[0][t][s] == Approx(att[0][t][s]).margin(1e-5));
}

TEST_CASE("real models: a sentence gets the same translation in a padded batch as alone",
          "[decode]") {
  // Checks the models' masking and select() under the search: sentences of different lengths
  // share a batch, leave it at different steps, and must not disturb each other.
  const Vocab& vocab = tiny_vocab();
  std::vector<std::vector<int>> src;
  for (const auto& l : make_lines(7, 13)) src.push_back(vocab.encode(l));
  for (const Architecture& arch : architectures()) {
    ModelConfig c;
    c.arch = arch.arch;
    c.vocab_size = vocab.size();
    c.emb_dim = 16;
    c.enc_hidden = 16;
    c.dec_hidden = 32;
    c.heads = 2;
    c.ffn_dim = 32;
    auto model = make_model(c, 3);
    TranslateOptions o;
    o.search.beam = 3;
    o.search.n_best = 2;
    o.search.max_length_ratio = 1.0f;  // a random model rarely ends by itself: the limit
    o.search.max_length_extra = 1;     // (source pieces + 1) makes sentences end apart
    auto batched = translate_ids(*model, src, o);
    for (size_t i = 0; i < src.size(); ++i) {
      auto alone = translate_ids(*model, {src[i]}, o);
      INFO(arch.name << " sentence " << i);
      REQUIRE(alone[0].size() == batched[i].size());
      for (size_t k = 0; k < alone[0].size(); ++k) {
        CHECK(alone[0][k].tokens == batched[i][k].tokens);
        CHECK(alone[0][k].score == Approx(batched[i][k].score).margin(1e-4));
      }
    }
  }
}

TEST_CASE("real models: batches searched side by side by workers give exactly what one thread "
          "gives",
          "[decode][threads]") {
  // Workers run their products on one thread each: in every precision, what they find must be
  // what a single thread finds, bit for bit, whichever worker took which batch.
  const Vocab& vocab = tiny_vocab();
  std::vector<std::vector<int>> src;
  for (const auto& l : make_lines(40, 21)) src.push_back(vocab.encode(l));
  std::vector<Precision> precisions = {Precision::kFp32};
  if (cpu_features().avx512_core) precisions.push_back(Precision::kBf16);
  if (cpu_features().avx2) precisions.push_back(Precision::kInt8);
  const int threads_before = get_threads();
  for (const Architecture& arch : architectures()) {
    ModelConfig c;
    c.arch = arch.arch;
    c.vocab_size = vocab.size();
    c.emb_dim = c.enc_hidden = 32;
    c.dec_hidden = 64;
    c.heads = 2;
    c.ffn_dim = 64;
    auto model = make_model(c, 5);
    for (Precision p : precisions) {
      ScopedPrecision precision(p);
      TranslateOptions o;
      o.search.beam = 4;
      o.search.max_length_ratio = 1.0f;
      o.search.max_length_extra = 2;
      o.batch_size = 3;  // 14 batches
      o.workers = false;
      set_threads(1);
      auto one = translate_ids(*model, src, o);
      o.workers = true;
      set_threads(2);
      int64_t reported = 0;
      auto side_by_side = translate_ids(*model, src, o, [&](int64_t done) {
        CHECK(done > reported);  // told under a lock, in order
        reported = done;
      });
      set_threads(threads_before);
      CHECK(reported == static_cast<int64_t>(src.size()));
      INFO(arch.name << " in " << name_of(p));
      REQUIRE(side_by_side.size() == one.size());
      int differing = 0;
      for (size_t i = 0; i < src.size(); ++i)
        differing += side_by_side[i][0].tokens != one[i][0].tokens ||
                     side_by_side[i][0].score != one[i][0].score;
      CHECK(differing == 0);
    }
  }
}

TEST_CASE("forced alignment by workers gives exactly what one thread gives", "[decode][threads]") {
  const Vocab& vocab = tiny_vocab();
  std::vector<std::vector<int>> src, tgt;
  for (const auto& l : make_lines(30, 31)) src.push_back(vocab.encode(l));
  for (const auto& l : make_lines(30, 32)) tgt.push_back(vocab.encode(l));
  src[4].clear();  // an empty side: no matrix, in either run
  const int threads_before = get_threads();
  for (const Architecture& arch : architectures()) {
    ModelConfig c;
    c.arch = arch.arch;
    c.vocab_size = vocab.size();
    c.emb_dim = c.enc_hidden = c.ffn_dim = 32;
    c.dec_hidden = 32;
    c.heads = 2;
    auto model = make_model(c, 9);
    for (AlignmentMethod method : {AlignmentMethod::kPrediction, AlignmentMethod::kOcclusion}) {
      INFO(arch.name << ", " << name_of(method));
      set_threads(1);
      const auto one = forced_alignment(*model, src, tgt, method, 4);
      set_threads(2);
      const auto side_by_side = forced_alignment(*model, src, tgt, method, 4);
      set_threads(threads_before);
      REQUIRE(one.size() == src.size());
      CHECK(one[4].empty());
      CHECK(side_by_side == one);
    }
  }
}

TEST_CASE("attnmt translate and align with --threads 2 write what --threads 1 writes",
          "[decode][threads][e2e]") {
  // The shipped model on sentences of a Bible-like vocabulary (the Bible corpus itself is built
  // by tools/, not in a clone), in batches of 8: workers side by side against one thread,
  // through the whole command (windows, order, output).
  const std::string root = ATTNMT_SOURCE_DIR;
  TempDir dir("workers-cli");
  const char* en[] = {"the", "lord", "said", "unto", "moses", "and", "king", "gave", "bread",
                      "water", "to", "people", "of", "city", "house", "light", "shines"};
  const char* es[] = {"el", "señor", "dijo", "á", "moisés", "y", "rey", "dió", "pan", "agua",
                      "al", "pueblo", "de", "ciudad", "casa", "luz", "resplandece"};
  auto sentence = [](const char* const* words, int i) {
    std::string line;
    for (int w = 0; w < 3 + (i * 7) % 19; ++w)
      line += std::string(w ? " " : "") + words[(i * 5 + w * w + w) % 17];
    return line + ".\n";
  };
  std::string src, a_src, a_tgt;  // 160 lines to translate, 40 pairs to align (by occlusion)
  for (int i = 0; i < 160; ++i) src += sentence(en, i);
  for (int i = 0; i < 40; ++i) a_src += sentence(en, i), a_tgt += sentence(es, i);
  write_text(dir.file("in.en"), src);
  write_text(dir.file("a.en"), a_src);
  write_text(dir.file("a.es"), a_tgt);
  for (const char* precision : {"auto", "int8"}) {
    std::string out[2];
    for (int threads : {1, 2}) {
      auto r = run_attnmt(fmt::format("translate -m {}/models/en-es.attnmt -i {} --batch-size 8 "
                                      "--precision {} --threads {}",
                                      root, dir.file("in.en"), precision, threads));
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      out[threads - 1] = r.out;
    }
    INFO(precision);
    CHECK(split_lines(out[0]).size() == 160);
    CHECK(out[1] == out[0]);
  }
  std::string links[2];
  for (int threads : {1, 2}) {
    auto r = run_attnmt(fmt::format("align -m {}/models/en-es.attnmt --src {} --tgt {} "
                                    "--format pharaoh --batch-size 8 --threads {}",
                                    root, dir.file("a.en"), dir.file("a.es"), threads));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    links[threads - 1] = r.out;
  }
  CHECK(split_lines(links[0]).size() == 40);
  CHECK(links[1] == links[0]);
}

TEST_CASE("attnmt translate and align end to end with a small random model", "[decode]") {
  TempDir dir("decode-cli");
  const std::string model = tiny_model(dir);
  auto lines = make_lines(9, 21);
  lines[4] = "";
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  write_text(dir.file("in.txt"), text);
  write_text(dir.file("tgt.txt"), text);

  auto r = run_attnmt(fmt::format("translate -m '{}' -i '{}' -o '{}' --beam 3 --threads 1", model,
                                  dir.file("in.txt"), dir.file("out.txt")));
  REQUIRE(r.exit_code == 0);
  auto out = split_lines(read_text(dir.file("out.txt")));
  REQUIRE(out.size() == lines.size());
  CHECK(out[4].empty());
  // stdin in, stdout out: the same translations (and greedy = beam 1).
  // (In a subshell: run_shell gives the command itself </dev/null.)
  auto a = run_shell(fmt::format("('{}' translate -m '{}' --beam 1 < '{}')", ATTNMT_BINARY, model,
                                 dir.file("in.txt")));
  auto b = run_shell(fmt::format("('{}' translate -m '{}' --greedy < '{}')", ATTNMT_BINARY, model,
                                 dir.file("in.txt")));
  REQUIRE(a.exit_code == 0);
  CHECK(a.out == b.out);
  CHECK(split_lines(a.out).size() == lines.size());

  // Each target word's best source word: one link per target word (the default, occlusion,
  // also grows links from the source side).
  auto p = run_attnmt(fmt::format(
      "align -m '{}' --src '{}' --tgt '{}' --format pharaoh --alignment-links target", model,
      dir.file("in.txt"), dir.file("tgt.txt")));
  REQUIRE(p.exit_code == 0);
  auto links = split_lines(p.out);
  REQUIRE(links.size() == lines.size());
  CHECK(links[4].empty());
  for (size_t i = 0; i < lines.size(); ++i) {
    std::istringstream pairs(links[i]);
    int n = 0;
    for (std::string pair; pairs >> pair; ++n) {
      int s = -1, t = -1;
      REQUIRE(std::sscanf(pair.c_str(), "%d-%d", &s, &t) == 2);
      CHECK(s < n_words(lines[i]));
      CHECK(t < n_words(lines[i]));
    }
    CHECK(n == n_words(lines[i]));
  }
  auto svg = run_attnmt(fmt::format("align -m '{}' --src '{}' --format svg --max-svg 3 -o '{}'",
                                    model, dir.file("in.txt"), dir.file("svg")));
  REQUIRE(svg.exit_code == 0);
  CHECK(fs::exists(dir.file("svg/0001.svg")));
  CHECK(fs::exists(dir.file("svg/0003.svg")));
  CHECK(!fs::exists(dir.file("svg/0004.svg")));
  CHECK(read_text(dir.file("svg/0002.svg")).find("<svg") != std::string::npos);
}

TEST_CASE("attnmt translate and align refuse bad models, bad input and bad options", "[decode]") {
  TempDir dir("decode-errors");
  write_text(dir.file("in.txt"), "the cat\n");

  auto missing = run_attnmt(
      fmt::format("translate -m '{}' -i '{}'", dir.file("nope.attnmt"), dir.file("in.txt")));
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("nope.attnmt") != std::string::npos);

  write_text(dir.file("junk.attnmt"), "this is not a model file, just some words\n");
  auto junk = run_attnmt(
      fmt::format("translate -m '{}' -i '{}'", dir.file("junk.attnmt"), dir.file("in.txt")));
  CHECK(junk.exit_code == 1);
  CHECK(junk.err.find("junk.attnmt") != std::string::npos);

  const std::string model = tiny_model(dir);
  write_text(dir.file("bad.txt"), "the cat\nthe \xC3\x28 dog\n");
  auto bad = run_attnmt(fmt::format("translate -m '{}' -i '{}' -o '{}'", model, dir.file("bad.txt"),
                                    dir.file("out.txt")));
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("bad.txt:2") != std::string::npos);
  CHECK(!fs::exists(dir.file("out.txt")));  // nothing half-written

  auto option = run_attnmt(fmt::format("translate -m '{}' --beam-size 3", model));
  CHECK(option.exit_code == 2);
  auto alignment = run_attnmt(fmt::format("translate -m '{}' --alignment diagonal", model));
  CHECK(alignment.exit_code == 2);
  auto format =
      run_attnmt(fmt::format("align -m '{}' --src '{}' --format png", model, dir.file("in.txt")));
  CHECK(format.exit_code == 2);
  auto svg_stdout =
      run_attnmt(fmt::format("align -m '{}' --src '{}' --format svg", model, dir.file("in.txt")));
  CHECK(svg_stdout.exit_code == 2);
  write_text(dir.file("two.txt"), "the cat\nthe dog\n");
  auto mismatch = run_attnmt(fmt::format("align -m '{}' --src '{}' --tgt '{}' --format pharaoh",
                                         model, dir.file("two.txt"), dir.file("in.txt")));
  CHECK(mismatch.exit_code == 1);
  CHECK(mismatch.err.find("line-parallel") != std::string::npos);
}

TEST_CASE("renamed options: the old names still work, saying the new ones, loose arguments are "
          "refused",
          "[decode][cli]") {
  TempDir dir("decode-aliases");
  const std::string model = tiny_model(dir);
  write_text(dir.file("in.txt"), "the cat sat on the mat\nthe dog\n");
  auto now = run_attnmt(fmt::format(
      "translate -m '{}' -i '{}' --max-output-length 3 --max-input-length 4 --threads 1", model,
      dir.file("in.txt")));
  REQUIRE(now.exit_code == 0);
  auto old = run_attnmt(fmt::format(
      "translate -m '{}' -i '{}' --max-length=3 --max-source-length 4 --threads 1", model,
      dir.file("in.txt")));
  REQUIRE(old.exit_code == 0);
  CHECK(old.out == now.out);
  CHECK(old.err.find("'max-length' is now 'max-output-length'") != std::string::npos);
  CHECK(old.err.find("'max-source-length' is now 'max-input-length'") != std::string::npos);
  CHECK(now.err.find("is now") == std::string::npos);
  // align's old --level and --max-length (which cut its inputs).
  auto a_now = run_attnmt(fmt::format(
      "align -m '{}' --src '{}' --tgt '{}' --format pharaoh --alignment-level piece "
      "--max-input-length 2",
      model, dir.file("in.txt"), dir.file("in.txt")));
  auto a_old = run_attnmt(
      fmt::format("align -m '{}' --src '{}' --tgt '{}' --format pharaoh --level piece "
                  "--max-length 2",
                  model, dir.file("in.txt"), dir.file("in.txt")));
  REQUIRE(a_now.exit_code == 0);
  REQUIRE(a_old.exit_code == 0);
  CHECK(a_old.out == a_now.out);
  CHECK(a_old.err.find("'level' is now 'alignment-level'") != std::string::npos);
  // An input file without -i was silently ignored (stdin was read): now a usage error.
  auto loose = run_attnmt(fmt::format("translate -m '{}' '{}'", model, dir.file("in.txt")));
  CHECK(loose.exit_code == 2);
  CHECK(loose.err.find("-i FILE") != std::string::npos);
  // A value out of range is refused before the model is read.
  auto beam = run_attnmt("translate -m no-such-model --beam 0");
  CHECK(beam.exit_code == 2);
  CHECK(beam.err.find("--beam must be between 1 and 100") != std::string::npos);
}

TEST_CASE("every command refuses --threads below 0 or above 1024, before reading anything",
          "[e2e][translate]") {
  // Tens of thousands crashed the OpenMP runtime; a negative count was taken as "all cores".
  const std::string too_many = "--threads must be from 0 (all cores) to 1024";
  for (const char* cmd : {"translate -m no-such-model", "serve -m no-such-model",
                          "align -m no-such-model --src no-such --format soft"})
    for (const char* n : {"-1", "100000"}) {
      auto threads = run_attnmt(fmt::format("{} --threads {}", cmd, n));
      INFO(cmd << " --threads " << n);
      CHECK(threads.exit_code == 2);
      CHECK(threads.err.find(too_many) != std::string::npos);
    }
  auto vocab = run_attnmt("vocab --src no-such --tgt no-such --size 100 -o v --threads 100000");
  CHECK(vocab.exit_code == 2);
  CHECK(vocab.err.find(too_many) != std::string::npos);
}
