// Vocab over sentencepiece::SentencePieceProcessor, and vocabulary training through the
// library's trainer API fed by our validating reader (no temp files, no shelling out).
#include "text/vocab.h"

#include <fmt/format.h>
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <unordered_map>

#include "tensor/error.h"
#include "tensor/random.h"
#include "tensor/threads.h"

namespace attnmt {

namespace {

const sentencepiece::SentencePieceProcessor& need(
    const std::shared_ptr<const sentencepiece::SentencePieceProcessor>& sp) {
  ATTNMT_CHECK(sp != nullptr, "the vocabulary is not loaded");
  return *sp;
}

// Writes `bytes` to `path` through a temporary file and a rename, so that an interrupted run
// never leaves a half-written model behind.
void write_atomically(const std::string& path, const std::string& bytes) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail("cannot write '{}': check that the folder exists and is writable", tmp);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      fail("writing '{}' failed (disk full?)", tmp);
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    fail("cannot rename '{}' to '{}': {}", tmp, path, ec.message());
  }
}

// Feeds the trainer from memory: the sentences were validated and sampled by us.
class VectorIterator : public sentencepiece::SentenceIterator {
 public:
  explicit VectorIterator(const std::vector<const std::string*>& v) : v_(v) {}
  bool done() const override { return i_ >= v_.size(); }
  void Next() override { ++i_; }
  const std::string& value() const override { return *v_[i_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const std::vector<const std::string*>& v_;
  size_t i_ = 0;
};

// The .vocab text SentencePiece writes beside a model: "piece<TAB>score" per line
// (integer scores for BPE, as spm_train does).
std::string vocab_listing(const Vocab& vocab, const sentencepiece::SentencePieceProcessor& sp,
                          bool bpe) {
  std::ostringstream out;
  for (int id = 0; id < vocab.size(); ++id) {
    out << sp.IdToPiece(id) << '\t';
    if (bpe)
      out << static_cast<int>(sp.GetScore(id));
    else
      out << sp.GetScore(id);
    out << '\n';
  }
  return out.str();
}

}  // namespace

Vocab Vocab::checked(std::shared_ptr<sentencepiece::SentencePieceProcessor> sp,
                     const std::string& origin) {
  if (sp->pad_id() != kPadId || sp->unk_id() != kUnkId || sp->bos_id() != kBosId ||
      sp->eos_id() != kEosId)
    fail(
        "{}: special ids are pad={} unk={} bos={} eos={}, attnmt needs pad=0 unk=1 bos=2 eos=3; "
        "train the vocabulary with 'attnmt vocab'",
        origin, sp->pad_id(), sp->unk_id(), sp->bos_id(), sp->eos_id());
  Vocab v;
  v.sp_ = std::move(sp);
  return v;
}

Vocab Vocab::load(const std::string& model_path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(model_path, ec))
    fail("vocabulary '{}' does not exist or is not a file: check the path", model_path);
  auto sp = std::make_shared<sentencepiece::SentencePieceProcessor>();
  sentencepiece::util::Status status;
  try {
    status = sp->Load(model_path);
  } catch (const std::exception& e) {  // SentencePiece's trie builder throws on damaged pieces
    fail("cannot load SentencePiece model '{}': its pieces are damaged ({})", model_path, e.what());
  }
  if (!status.ok()) fail("cannot load SentencePiece model '{}': {}", model_path, status.ToString());
  return checked(std::move(sp), model_path);
}

Vocab Vocab::from_serialized(const std::string& bytes, const std::string& origin) {
  auto sp = std::make_shared<sentencepiece::SentencePieceProcessor>();
  sentencepiece::util::Status status;
  try {
    status = sp->LoadFromSerializedProto(bytes);
  } catch (const std::exception& e) {  // found by fuzz_model_file: a damaged piece list
    fail("{}: a damaged SentencePiece model ({})", origin, e.what());
  }
  if (!status.ok()) fail("{}: not a SentencePiece model: {}", origin, status.ToString());
  return checked(std::move(sp), origin);
}

std::string Vocab::serialized() const { return need(sp_).serialized_model_proto(); }

std::vector<int> Vocab::encode(std::string_view text) const {
  std::vector<int> ids;
  auto status = need(sp_).Encode(text, &ids);
  if (!status.ok()) fail("cannot encode text: {}", status.ToString());
  return ids;
}

std::vector<int> Vocab::encode(std::string_view text, std::vector<std::string>& labels) const {
  const auto spt = need(sp_).EncodeAsImmutableProto(text);
  std::vector<int> ids;
  labels.clear();
  for (const auto& p : spt.pieces()) {
    ids.push_back(static_cast<int>(p.id()));
    labels.push_back(p.id() == kUnkId ? p.surface() : p.piece());
  }
  return ids;
}

std::string Vocab::decode(std::span<const int> ids) const {
  const auto& sp = need(sp_);
  std::vector<int> kept;
  kept.reserve(ids.size());
  for (int id : ids) {
    if (id == kPadId || id == kBosId || id == kEosId) continue;
    if (id < 0 || id >= sp.GetPieceSize()) fail("decode: piece id {} out of range", id);
    kept.push_back(id);
  }
  std::string text;
  auto status = sp.Decode(kept, &text);
  if (!status.ok()) fail("cannot decode ids: {}", status.ToString());
  return text;
}

std::vector<std::string> Vocab::pieces(std::span<const int> ids) const {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (int id : ids) out.push_back(piece(id));
  return out;
}

std::string Vocab::piece(int id) const {
  const auto& sp = need(sp_);
  if (id < 0 || id >= sp.GetPieceSize()) fail("piece id {} out of range [0, {})", id, size());
  return sp.IdToPiece(id);
}

int Vocab::size() const { return sp_ ? sp_->GetPieceSize() : 0; }

std::vector<int> Vocab::word_starts(const std::vector<std::string>& pieces) {
  std::vector<int> word(pieces.size());
  int w = -1;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (i == 0 || pieces[i].starts_with(kWordMark)) ++w;
    word[i] = w;
  }
  return word;
}

std::vector<std::string> Vocab::words(const std::vector<std::string>& pieces) {
  std::vector<int> word = word_starts(pieces);
  std::vector<std::string> out(pieces.empty() ? 0 : word.back() + 1);
  for (size_t i = 0; i < pieces.size(); ++i) {
    std::string_view p = pieces[i];
    if (p.starts_with(kWordMark)) p.remove_prefix(kWordMark.size());
    out[word[i]] += p;
  }
  return out;
}

namespace {

// SentencePiece's own words for a size that does not fit, turned into which sizes do.
std::string explain_trainer_error(const std::string& text, const VocabOptions& o) {
  std::smatch m;
  // "Vocabulary size is smaller than required_chars. 5 vs 30."
  if (std::regex_search(text, m, std::regex(R"(smaller than required_chars\. (\d+) vs (\d+))"))) {
    return fmt::format(
        "{} pieces are too few: this text needs at least {} (a piece for every character kept at "
        "--character-coverage {}, and the special pieces); ask for at least {} with {}, or lower "
        "--character-coverage",
        o.size, m[2].str(), o.character_coverage, m[2].str(), o.size_option);
  }
  // "Vocabulary size too high (40). Please set it to a value <= 37."
  if (std::regex_search(text, m, std::regex(R"(Vocabulary size too high.*<= (\d+))")))
    return fmt::format("this corpus gives at most {} pieces of this type; ask for at most that "
                       "many with {} (or use the unigram model, which takes the size as a limit)",
                       m[1].str(), o.size_option);
  return text + fmt::format("; if the corpus is too small for that many pieces, try a smaller {}",
                            o.size_option);
}

}  // namespace

VocabResult train_vocab(const VocabOptions& o) {
  if (o.size < 5) fail("vocabulary size {} is too small: it must be at least 5", o.size);
  if (o.character_coverage <= 0 || o.character_coverage > 1)
    fail("character coverage {} must be in (0, 1]", o.character_coverage);
  if (o.prefix.empty()) fail("no output prefix given");
  // Fail before the training, not after it.
  std::filesystem::path folder = std::filesystem::path(o.prefix).parent_path();
  std::error_code ec;
  if (!folder.empty() && !std::filesystem::is_directory(folder, ec))
    fail("output folder '{}' (of prefix '{}') does not exist: create it first", folder.string(),
         o.prefix);

  // Read and validate every pair; keep a uniform sample of max_lines pairs (reservoir).
  ParallelReader reader(o.src, o.tgt, o.reader);
  std::vector<SentencePair> sample;
  Rng rng(o.seed);
  SentencePair pair;
  int64_t seen = 0;
  while (reader.next(pair)) {
    ++seen;
    if (o.max_lines <= 0 || static_cast<int64_t>(sample.size()) < o.max_lines) {
      sample.push_back(std::move(pair));
    } else {
      uint64_t j = rng.next() % static_cast<uint64_t>(seen);
      if (j < static_cast<uint64_t>(o.max_lines)) sample[j] = std::move(pair);
    }
  }
  VocabResult result;
  result.stats = reader.stats();
  result.sentences = static_cast<int64_t>(sample.size());
  if (sample.empty())
    fail("no usable sentence pairs in '{}' / '{}' ({})", o.src, o.tgt, describe(result.stats));

  int threads = o.threads > 0 ? o.threads : get_threads();
  sentencepiece::SetRandomGeneratorSeed(static_cast<unsigned>(o.seed));

  // One model per entry: joint (both sides) or separate src / tgt.
  struct Job {
    std::string prefix;
    bool use_src, use_tgt;
  };
  std::vector<Job> jobs;
  if (o.separate)
    jobs = {{o.prefix + ".src", true, false}, {o.prefix + ".tgt", false, true}};
  else
    jobs = {{o.prefix, true, true}};

  std::vector<std::pair<std::string, std::string>> outputs;  // (path, bytes), written at the end
  for (const Job& job : jobs) {
    std::vector<const std::string*> sentences;
    sentences.reserve(sample.size() * 2);
    if (job.use_src)
      for (const auto& p : sample) sentences.push_back(&p.src);
    if (job.use_tgt)
      for (const auto& p : sample) sentences.push_back(&p.tgt);
    std::unordered_map<std::string, std::string> kwargs = {
        {"vocab_size", std::to_string(o.size)},
        {"model_type", std::string(name_of(o.model_type))},
        {"character_coverage", fmt::format("{}", o.character_coverage)},
        {"pad_id", std::to_string(kPadId)},
        {"unk_id", std::to_string(kUnkId)},
        {"bos_id", std::to_string(kBosId)},
        {"eos_id", std::to_string(kEosId)},
        {"num_threads", std::to_string(threads)},
        {"input_sentence_size", "0"},      // we sampled already
        {"max_sentence_length", "65536"},  // bytes; the default would drop long lines silently
        {"minloglevel", "1"},              // keep SentencePiece's progress log quiet
        // Unigram: the size is an upper limit, so a small corpus gives a smaller vocabulary
        // instead of an error. (The other types do not support it.)
        {"hard_vocab_limit", o.model_type == PieceModel::kUnigram ? "false" : "true"},
    };
    VectorIterator it(sentences);
    std::string proto;
    auto status = sentencepiece::SentencePieceTrainer::Train(kwargs, &it, &proto);
    if (!status.ok()) {
      std::string files = job.use_src && job.use_tgt ? fmt::format("'{}' + '{}'", o.src, o.tgt)
                          : job.use_src              ? fmt::format("'{}'", o.src)
                                                     : fmt::format("'{}'", o.tgt);
      fail("training a {}-piece {} vocabulary on {} ({} sentences) failed: {}", o.size,
           name_of(o.model_type), files, sentences.size(),
           explain_trainer_error(status.ToString(), o));
    }
    Vocab vocab = Vocab::from_serialized(proto, job.prefix + ".model");
    if (!result.pieces) result.pieces = vocab.size();
    sentencepiece::SentencePieceProcessor sp;
    (void)sp.LoadFromSerializedProto(proto);
    outputs.emplace_back(job.prefix + ".model", proto);
    outputs.emplace_back(job.prefix + ".vocab", vocab_listing(vocab, sp, o.model_type == PieceModel::kBpe));
  }
  // Nothing is written until every model trained.
  for (const auto& [path, bytes] : outputs) {
    write_atomically(path, bytes);
    result.written.push_back(path);
  }
  return result;
}

}  // namespace attnmt
