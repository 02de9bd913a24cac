// Learning curves as one standalone SVG 1.1 picture (`attnmt plot`): four panels, dev BLEU and
// loss (training loss solid, dev cross-entropy dashed) against minutes and against steps, one
// colour per run, with a legend. Input: the records `train --log` writes (curve_log.h).
#pragma once

#include <string>
#include <vector>

#include "train/curve_log.h"

namespace attnmt {

// `title` goes above the panels ("" = none). Throws Error when no run has a single point.
std::string curves_svg(const std::vector<Curve>& runs, const std::string& title = "");

// Axis ticks: about `target` round values (1, 2 or 5 times a power of ten) covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target = 5);

}  // namespace attnmt
