// A small SVG chart (scatter points and polylines on linear or log axes) for the HTML report:
// the report is one self-contained file, so its plots are drawn here rather than by a
// plotting library or script.
#pragma once

#include <string>
#include <vector>

namespace mixprec::compare {

/// Escapes &, <, >, " for XML text and attributes.
std::string xml_escape(const std::string& s);

class svg_chart {
 public:
  svg_chart(std::string title, std::string x_label, std::string y_label, bool log_x, bool log_y)
      : title_(std::move(title)),
        x_label_(std::move(x_label)),
        y_label_(std::move(y_label)),
        log_x_(log_x),
        log_y_(log_y) {}

  /// A marked point with a label; `flagged` draws a red ring (a broken bound).
  void add_point(double x, double y, const std::string& label, const std::string& color, bool flagged = false);
  /// A line through (x[i], y[i]) with a legend entry; dashed for reference lines.
  void add_series(std::vector<double> x, std::vector<double> y, const std::string& name, const std::string& color,
                  bool dashed = false);
  bool empty() const { return points_.empty() && series_.empty(); }
  /// The chart as an <svg> element, with `id` on it.
  std::string render(const std::string& id, int width = 640, int height = 400) const;

 private:
  struct point {
    double x, y;
    std::string label, color;
    bool flagged;
  };
  struct series {
    std::vector<double> x, y;
    std::string name, color;
    bool dashed;
  };
  std::string title_, x_label_, y_label_;
  bool log_x_, log_y_;
  std::vector<point> points_;
  std::vector<series> series_;
};

/// A colour per precision name, the same in every chart.
std::string colour_of(const std::string& precision);

}  // namespace mixprec::compare
