// The alignment heatmap as a standalone SVG 1.1 file. See render_svg in alignment.h.
// Layout is computed from estimated label widths (no font metrics are available here):
// Latin-like characters about 0.62 em, CJK about 1 em, which errs on the roomy side.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "decode/alignment.h"
#include "text/utf8.h"

namespace attnmt {

namespace {

constexpr double kFont = 13;       // label font size, px
constexpr double kTitleFont = 16;  // title font size, px
constexpr double kCell = 24;       // cell side, px (> kFont / sin 45deg, so rotated labels clear)
constexpr double kMargin = 16;
constexpr double kBarWidth = 14;
constexpr size_t kMaxLabelChars = 32;  // longer labels are cut with an ellipsis
constexpr double kSin45 = 0.70710678;
constexpr const char* kFontFamily =
    "'Noto Sans CJK JP', 'Noto Sans JP', 'IPAGothic', 'IPAexGothic', 'Hiragino Sans', "
    "'Yu Gothic', 'DejaVu Sans', sans-serif";

// Matplotlib's sequential "Blues" scale: white-ish at 0, dark blue at 1.
constexpr unsigned kBlues[9] = {0xf7fbff, 0xdeebf7, 0xc6dbef, 0x9ecae1, 0x6baed6,
                                0x4292c6, 0x2171b5, 0x08519c, 0x08306b};

std::string colour(float weight) {
  double w = std::clamp(static_cast<double>(weight), 0.0, 1.0) * 8.0;
  int k = std::min(static_cast<int>(w), 7);
  double f = w - k;
  auto channel = [&](int shift) {
    double a = (kBlues[k] >> shift) & 0xFF, b = (kBlues[k + 1] >> shift) & 0xFF;
    return static_cast<unsigned>(std::lround(a + (b - a) * f));
  };
  return fmt::format("#{:02x}{:02x}{:02x}", channel(16), channel(8), channel(0));
}

// The label as drawn (cut when too long) and its estimated width in px.
struct Label {
  std::string text;  // raw UTF-8, escaped when written
  double width;
};

Label make_label(const std::string& s, double font, size_t max_chars = kMaxLabelChars) {
  std::u32string cps = decode_utf8(s, InvalidUtf8::kReplace);
  bool cut = cps.size() > max_chars;
  if (cut) cps.resize(max_chars - 1), cps.push_back(0x2026);  // "…"
  Label l{"", 0};
  for (char32_t c : cps) {
    append_utf8(l.text, c);
    l.width += font * (is_wide_char(c) ? 1.0 : 0.62);
  }
  return l;
}

std::string num(double v) { return fmt::format("{:.1f}", v); }

}  // namespace

std::string render_svg(const Alignment& a, const std::string& title) {
  check_alignment(a);
  const size_t S = a.src_tokens.size(), T = a.tgt_tokens.size();
  std::vector<Label> src, tgt;  // [S], [T]
  double src_w = 0, tgt_w = 0;
  for (const auto& s : a.src_tokens) {
    src.push_back(make_label(s, kFont));
    src_w = std::max(src_w, src.back().width);
  }
  for (const auto& t : a.tgt_tokens) {
    tgt.push_back(make_label(t, kFont));
    tgt_w = std::max(tgt_w, tgt.back().width);
  }
  const Label head = make_label(title, kTitleFont, SIZE_MAX);  // the title is never cut

  // Grid origin: left of it the target labels, above it the title and the rotated source labels.
  const double title_h = title.empty() ? 0 : kTitleFont * 1.8;
  const double grid_x = kMargin + tgt_w + 8;
  const double grid_y = kMargin + title_h + src_w * kSin45 + kFont + 6;
  const double grid_w = kCell * S, grid_h = kCell * T;
  const double bar_x = grid_x + grid_w + 24;
  const double bar_h = std::max(grid_h, 96.0);
  const double width = std::max({bar_x + kBarWidth + 6 + kFont * 1.5 + kMargin,
                                 grid_x + grid_w + src_w * kSin45 + kFont + kMargin,
                                 kMargin * 2 + head.width});
  const double height = std::max(grid_y + grid_h, grid_y + bar_h + kFont) + kMargin;

  std::string svg;
  svg += "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n";
  svg += fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"{2}\" font-size=\"{3}\">\n",
      num(std::ceil(width)), num(std::ceil(height)), kFontFamily, num(kFont));
  svg += fmt::format("<title>{}</title>\n", xml_escape(title));
  svg += "<defs><linearGradient id=\"scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">";
  for (int k = 0; k < 9; ++k)
    svg += fmt::format("<stop offset=\"{:.3f}\" stop-color=\"#{:06x}\"/>", k / 8.0, kBlues[k]);
  svg += "</linearGradient></defs>\n";
  svg += "<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  if (!title.empty())
    svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"{}\" font-weight=\"bold\">{}</text>\n",
                       num(kMargin), num(kMargin + kTitleFont), num(kTitleFont),
                       xml_escape(title));

  // Cells: a white hairline between them keeps neighbouring dark cells apart.
  svg += "<g stroke=\"#ffffff\" stroke-width=\"0.5\">\n";
  for (size_t j = 0; j < T; ++j)
    for (size_t i = 0; i < S; ++i) {
      float w = a.weights[j][i];
      svg += fmt::format(
          "<rect class=\"cell\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\">"
          "<title>{} \u2192 {}: {:.3f}</title></rect>\n",
          num(grid_x + kCell * i), num(grid_y + kCell * j), num(kCell), num(kCell), colour(w),
          xml_escape(a.src_tokens[i]), xml_escape(a.tgt_tokens[j]), w);
    }
  svg += "</g>\n";
  if (S && T)
    svg += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#888888\" "
        "stroke-width=\"1\"/>\n",
        num(grid_x), num(grid_y), num(grid_w), num(grid_h));

  // Source labels, rotated 45 degrees up-right from the top of their column.
  svg += "<g fill=\"#222222\">\n";
  for (size_t i = 0; i < S; ++i) {
    double x = grid_x + kCell * (i + 0.5) - 2, y = grid_y - 6;
    svg += fmt::format("<text x=\"{0}\" y=\"{1}\" transform=\"rotate(-45 {0} {1})\">{2}</text>\n",
                       num(x), num(y), xml_escape(src[i].text));
  }
  // Target labels, right-aligned against the grid, vertically centred on their row.
  for (size_t j = 0; j < T; ++j)
    svg += fmt::format("<text x=\"{}\" y=\"{}\" dy=\"0.35em\" text-anchor=\"end\">{}</text>\n",
                       num(grid_x - 6), num(grid_y + kCell * (j + 0.5)), xml_escape(tgt[j].text));
  svg += "</g>\n";

  // Colour bar: 1 at the top, 0 at the bottom.
  svg += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"url(#scale)\" stroke=\"#888888\" "
      "stroke-width=\"0.5\"/>\n",
      num(bar_x), num(grid_y), num(kBarWidth), num(bar_h));
  svg += fmt::format("<text x=\"{}\" y=\"{}\" dy=\"0.35em\">1</text>\n", num(bar_x + kBarWidth + 6),
                     num(grid_y + 4));
  svg += fmt::format("<text x=\"{}\" y=\"{}\" dy=\"0.35em\">0</text>\n", num(bar_x + kBarWidth + 6),
                     num(grid_y + bar_h - 4));
  svg += "</svg>\n";
  return svg;
}

}  // namespace attnmt
