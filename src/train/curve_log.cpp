#include "train/curve_log.h"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <sstream>

#include "tensor/error.h"

namespace attnmt {

namespace {

constexpr const char* kHeader = "step\tminutes\tlr\ttrain_loss\tdev_ce\tdev_bleu";

std::string cell(double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : "-"; }

double parse_cell(const std::string& s, const std::string& where, const char* column) {
  if (s == "-") return NAN;
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  ATTNMT_CHECK(ec == std::errc() && end == s.data() + s.size(),
               "{}: the {} '{}' is not a number (is this a `train --log` record?)", where, column,
               s);
  return v;
}

}  // namespace

CurveLog::CurveLog(const std::string& path) : path_(path) {
  std::error_code ec;
  const bool fresh =
      !std::filesystem::exists(path, ec) || std::filesystem::file_size(path, ec) == 0;
  out_.open(path, std::ios::app);
  ATTNMT_CHECK(out_.good(), "cannot open the learning-curve record '{}' for writing", path);
  if (fresh) out_ << kHeader << '\n' << std::flush;
}

void CurveLog::add(const CurvePoint& p) {
  if (!out_.is_open()) return;
  out_ << fmt::format("{}\t{:.4f}\t{}\t{}\t{}\t{}\n", p.step, p.minutes, cell(p.lr),
                      cell(p.train_loss), cell(p.dev_ce), cell(p.dev_bleu))
       << std::flush;
}

Curve read_curve(const std::string& given) {
  std::string path = given;
  if (!given.ends_with(".tsv") && std::filesystem::exists(curve_record_path(given)))
    path = curve_record_path(given);
  std::ifstream in(path);
  ATTNMT_CHECK(in.good(),
               "cannot read '{}': give the --log file of a training run or its .tsv "
               "record",
               given);
  Curve c;
  std::string stem = std::filesystem::path(path).filename().string();
  for (const char* suffix : {".tsv", ".log", ".txt"})
    if (stem.ends_with(suffix) && stem.size() > std::string(suffix).size())
      stem.resize(stem.size() - std::string(suffix).size());
  c.name = stem;
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    const std::string where = fmt::format("{}:{}", path, n);
    if (line == kHeader) continue;  // the first line, or a header of a resumed run
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string x; std::getline(fields, x, '\t');) f.push_back(x);
    ATTNMT_CHECK(f.size() == 6,
                 "{}: {} fields where a learning-curve row has 6 ({}); is this a `train --log` "
                 "record (FILE.tsv)?",
                 where, f.size(), kHeader);
    CurvePoint p;
    const double step = parse_cell(f[0], where, "step");
    ATTNMT_CHECK(std::isfinite(step) && step >= 0, "{}: the step '{}' is not a step number", where,
                 f[0]);
    p.step = static_cast<int64_t>(step);
    p.minutes = parse_cell(f[1], where, "minutes");
    ATTNMT_CHECK(std::isfinite(p.minutes), "{}: the row has no minutes", where);
    p.lr = parse_cell(f[2], where, "lr");
    p.train_loss = parse_cell(f[3], where, "train_loss");
    p.dev_ce = parse_cell(f[4], where, "dev_ce");
    p.dev_bleu = parse_cell(f[5], where, "dev_bleu");
    c.points.push_back(p);
  }
  ATTNMT_CHECK(!c.points.empty(), "{}: no rows (has the run logged a step yet?)", path);
  return c;
}

}  // namespace attnmt
