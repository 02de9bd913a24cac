// Choosing how a model aligns, on pairs with gold word alignments: every source-attention map
// (each decoder layer, each head and the heads' average), read with each alignment method and
// each word aggregation, and the saliency matrices (decode/forced.h), scored by AER against the
// gold links. One teacher-forced pass gives every map (forced_attention_maps), and one
// forced_saliency the gradients. Behind
// `attnmt align --calibrate GOLD`, which prints the table and can write the model with the best
// layer and head as its own (align_layer, align_head).
// Not here: the AER itself (eval/aer.h), the alignment formats (decode/alignment.h).
#pragma once

#include <string>
#include <vector>

#include "decode/alignment.h"
#include "eval/aer.h"
#include "models/seq2seq.h"
#include "text/vocab.h"

namespace attnmt {

struct AlignmentSetting {
  AlignmentMethod method = AlignmentMethod::kPrediction;
  int layer = 0;  // decoder layer (the LSTM: 0, its one map); -1 for saliency (no map)
  int head = -1;  // -1: the heads' average (and saliency)
  WordAggregate aggregate = WordAggregate::kSum;
  LinkRule links;  // how hard links are read: extraction and diagonal tension
};

// The diagonal tensions the table tries (0: none).
inline constexpr float kCalibratedDiagonals[] = {0, 2, 4, 8, 16};

struct CalibrationRow {
  AlignmentSetting setting;
  eval::AerScore score;      // on all the pairs
  eval::AerScore halves[2];  // on the even-numbered pairs (0, 2, ...) and the odd-numbered ones
};

// src[i], tgt[i]: the lines of pair i; gold[i]: its links as (source word, target word) of
// this model's direction. Word level, EOS left out, links read as `align --format pharaoh`
// reads them under each LinkRule (both extractions x kCalibratedDiagonals). Rows sorted by AER,
// best first (ties: higher precision, then the order of the loops, which puts the plainer
// setting first). Lines are cut at max_input_pieces.
std::vector<CalibrationRow> calibrate_alignment(Seq2Seq& model, const Vocab& vocab,
                                                const std::vector<std::string>& src,
                                                const std::vector<std::string>& tgt,
                                                const std::vector<eval::Links>& gold,
                                                int max_input_pieces, int batch_size = 32);

// The first row that reads attention (not saliency), or null: the layer and head a calibrated
// model keeps for --alignment-method prediction or shifted also when saliency is best.
const CalibrationRow* best_attention_row(const std::vector<CalibrationRow>& rows);

// What calibrating is worth on pairs it did not see: the setting best on the even-numbered
// pairs scored on the odd-numbered ones, plus the setting best on those scored on the even ones
// (ties as in the table). The table's first row is scored on the pairs that chose it, so it is
// optimistic; this is the figure to expect on new pairs.
eval::AerScore held_out_score(const std::vector<CalibrationRow>& rows);

}  // namespace attnmt
