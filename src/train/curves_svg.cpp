#include "train/curves_svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "tensor/error.h"
#include "text/utf8.h"

namespace attnmt {

namespace {

constexpr double kPanelW = 460, kPanelH = 300;                      // each of the 2 x 2 panels, px
constexpr double kLeft = 62, kRight = 18, kTop = 34, kBottom = 46;  // plot area inside a panel
constexpr double kLegendRow = 20;
constexpr const char* kFont = "'DejaVu Sans', sans-serif";
// Colour-blind-safe (Okabe-Ito), then repeated.
constexpr const char* kColours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                    "#E69F00", "#56B4E9", "#000000", "#F0E442"};

std::string num(double v) { return fmt::format("{:.1f}", v); }
std::string tick_label(double v) { return fmt::format("{:g}", std::abs(v) < 1e-12 ? 0.0 : v); }

struct Series {
  std::vector<std::pair<double, double>> xy;
  const char* colour;
  bool dashed;
};

// One panel at (x0, y0): frame, ticks, labels, the series as polylines.
void draw_panel(std::string& svg, double x0, double y0, const std::string& title,
                const std::string& x_label, const std::vector<Series>& series) {
  svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"14\" font-weight=\"bold\">{}</text>\n",
                     num(x0 + kLeft), num(y0 + 20), xml_escape(title));
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  for (const Series& s : series)
    for (const auto& [x, y] : s.xy) {
      xlo = std::min(xlo, x), xhi = std::max(xhi, x);
      ylo = std::min(ylo, y), yhi = std::max(yhi, y);
    }
  const double pw = kPanelW - kLeft - kRight, ph = kPanelH - kTop - kBottom;
  const double ax = x0 + kLeft, ay = y0 + kTop;
  svg += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" "
      "stroke=\"#888\"/>\n",
      num(ax), num(ay), num(pw), num(ph));
  if (!std::isfinite(xlo)) {
    svg += fmt::format(
        "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\" "
        "fill=\"#666\">no points in these records</text>\n",
        num(ax + pw / 2), num(ay + ph / 2));
    return;
  }
  const std::vector<double> xt = nice_ticks(xlo, xhi), yt = nice_ticks(ylo, yhi);
  xlo = std::min(xlo, xt.front()), xhi = std::max(xhi, xt.back());
  ylo = std::min(ylo, yt.front()), yhi = std::max(yhi, yt.back());
  if (xhi <= xlo) xhi = xlo + 1;
  if (yhi <= ylo) yhi = ylo + 1;
  const auto px = [&](double x) { return ax + (x - xlo) / (xhi - xlo) * pw; };
  const auto py = [&](double y) { return ay + ph - (y - ylo) / (yhi - ylo) * ph; };
  for (double t : xt)
    svg += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#eee\"/>"
        "<text x=\"{0}\" y=\"{3}\" font-size=\"11\" text-anchor=\"middle\">{4}"
        "</text>\n",
        num(px(t)), num(ay), num(ay + ph), num(ay + ph + 15), tick_label(t));
  for (double t : yt)
    svg += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#eee\"/>"
        "<text x=\"{3}\" y=\"{4}\" font-size=\"11\" text-anchor=\"end\">{5}"
        "</text>\n",
        num(ax), num(py(t)), num(ax + pw), num(ax - 5), num(py(t) + 4), tick_label(t));
  svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\">{}</text>\n",
                     num(ax + pw / 2), num(ay + ph + 34), xml_escape(x_label));
  for (const Series& s : series) {
    if (s.xy.empty()) continue;
    std::string points;
    for (const auto& [x, y] : s.xy) points += num(px(x)) + "," + num(py(y)) + " ";
    svg += fmt::format(
        "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\"{} "
        "points=\"{}\"/>\n",
        s.colour, s.dashed ? " stroke-dasharray=\"6,4\"" : "", points);
    if (s.xy.size() == 1)  // a single point is not a line: mark it
      svg += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{}\"/>\n",
                         num(px(s.xy[0].first)), num(py(s.xy[0].second)), s.colour);
  }
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) {
    const double pad = std::abs(lo) > 0 ? std::abs(lo) * 0.1 : 1.0;
    lo -= pad, hi += pad;
  }
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> ticks;
  for (double t = std::floor(lo / step) * step; t <= hi + step * 1e-9; t += step)
    ticks.push_back(t);
  if (ticks.back() < hi) ticks.push_back(ticks.back() + step);
  return ticks;
}

std::string curves_svg(const std::vector<Curve>& runs, const std::string& title) {
  bool any = false;
  for (const Curve& c : runs) any = any || !c.points.empty();
  ATTNMT_CHECK(any, "nothing to plot: the records have no rows");
  const double legend_h = kLegendRow * (static_cast<double>(runs.size()) + 1);
  const double head = (title.empty() ? 10 : 36) + legend_h;
  const double width = 2 * kPanelW + 20, height = head + 2 * kPanelH + 10;
  std::string svg = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"{2}\">\n<title>{3}</title>\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      num(width), num(height), kFont, xml_escape(title.empty() ? "learning curves" : title));
  if (!title.empty())
    svg += fmt::format("<text x=\"14\" y=\"26\" font-size=\"18\" font-weight=\"bold\">{}</text>\n",
                       xml_escape(title));
  // Legend: a line sample and the run's name; then what solid and dashed mean.
  double ly = head - legend_h + 14;
  for (size_t k = 0; k < runs.size(); ++k, ly += kLegendRow)
    svg += fmt::format(
        "<line x1=\"14\" y1=\"{0}\" x2=\"44\" y2=\"{0}\" stroke=\"{1}\" "
        "stroke-width=\"3\"/><text x=\"52\" y=\"{2}\" font-size=\"13\">{3}</text>\n",
        num(ly - 4), kColours[k % std::size(kColours)], num(ly), xml_escape(runs[k].name));
  svg += fmt::format(
      "<text x=\"14\" y=\"{}\" font-size=\"12\" fill=\"#444\">loss panels: solid "
      "= training loss (label-smoothed), dashed = dev cross-entropy</text>\n",
      num(ly));
  using Pick = std::function<double(const CurvePoint&)>;
  const auto series = [&](const Pick& x, const Pick& y, bool dashed) {
    std::vector<Series> out;
    for (size_t k = 0; k < runs.size(); ++k) {
      Series s{{}, kColours[k % std::size(kColours)], dashed};
      for (const CurvePoint& p : runs[k].points)
        if (std::isfinite(y(p))) s.xy.emplace_back(x(p), y(p));
      out.push_back(std::move(s));
    }
    return out;
  };
  const Pick minutes = [](const CurvePoint& p) { return p.minutes; };
  const Pick steps = [](const CurvePoint& p) { return static_cast<double>(p.step); };
  const Pick bleu = [](const CurvePoint& p) { return p.dev_bleu; };
  const Pick train = [](const CurvePoint& p) { return p.train_loss; };
  const Pick dev = [](const CurvePoint& p) { return p.dev_ce; };
  const auto losses = [&](const Pick& x) {
    std::vector<Series> s = series(x, train, false), d = series(x, dev, true);
    s.insert(s.end(), d.begin(), d.end());
    return s;
  };
  draw_panel(svg, 10, head, "dev BLEU", "minutes", series(minutes, bleu, false));
  draw_panel(svg, 10 + kPanelW, head, "dev BLEU", "steps", series(steps, bleu, false));
  draw_panel(svg, 10, head + kPanelH, "loss per target token", "minutes", losses(minutes));
  draw_panel(svg, 10 + kPanelW, head + kPanelH, "loss per target token", "steps", losses(steps));
  svg += "</svg>\n";
  return svg;
}

}  // namespace attnmt
