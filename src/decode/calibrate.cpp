// The alignment calibration table (see calibrate.h).
#include "decode/calibrate.h"

#include <algorithm>

#include "decode/forced.h"
#include "decode/translator.h"
#include "tensor/error.h"

namespace attnmt {

namespace {

// The heads' average of one layer's maps [T][S].
Matrix average(const std::vector<Matrix>& heads) {
  Matrix out = heads.front();
  for (size_t h = 1; h < heads.size(); ++h)
    for (size_t r = 0; r < out.size(); ++r)
      for (size_t c = 0; c < out[r].size(); ++c) out[r][c] += heads[h][r][c];
  for (auto& row : out)
    for (float& v : row) v /= static_cast<float>(heads.size());
  return out;
}

}  // namespace

std::vector<CalibrationRow> calibrate_alignment(Seq2Seq& model, const Vocab& vocab,
                                                const std::vector<std::string>& src,
                                                const std::vector<std::string>& tgt,
                                                const std::vector<eval::Links>& gold,
                                                int max_input_pieces, int batch_size) {
  ATTNMT_CHECK(src.size() == tgt.size() && src.size() == gold.size(),
               "calibration: {} sources, {} targets and {} gold alignments: they must be "
               "line-parallel",
               src.size(), tgt.size(), gold.size());
  const int cut = input_cut(model, max_input_pieces);
  const EncodedWindow s = encode_window(vocab, src, cut);
  const EncodedWindow t = encode_window(vocab, tgt, cut);
  const std::vector<PairAttention> maps = forced_attention_maps(model, s.ids, t.ids, batch_size);
  const std::vector<Matrix> saliency = forced_saliency(model, s.ids, t.ids);
  const std::vector<Matrix> occlusion = forced_occlusion(model, s.ids, t.ids);
  // The settings, in the order of the table's ties: layer, head (average first), method,
  // aggregation, extraction, diagonal; saliency and occlusion (no layer or head) last.
  std::vector<AlignmentSetting> settings;
  size_t layers = 0, heads = 0;
  for (const PairAttention& p : maps)
    if (!p.source.empty()) layers = p.source.size(), heads = p.source.front().size();
  ATTNMT_CHECK(layers > 0, "calibration: no pair has text on both sides");
  // A layer of one head (the LSTM's) has only its "average".
  const int last_head = heads > 1 ? static_cast<int>(heads) : 0;
  for (int l = 0; l < static_cast<int>(layers); ++l)
    for (int h = -1; h < last_head; ++h)
      for (AlignmentMethod m : {AlignmentMethod::kPrediction, AlignmentMethod::kShifted})
        for (WordAggregate a : {WordAggregate::kSum, WordAggregate::kMean, WordAggregate::kMax})
          for (LinkExtraction e : {LinkExtraction::kTarget, LinkExtraction::kGrow})
            for (float diagonal : kCalibratedDiagonals) settings.push_back({m, l, h, a, {e, diagonal}});
  for (AlignmentMethod m : {AlignmentMethod::kSaliency, AlignmentMethod::kOcclusion})
    for (WordAggregate a : {WordAggregate::kSum, WordAggregate::kMean, WordAggregate::kMax})
      for (LinkExtraction e : {LinkExtraction::kTarget, LinkExtraction::kGrow})
        for (float diagonal : kCalibratedDiagonals) settings.push_back({m, -1, -1, a, {e, diagonal}});
  std::vector<CalibrationRow> rows(settings.size());
  for (size_t k = 0; k < settings.size(); ++k) rows[k].setting = settings[k];
  // Each pair's word-level matrix is made once per (layer, head, method, aggregation), the run
  // of consecutive rows that differ only in their LinkRule.
  for (size_t i = 0; i < maps.size(); ++i) {
    Alignment a;
    for (size_t k = 0; k < rows.size(); ++k) {
      const AlignmentSetting& st = rows[k].setting;
      eval::Links proposed;
      if (!maps[i].source.empty()) {
        const AlignmentSetting* prev = k ? &rows[k - 1].setting : nullptr;
        if (!prev || prev->layer != st.layer || prev->head != st.head ||
            prev->method != st.method || prev->aggregate != st.aggregate) {
          Hypothesis h;
          h.tokens = t.ids[i];
          if (st.method == AlignmentMethod::kSaliency) {
            h.attention = saliency[i];
          } else if (st.method == AlignmentMethod::kOcclusion) {
            h.attention = occlusion[i];
          } else {
            const std::vector<Matrix>& layer = maps[i].source[st.layer];
            h.attention = st.head < 0 ? average(layer) : layer[st.head];
          }
          a = hypothesis_alignment(vocab, s.ids[i], h, true, st.method, false, &s.labels[i],
                                   &t.labels[i], st.aggregate);
        }
        for (const auto& link : hard_alignment(a, st.links)) proposed.sure.insert(link);
        proposed.possible = proposed.sure;
      }
      rows[k].score.add(proposed, gold[i]);
      rows[k].halves[i % 2].add(proposed, gold[i]);
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const CalibrationRow& a, const CalibrationRow& b) {
    if (a.score.aer() != b.score.aer()) return a.score.aer() < b.score.aer();
    return a.score.precision() > b.score.precision();
  });
  return rows;
}

const CalibrationRow* best_attention_row(const std::vector<CalibrationRow>& rows) {
  for (const CalibrationRow& r : rows)
    if (reads_attention(r.setting.method)) return &r;
  return nullptr;
}

eval::AerScore held_out_score(const std::vector<CalibrationRow>& rows) {
  ATTNMT_CHECK(!rows.empty(), "calibration: no settings were scored");
  eval::AerScore out;
  for (int half : {0, 1}) {
    // The order of `rows` breaks ties, as in the table.
    const CalibrationRow* best = &rows.front();
    for (const CalibrationRow& r : rows) {
      const eval::AerScore &a = r.halves[half], &b = best->halves[half];
      if (a.aer() < b.aer() || (a.aer() == b.aer() && a.precision() > b.precision())) best = &r;
    }
    out += best->halves[1 - half];
  }
  return out;
}

}  // namespace attnmt
