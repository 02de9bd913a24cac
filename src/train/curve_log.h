// The learning-curve record: `train --log FILE` also writes FILE.tsv, one row per logged
// window of training steps and one per validation, for `attnmt plot` and for spreadsheets.
//
//   step  minutes  lr  train_loss  dev_ce  dev_bleu      (tab-separated, a header line first)
//
// A value not measured at that row is "-" (a training row has no dev figures, a validation
// row no training loss; dev_bleu is "-" with --valid-bleu-sentences 0). minutes is training
// time (a resumed run continues its clock); rows are appended, so a resumed run continues its
// record.
// Not here: drawing the curves (curves_svg.h).
#pragma once

#include <cmath>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace attnmt {

struct CurvePoint {
  int64_t step = 0;
  double minutes = 0;
  double lr = NAN;
  double train_loss = NAN;  // per target token, label-smoothed, over the window
  double dev_ce = NAN;      // per target token, not smoothed
  double dev_bleu = NAN;
};

inline std::string curve_record_path(const std::string& log_file) { return log_file + ".tsv"; }

class CurveLog {
 public:
  CurveLog() = default;
  // Opens `path` for appending (the header when it is new or empty); throws Error when it
  // cannot be written.
  explicit CurveLog(const std::string& path);
  void add(const CurvePoint& p);  // no-op when not open

 private:
  std::ofstream out_;
  std::string path_;
};

struct Curve {
  std::string name;  // for legends: the file name without ".log.tsv" / ".tsv"
  std::vector<CurvePoint> points;
};

// Reads a record; PATH may also be the --log file itself (PATH.tsv is read then). Throws Error
// with file:line for a line that is not a row of this format.
Curve read_curve(const std::string& path);

}  // namespace attnmt
