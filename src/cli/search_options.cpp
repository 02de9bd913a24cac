#include "cli/search_options.h"

#include <fmt/format.h>

namespace attnmt::cli {

po::options_description model_options(std::string& model_path, int& threads,
                                      Precision& precision, std::string& max_memory) {
  po::options_description d("model");
  d.add_options()
      ("model,m", po::value(&model_path)->required(), "the model file")
      ("threads", value_of(&threads), "threads (0 = all cores)")
      ("precision", value_of(&precision),
       with_choices<Precision>("matrix products: auto = bf16 where the CPU has AMX-BF16 or "
                               "AVX512-BF16, else fp32; int8 = quantised weights and "
                               "activations (AVX2 and up; best with VNNI), results change "
                               "slightly").c_str());
  add_max_memory_option(d, max_memory);
  return d;
}

ResolvedPrecision use_precision(Precision requested) {
  ResolvedPrecision r = resolve_precision(requested, PrecisionUse::kTranslation, cpu_features());
  set_precision(r.precision);
  return r;
}

po::options_description search_options(TranslateOptions& t) {
  SearchOptions& s = t.search;
  po::options_description d("search");
  d.add_options()
      ("beam,b", value_of(&s.beam), "beam width")
      ("greedy", po::bool_switch(&s.greedy), "greedy search (the result of --beam 1, faster)")
      ("length-penalty", value_of(&s.length_penalty),
       "A in logprob / len^A (0 = no length normalisation)")
      ("max-output-length", value_of(&s.max_length), "output pieces <= N whatever the input")
      ("max-output-ratio", value_of(&s.max_length_ratio),
       "output pieces <= R x input pieces + extra")
      ("max-output-extra", value_of(&s.max_length_extra), "the extra above");
  return d;
}

po::options_description batch_options(TranslateOptions& t) {
  po::options_description d("batching");
  d.add_options()
      ("batch-size", value_of(&t.batch_size), "sentences per batch")
      ("batch-tokens", value_of(&t.batch_tokens),
       "budget per batch: sentences x longest input x beam (0 = none)")
      ("max-input-length", value_of(&t.max_input_pieces),
       "cut longer input lines to N pieces (counted in a warning)");
  return d;
}

po::options_description alignment_level_option(TranslateOptions& t) {
  po::options_description d("alignment");
  d.add_options()
      ("alignment-level", value_of(&t.level),
       with_choices<AlignmentLevel>("link the space-separated words, or the pieces").c_str())
      ("alignment-method", po::value(&t.method),  // its default depends on the output
       with_choices<AlignmentMethod>("a target token's attention: of the step that predicts "
                                     "it, or of the next step, where it is the input; or, "
                                     "slower and better, its saliency (gradients) or "
                                     "occlusion (each source piece hidden in turn); "
                                     "default: the model's align.method, else occlusion "
                                     "for hard links and prediction for weights").c_str())
      ("alignment-aggregate", value_of(&t.aggregate),
       with_choices<WordAggregate>("word level: a source word's weight is the sum, mean or "
                                   "max of its pieces'").c_str())
      ("alignment-links", value_of(&t.links.extraction),
       with_choices<LinkExtraction>("hard links: each target word's best source word, or "
                                    "grow-diag-final-and of those and each source word's best "
                                    "target word").c_str())
      ("alignment-diagonal", value_of(&t.links.diagonal),
       "hard links favour the diagonal: weights x exp(-D |i/S - j/T|) (fast_align's tension; "
       "0 = none; default: the model's)")
      ("alignment-layer", po::value(&t.align_layer),
       "Transformer: the decoder layer whose source attention aligns, from 0 (-1 = the last; "
       "default: the model's, align_layer in `attnmt info`)")
      ("alignment-head", po::value(&t.align_head),
       "Transformer: the head that aligns, from 0 (-1 = the heads' average; default: the "
       "model's)");
  return d;
}

void note_given(const po::variables_map& vm, TranslateOptions& t) {
  auto given = [&](const char* name) { return vm.count(name) && !vm[name].defaulted(); };
  t.method_given = given("alignment-method");
  t.aggregate_given = given("alignment-aggregate");
  t.links_given = given("alignment-links");
  t.diagonal_given = given("alignment-diagonal");
}

namespace {

// The model file's align.diagonal: a number from 0 to 1000.
float diagonal_setting(const std::string& text, const std::string& path) {
  float d = -1;
  try {
    size_t n = 0;
    d = std::stof(text, &n);
    if (n != text.size()) d = -1;
  } catch (const std::exception&) {
  }
  if (!(d >= 0 && d <= 1000))
    fail("model file '{}': setting align.diagonal must be a number from 0 to 1000, got '{}'",
         path, text);
  return d;
}

}  // namespace

LoadedModel load_aligning_model(const std::string& path, TranslateOptions& t,
                                AlignmentUse use) {
  ModelFile file = load_model_file(path);
  const std::string* method = file.find_config("align.method");
  if (method && !t.method_given)
    t.method = parse_choice<AlignmentMethod>(*method, "model setting align.method");
  if (!method && !t.method_given && use == AlignmentUse::kLinks) {
    t.method = AlignmentMethod::kOcclusion;
    fmt::print(stderr,
               "attnmt: word links of '{}' by occlusion, the most accurate way (a forward pass "
               "per source piece); --alignment-method prediction reads the attention, 30 to "
               "40x faster\n",
               path);
  }
  // Occlusion's own reading, where the command line did not choose (the file's settings below
  // still do): a word weighs its strongest piece, both argmaxes grown, a mild diagonal
  // tension. Its rows are sparse (a source piece that costs nothing is an exact zero), and this
  // reading was the best, or within 1.1 AER points of it, for each model measured on
  // German-English gold (docs/BENCHMARKS.md, issue 16, session 13).
  if (t.method == AlignmentMethod::kOcclusion) {
    if (!t.aggregate_given) t.aggregate = WordAggregate::kMax;
    if (!t.links_given) t.links.extraction = LinkExtraction::kGrow;
    if (!t.diagonal_given) t.links.diagonal = 2;
  }
  if (const std::string* v = file.find_config("align.aggregate"); v && !t.aggregate_given)
    t.aggregate = parse_choice<WordAggregate>(*v, "model setting align.aggregate");
  if (const std::string* v = file.find_config("align.links"); v && !t.links_given)
    t.links.extraction = parse_choice<LinkExtraction>(*v, "model setting align.links");
  if (const std::string* v = file.find_config("align.diagonal"); v && !t.diagonal_given)
    t.links.diagonal = diagonal_setting(*v, path);
  if (t.align_layer != TranslateOptions::kModelsChoice)
    file.set_config("align_layer", std::to_string(t.align_layer));
  if (t.align_head != TranslateOptions::kModelsChoice)
    file.set_config("align_head", std::to_string(t.align_head));
  return model_from_file(std::move(file));
}

void warn_cut(const char* command, int64_t n, const Seq2Seq& model, int max_input_pieces) {
  if (n == 0) return;
  const int cut = input_cut(model, max_input_pieces);
  fmt::print(stderr, "attnmt {}: warning: {} line(s) longer than {} pieces were cut ({})\n",
             command, n, cut,
             cut < max_input_pieces
                 ? fmt::format("the model holds {} positions, EOS included", model.max_positions())
                 : std::string("raise --max-input-length"));
}

}  // namespace attnmt::cli
