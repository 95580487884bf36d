#include "tools/compare/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <sstream>

namespace mixprec::compare {
namespace {

struct axis {
  double lo = 0, hi = 1;
  bool log = false;
  double map(double v, double a, double b) const {  // data -> pixel in [a, b]
    const double t = log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
    return a + t * (b - a);
  }
  bool shows(double v) const { return std::isfinite(v) && (!log || v > 0); }
  std::vector<double> ticks() const {
    std::vector<double> t;
    if (log) {
      // Every decade, or every 2nd, 3rd, ... so that at most 9 are labelled.
      const double first = std::floor(std::log10(lo)), last = std::ceil(std::log10(hi));
      const double every = std::max(1.0, std::ceil((last - first + 1) / 9));
      for (double e = first; e <= last; e += every) {
        const double v = std::pow(10.0, e);
        if (v >= lo * 0.999 && v <= hi * 1.001) t.push_back(v);
      }
    } else {
      // 1, 2 or 5 times a power of ten, at most 8 ticks.
      const double raw = (hi - lo) / 8, power = std::pow(10.0, std::floor(std::log10(raw)));
      const double step = raw <= power       ? power
                          : raw <= 2 * power ? 2 * power
                          : raw <= 5 * power ? 5 * power
                                             : 10 * power;
      for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) t.push_back(v);
    }
    return t;
  }
};

axis fit(const std::vector<double>& values, bool log) {
  axis a;
  a.log = log;
  bool any = false;
  for (double v : values)
    if (a.shows(v)) {
      a.lo = any ? std::min(a.lo, v) : v;
      a.hi = any ? std::max(a.hi, v) : v;
      any = true;
    }
  if (!any) {
    a.lo = log ? 1 : 0;
    a.hi = log ? 10 : 1;
    return a;
  }
  if (log) {
    a.lo = std::pow(10.0, std::floor(std::log10(a.lo)));
    a.hi = std::pow(10.0, std::ceil(std::log10(a.hi)));
    if (a.hi <= a.lo) a.hi = a.lo * 10;
  } else {
    const double pad = a.hi > a.lo ? 0.05 * (a.hi - a.lo) : std::max(1.0, std::fabs(a.hi));
    a.lo -= pad;
    a.hi += pad;
  }
  return a;
}

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

std::string tick_text(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

}  // namespace

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

void svg_chart::add_point(double x, double y, const std::string& label, const std::string& color, bool flagged) {
  points_.push_back({x, y, label, color, flagged});
}

void svg_chart::add_series(std::vector<double> x, std::vector<double> y, const std::string& name,
                           const std::string& color, bool dashed) {
  series_.push_back({std::move(x), std::move(y), name, color, dashed});
}

std::string svg_chart::render(const std::string& id, int width, int height) const {
  std::vector<double> xs, ys;
  for (const point& p : points_) xs.push_back(p.x), ys.push_back(p.y);
  for (const series& s : series_) {
    xs.insert(xs.end(), s.x.begin(), s.x.end());
    ys.insert(ys.end(), s.y.begin(), s.y.end());
  }
  const axis ax = fit(xs, log_x_), ay = fit(ys, log_y_);
  const double left = 70, right = width - 170, top = 30, bottom = height - 45;
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"" << xml_escape(id) << "\" class=\"chart\" width=\"" << width
    << "\" height=\"" << height << "\" viewBox=\"0 0 " << width << " " << height << "\">\n"
    << "<text x=\"" << num(left) << "\" y=\"18\" font-size=\"14\" font-weight=\"bold\">" << xml_escape(title_)
    << "</text>\n"
    << "<rect x=\"" << num(left) << "\" y=\"" << num(top) << "\" width=\"" << num(right - left) << "\" height=\""
    << num(bottom - top) << "\" fill=\"none\" stroke=\"#444\"/>\n";
  for (double t : ax.ticks()) {
    const double px = ax.map(t, left, right);
    o << "<line x1=\"" << num(px) << "\" y1=\"" << num(top) << "\" x2=\"" << num(px) << "\" y2=\"" << num(bottom)
      << "\" stroke=\"#ddd\"/><text x=\"" << num(px) << "\" y=\"" << num(bottom + 14)
      << "\" font-size=\"10\" text-anchor=\"middle\">" << tick_text(t) << "</text>\n";
  }
  for (double t : ay.ticks()) {
    const double py = ay.map(t, bottom, top);
    o << "<line x1=\"" << num(left) << "\" y1=\"" << num(py) << "\" x2=\"" << num(right) << "\" y2=\"" << num(py)
      << "\" stroke=\"#ddd\"/><text x=\"" << num(left - 4) << "\" y=\"" << num(py + 3)
      << "\" font-size=\"10\" text-anchor=\"end\">" << tick_text(t) << "</text>\n";
  }
  o << "<text x=\"" << num((left + right) / 2) << "\" y=\"" << num(height - 8)
    << "\" font-size=\"12\" text-anchor=\"middle\">" << xml_escape(x_label_) << "</text>\n"
    << "<text x=\"14\" y=\"" << num((top + bottom) / 2)
    << "\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 " << num((top + bottom) / 2) << ")\">"
    << xml_escape(y_label_) << "</text>\n";
  int legend = 0;
  for (const series& s : series_) {
    std::string path;
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (ax.shows(s.x[i]) && ay.shows(s.y[i]))
        path += num(ax.map(s.x[i], left, right)) + "," + num(ay.map(s.y[i], bottom, top)) + " ";
    if (!path.empty())
      o << "<polyline fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"1.5\""
        << (s.dashed ? " stroke-dasharray=\"5,3\"" : "") << " points=\"" << path << "\"><title>" << xml_escape(s.name)
        << "</title></polyline>\n";
    const double ly = top + 12 + 14 * legend++;
    o << "<line x1=\"" << num(right + 8) << "\" y1=\"" << num(ly - 4) << "\" x2=\"" << num(right + 24) << "\" y2=\""
      << num(ly - 4) << "\" stroke=\"" << s.color << "\" stroke-width=\"2\"/><text x=\"" << num(right + 28) << "\" y=\""
      << num(ly) << "\" font-size=\"10\">" << xml_escape(s.name) << "</text>\n";
  }
  std::vector<std::string> seen;
  for (const point& p : points_) {
    if (!ax.shows(p.x) || !ay.shows(p.y)) continue;
    const double px = ax.map(p.x, left, right), py = ay.map(p.y, bottom, top);
    o << "<circle cx=\"" << num(px) << "\" cy=\"" << num(py) << "\" r=\"4\" fill=\"" << p.color << "\"><title>"
      << xml_escape(p.label) << "</title></circle>\n";
    if (p.flagged)
      o << "<circle cx=\"" << num(px) << "\" cy=\"" << num(py) << "\" r=\"8\" fill=\"none\" stroke=\"red\" "
        << "stroke-width=\"2\"/>\n";
  }
  for (const point& p : points_) {
    // Legend by colour: the precision is the last word of the label.
    const std::string key = p.label.substr(p.label.rfind(' ') + 1);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
    seen.push_back(key);
    const double ly = top + 12 + 14 * legend++;
    o << "<circle cx=\"" << num(right + 16) << "\" cy=\"" << num(ly - 4) << "\" r=\"4\" fill=\"" << p.color
      << "\"/><text x=\"" << num(right + 28) << "\" y=\"" << num(ly) << "\" font-size=\"10\">" << xml_escape(key)
      << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

std::string colour_of(const std::string& precision) {
  // The precisions the suites name get fixed, distinct colours (a family's chart never shows
  // two alike); anything else is hashed onto the palette.
  static const std::pair<const char*, const char*> known[] = {{"f64", "#000000"},
                                                              {"f32", "#1f77b4"},
                                                              {"f16", "#ff7f0e"},
                                                              {"bf16", "#2ca02c"},
                                                              {"i8", "#9467bd"},
                                                              {"s8s8s32", "#9467bd"},
                                                              {"f32+f64", "#17becf"},
                                                              {"f32+compensated", "#8c564b"},
                                                              {"bf16+f64", "#bcbd22"},
                                                              {"f32-ir", "#1f77b4"},
                                                              {"bf16/f32-ir", "#2ca02c"},
                                                              {"f16/f32-ir", "#ff7f0e"},
                                                              {"f32-ir/reliable", "#d62728"},
                                                              {"bf16-sr", "#e377c2"},
                                                              {"s8/per_channel", "#9467bd"},
                                                              {"u8/group32", "#8c564b"},
                                                              {"f32-gmres-ir", "#17becf"},
                                                              {"bf16-gmres-ir", "#2ca02c"},
                                                              {"q8_0", "#17becf"},
                                                              {"q4_0", "#d62728"}};
  for (const auto& [name, colour] : known)
    if (precision == name) return colour;
  static const char* palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return palette[std::hash<std::string>{}(precision) % (sizeof palette / sizeof palette[0])];
}

}  // namespace mixprec::compare
