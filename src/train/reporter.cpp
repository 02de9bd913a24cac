// Progress and log lines of training: stderr (a live line on a terminal) and the --log file.
#include "train/reporter.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>

#include "tensor/error.h"

namespace attnmt {

Reporter::Reporter(const TrainOptions& o, bool speaks)
    : quiet_(o.quiet || !speaks),
      live_(!quiet_ && (o.progress || isatty(STDERR_FILENO))) {
  if (speaks && !o.log_file.empty()) {
    log_.open(o.log_file, std::ios::app);
    ATTNMT_CHECK(log_.good(), "cannot open log file '{}' for writing", o.log_file);
    curves_ = CurveLog(curve_record_path(o.log_file));
  }
}

Reporter::~Reporter() {
  if (live_) fmt::print(stderr, "\n");
}

void Reporter::line(const std::string& s) {
  if (!quiet_) fmt::print(stderr, "{}{}\n", live_ ? "\r\033[K" : "", s);
  if (log_.is_open()) log_ << s << '\n' << std::flush;
}

void Reporter::progress(const std::string& s, bool also_log) {
  if (live_)
    fmt::print(stderr, "\r\033[K{}", s);
  else if (also_log && !quiet_)
    fmt::print(stderr, "{}\n", s);
  if (also_log && log_.is_open()) log_ << s << '\n' << std::flush;
}

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  int64_t t = static_cast<int64_t>(s);
  return t >= 3600 ? fmt::format("{}h{:02}m", t / 3600, t / 60 % 60)
                   : fmt::format("{}m{:02}s", t / 60, t % 60);
}

}  // namespace attnmt
