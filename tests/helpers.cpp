#include "helpers.h"

#include <array>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <sys/wait.h>

namespace attnmt::testing {

RunResult run_shell(const std::string& command) {
  TempDir tmp("run");
  std::string out = tmp.file("out"), err = tmp.file("err");
  // In braces: the redirections apply to the whole command line, lists and pipes included.
  std::string full = "{ " + command + "\n} >" + out + " 2>" + err + " </dev/null";
  int status = std::system(full.c_str());
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return {code, read_text(out), read_text(err)};
}

Rng& test_rng(uint64_t salt) {
  static Rng rng;
  static std::string seeded_for;
  const std::string name = Catch::getResultCapture().getCurrentTestName();
  const std::string key = name + "#" + std::to_string(salt);
  if (key != seeded_for) {
    rng = Rng(std::hash<std::string>{}(name) ^ salt);
    seeded_for = key;
  }
  return rng;
}

RunResult run_attnmt(const std::string& args) {
  return run_shell(std::string("'") + ATTNMT_BINARY + "' " + args);
}

TempDir::TempDir(const std::string& tag) {
  std::random_device rd;
  path_ = fs::temp_directory_path() / (tag + "-" + std::to_string(rd()) + std::to_string(rd()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string shared_enja_dir() {
  fs::path dir = fs::path(ATTNMT_SHARED_DIR) / "corpora" / "small_parallel_enja";
  return fs::exists(dir / "train.en") ? dir.string() : std::string();
}

}  // namespace attnmt::testing

#include <map>
#include <set>
#include <vector>

#include "models/model_io.h"
#include "text/batch.h"
#include "text/corpus.h"
#include "train/validation.h"

namespace attnmt::testing {

std::string diagonal_gold(const std::vector<std::string>& lines, bool next_word) {
  std::string gold;
  for (const std::string& line : lines) {
    std::istringstream in(line);
    int n = 0;
    for (std::string w; in >> w;) ++n;
    for (int j = 0; j < n; ++j)
      gold += (j ? " " : "") + std::to_string(next_word && j + 1 < n ? j + 1 : j) + "-" +
              std::to_string(j);
    gold += "\n";
  }
  return gold;
}

void write_tiny_corpus(const std::string& dir, int n) {
  const std::vector<std::pair<std::string, std::string>> lexicon = {
      {"red", "rojo"},   {"blue", "azul"},    {"green", "verde"}, {"cat", "gato"},
      {"dog", "perro"},  {"bird", "pajaro"},  {"sees", "ve"},     {"likes", "quiere"},
      {"big", "grande"}, {"small", "chico"},  {"the", "el"},      {"a", "un"},
      {"house", "casa"}, {"tree", "arbol"}};
  std::mt19937 gen(3);
  std::set<std::vector<int>> seen;
  std::string en, es;
  while (static_cast<int>(seen.size()) < n) {
    int len = 2 + static_cast<int>(gen() % 4);
    std::vector<int> words;
    for (int i = 0; i < len; ++i) words.push_back(static_cast<int>(gen() % lexicon.size()));
    if (!seen.insert(words).second) continue;
    for (int i = 0; i < len; ++i) en += (i ? " " : "") + lexicon[words[i]].first;
    for (int i = len - 1; i >= 0; --i) es += lexicon[words[i]].second + (i ? " " : "");
    en += "\n";
    es += "\n";
  }
  write_text(dir + "/train.en", en);
  write_text(dir + "/train.es", es);
}

}  // namespace attnmt::testing

namespace attnmt::testing {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

Vocab train_test_vocab(const std::string& src, const std::string& tgt, int size,
                       const std::string& prefix) {
  VocabOptions vo;
  vo.src = src;
  vo.tgt = tgt;
  vo.size = size;
  vo.prefix = prefix;
  vo.threads = 1;
  train_vocab(vo);
  return Vocab::load(prefix + ".model");
}

int count_memorised(const std::string& model_path, const std::string& dir, int64_t& n_pairs) {
  LoadedModel m = load_model(model_path);
  ParallelCorpus c = load_corpus(dir + "/train.en", dir + "/train.es", m.vocab, m.vocab);
  // What `attnmt translate --greedy` writes (the validation's translations are the same).
  std::vector<std::string> out = validation_translations(*m.model, c, m.vocab, c.size());
  int exact = 0;
  for (int64_t i = 0; i < c.size(); ++i) {
    const std::string want = m.vocab.decode(c.tgt[i]);
    if (out[i] == want) ++exact;
    else UNSCOPED_INFO("line " << i << ": got '" << out[i] << "' want '" << want << "'");
  }
  n_pairs = c.size();
  return exact;
}

}  // namespace attnmt::testing
