// What training says while it runs: permanent lines and a live progress line on stderr (the
// live line only on a terminal, or with --progress), the same lines in the --log file and the
// learning curve in LOG.tsv. Under mpirun only rank 0 reports (the others are made quiet).
// Not here: what the lines say (train/trainer.cpp).
#pragma once

#include <fstream>
#include <string>

#include "train/curve_log.h"
#include "train/options.h"

namespace attnmt {

class Reporter {
 public:
  // `speaks` false: nothing is printed or logged (the ranks other than 0).
  Reporter(const TrainOptions& options, bool speaks);
  ~Reporter();
  void point(const CurvePoint& p) { curves_.add(p); }  // the --log file's .tsv record
  void line(const std::string& s);                     // a permanent line
  // The live line; with also_log, a permanent line where there is no live one, and in the log.
  void progress(const std::string& s, bool also_log);

 private:
  bool quiet_, live_;
  std::ofstream log_;
  CurveLog curves_;
};

// "4m05s", "1h02m"; "?" for a negative or unknown time.
std::string format_duration(double seconds);

}  // namespace attnmt
