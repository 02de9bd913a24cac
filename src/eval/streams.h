// The shape check shared by the corpus metrics: references come as streams [n_streams][n_lines]
// (sacreBLEU's layout: one stream per reference file), each as long as the hypotheses.
// Not here: reading files (cli/cmd_score.cpp).
#pragma once

#include <string>
#include <vector>

namespace attnmt::eval {

// Throws attnmt::Error when there is no stream or a stream's length differs from n_hyps.
void check_reference_streams(std::size_t n_hyps, const std::vector<std::vector<std::string>>& refs);

}  // namespace attnmt::eval
