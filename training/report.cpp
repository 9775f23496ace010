#include "training/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <tuple>

#include "training/run_files.h"  // fine_tuning_mark
#include "weights/atomic_file.h"

namespace catdog {

ConfusionMatrix confusion_matrix(const std::vector<PhotoPrediction>& predictions) {
  ConfusionMatrix m;
  for (const PhotoPrediction& p : predictions) ++m.counts[p.label != 0][predicted_label(p)];
  return m;
}

std::vector<size_t> most_confident_mistakes(const std::vector<PhotoPrediction>& predictions,
                                            size_t n) {
  const auto wrong_confidence = [&](size_t i) {
    const PhotoPrediction& p = predictions[i];
    return p.label == 0 ? p.probability : 1.0f - p.probability;
  };
  std::vector<size_t> wrong;
  for (size_t i = 0; i < predictions.size(); ++i) {
    if (predicted_label(predictions[i]) != predictions[i].label) wrong.push_back(i);
  }
  std::stable_sort(wrong.begin(), wrong.end(), [&](size_t a, size_t b) {
    return wrong_confidence(a) > wrong_confidence(b);
  });
  if (wrong.size() > n) wrong.resize(n);
  return wrong;
}

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string base64_encode(const std::vector<uint8_t>& bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t left = std::min<size_t>(3, bytes.size() - i);
    uint32_t group = uint32_t{bytes[i]} << 16;
    if (left > 1) group |= uint32_t{bytes[i + 1]} << 8;
    if (left > 2) group |= bytes[i + 2];
    for (size_t k = 0; k < 4; ++k) {
      out += k <= left ? kAlphabet[(group >> (18 - 6 * k)) & 63] : '=';
    }
  }
  return out;
}

namespace {

std::string format(const char* fmt, double value) {
  char text[64];
  std::snprintf(text, sizeof text, fmt, value);
  return text;
}

// Round steps (1, 2 or 5 times a power of ten) giving about `wanted` intervals over [lo, hi].
double nice_step(double lo, double hi, int wanted) {
  const double raw = (hi - lo) / wanted;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0}) {
    if (m * power >= raw) return m * power;
  }
  return 10 * power;
}

// Where a panel draws: the data ranges and the plot area inside the svg, in pixels.
struct PlotArea {
  double x_lo, x_hi, y_lo, y_hi;
  double left = 64, top = 34, width = 430, height = 220;
  double x(double epoch) const { return left + (epoch - x_lo) / (x_hi - x_lo) * width; }
  double y(double value) const { return top + (y_hi - value) / (y_hi - y_lo) * height; }
};

struct Series {
  const char* key;    // the history.csv column
  const char* label;  // the legend's
  const char* color;
  double EpochRecord::*field;
};

}  // namespace

std::string learning_curve_svg(const std::vector<EpochRecord>& history, bool accuracy) {
  const Series series[2] = {
      {accuracy ? "accuracy" : "loss", "train", "#1f77b4",
       accuracy ? &EpochRecord::accuracy : &EpochRecord::loss},
      {accuracy ? "val_accuracy" : "val_loss", "test", "#ff7f0e",
       accuracy ? &EpochRecord::val_accuracy : &EpochRecord::val_loss}};
  double lo = INFINITY, hi = -INFINITY;
  for (const EpochRecord& e : history) {
    for (const Series& s : series) {
      const double v = e.*s.field;
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    }
  }
  if (!(lo <= hi)) lo = 0, hi = 1;
  const double pad = std::max(1e-3, 0.08 * (hi - lo));
  PlotArea area;
  area.y_lo = lo - pad;
  area.y_hi = hi + pad;
  area.x_lo = history.empty() ? 0 : history.front().epoch;
  area.x_hi = history.empty() ? 1 : history.back().epoch;
  if (area.x_hi <= area.x_lo) area.x_lo -= 0.5, area.x_hi += 0.5;

  std::ostringstream svg;
  const char* name = accuracy ? "accuracy" : "loss";
  svg << "<svg class=\"curve\" id=\"curve-" << name << "\" xmlns=\"http://www.w3.org/2000/svg\" "
      << "width=\"520\" height=\"300\" viewBox=\"0 0 520 300\" role=\"img\">\n"
      << "<title>" << (accuracy ? "Accuracy" : "Cross-entropy loss") << " per epoch</title>\n"
      << "<rect x=\"0\" y=\"0\" width=\"520\" height=\"300\" fill=\"#fff\"/>\n"
      << "<text x=\"260\" y=\"20\" text-anchor=\"middle\" font-size=\"15\">"
      << (accuracy ? "Classification accuracy" : "Cross-entropy loss") << "</text>\n";
  // y ticks with grid lines, then x ticks on whole epochs (about ten at most).
  const double y_step = nice_step(area.y_lo, area.y_hi, 5);
  for (double v = std::ceil(area.y_lo / y_step) * y_step; v <= area.y_hi + 1e-12; v += y_step) {
    const double y = area.y(v);
    svg << "<line x1=\"" << area.left << "\" x2=\"" << area.left + area.width << "\" y1=\"" << y
        << "\" y2=\"" << y << "\" stroke=\"#e4e4e4\"/>"
        << "<text x=\"" << area.left - 6 << "\" y=\"" << y + 4
        << "\" text-anchor=\"end\" font-size=\"11\">" << format("%g", std::abs(v) < 1e-12 ? 0 : v)
        << "</text>\n";
  }
  const double x_step = std::max(1.0, std::ceil((area.x_hi - area.x_lo) / 10.0));
  for (double e = std::ceil(area.x_lo); e <= area.x_hi + 1e-9; e += x_step) {
    const double x = area.x(e);
    svg << "<line x1=\"" << x << "\" x2=\"" << x << "\" y1=\"" << area.top + area.height
        << "\" y2=\"" << area.top + area.height + 5 << "\" stroke=\"#000\"/>"
        << "<text x=\"" << x << "\" y=\"" << area.top + area.height + 18
        << "\" text-anchor=\"middle\" font-size=\"11\">" << format("%.0f", e) << "</text>\n";
  }
  svg << "<rect x=\"" << area.left << "\" y=\"" << area.top << "\" width=\"" << area.width
      << "\" height=\"" << area.height << "\" fill=\"none\" stroke=\"#000\"/>\n"
      << "<text x=\"" << area.left + area.width / 2 << "\" y=\"" << area.top + area.height + 36
      << "\" text-anchor=\"middle\" font-size=\"12\">epoch</text>\n"
      << "<text transform=\"translate(16 " << area.top + area.height / 2
      << ") rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">" << name << "</text>\n";

  for (const Series& s : series) {
    std::ostringstream points, dots;
    for (const EpochRecord& e : history) {
      const double v = e.*s.field;
      if (!std::isfinite(v)) continue;
      const double x = area.x(e.epoch), y = area.y(v);
      points << x << "," << y << " ";
      dots << "<circle class=\"point\" data-series=\"" << s.key << "\" data-epoch=\"" << e.epoch
           << "\" data-value=\"" << format("%.6f", v) << "\" cx=\"" << x << "\" cy=\"" << y
           << "\" r=\"3\" fill=\"" << s.color << "\"/>\n";
    }
    if (points.str().empty()) continue;
    svg << "<polyline fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"2\" points=\""
        << points.str() << "\"/>\n"
        << dots.str();
  }
  if (const double mark = fine_tuning_mark(history); mark > 0) {
    const double x = area.x(mark);
    svg << "<line class=\"fine-tuning-start\" data-epoch=\"" << mark + 0.5 << "\" x1=\"" << x
        << "\" x2=\"" << x << "\" y1=\"" << area.top << "\" y2=\"" << area.top + area.height
        << "\" stroke=\"#555\" stroke-dasharray=\"5,4\"/>"
        << "<text x=\"" << x + 4 << "\" y=\"" << area.top + 14 << "\" font-size=\"11\">"
        << "fine-tuning</text>\n";
  }
  // The legend, in the top margin at the right, clear of the curves.
  for (int i = 0; i < 2; ++i) {
    const double y = 16, x = area.left + area.width - 130 + 70 * i;
    svg << "<line x1=\"" << x << "\" x2=\"" << x + 20 << "\" y1=\"" << y << "\" y2=\"" << y
        << "\" stroke=\"" << series[i].color << "\" stroke-width=\"2\"/>"
        << "<text x=\"" << x + 26 << "\" y=\"" << y + 4 << "\" font-size=\"12\">"
        << series[i].label << "</text>\n";
  }
  svg << "</svg>\n";
  return svg.str();
}

namespace {

const char kStyle[] = R"(
body { font-family: "DejaVu Sans", "Liberation Sans", sans-serif; margin: 24px; color: #222;
       background: #fff; max-width: 1120px; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ccc; padding-bottom: 3px; }
.note { color: #666; font-size: 13px; }
table { border-collapse: collapse; font-size: 13px; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f2f2f2; }
td.name, th.name { text-align: left; }
.curves { display: flex; flex-wrap: wrap; gap: 12px; }
td.hit { background: #dff0d8; }
td.miss { background: #f8d7da; }
.mistakes { display: flex; flex-wrap: wrap; gap: 14px; }
figure.mistake { margin: 0; width: 340px; border: 1px solid #ddd; padding: 6px; }
figure.mistake .pair { display: flex; gap: 6px; }
figure.mistake img, figure.mistake .missing { width: 160px; height: 160px; }
figure.mistake .missing { display: flex; align-items: center; justify-content: center;
       background: #f4f4f4; color: #666; font-size: 12px; text-align: center; }
figcaption { font-size: 12px; margin-top: 4px; word-break: break-all; }
pre { font-size: 12px; background: #f7f7f7; padding: 8px; overflow-x: auto; }
#image-check { color: #666; font-size: 12px; margin-top: 24px; }
)";

// On load: how many of the page's images decoded (a broken data: URI has no natural width).
const char kImageCheck[] = R"(<script>
window.addEventListener('load', function () {
  var images = document.images, ok = 0;
  for (var i = 0; i < images.length; ++i) {
    if (images[i].complete && images[i].naturalWidth > 0) ++ok;
  }
  document.getElementById('image-check').textContent =
      'images ok ' + ok + ' of ' + images.length;
});
</script>
)";

std::string percent(double fraction) { return format("%.2f%%", 100 * fraction); }

void rows_table(std::ostringstream& html, const char* id, const TextRows& rows) {
  html << "<table id=\"" << id << "\">\n";
  for (const auto& [name, value] : rows) {
    html << "<tr><th class=\"name\">" << html_escape(name) << "</th><td class=\"name\">"
         << html_escape(value) << "</td></tr>\n";
  }
  html << "</table>\n";
}

void history_section(std::ostringstream& html, const Report& r) {
  html << "<h2>Learning curves</h2>\n";
  if (r.history.empty()) {
    html << "<p class=\"note\">No learning curves: " << html_escape(r.history_note) << "</p>\n";
    return;
  }
  if (!r.history_note.empty()) html << "<p class=\"note\">" << html_escape(r.history_note) << "</p>\n";
  html << "<div class=\"curves\">\n"
       << learning_curve_svg(r.history, false) << learning_curve_svg(r.history, true)
       << "</div>\n<table id=\"history\">\n<tr><th>epoch</th><th>loss</th><th>accuracy</th>"
       << "<th>val_loss</th><th>val_accuracy</th><th>seconds</th><th>phase</th><th>train img/s</th>"
       << "</tr>\n";
  for (const EpochRecord& e : r.history) {
    html << "<tr class=\"epoch\" data-epoch=\"" << e.epoch << "\"><td>" << e.epoch << "</td>";
    // As history.csv prints them, so the two can be compared as text.
    for (const auto& [key, value, fmt] :
         {std::tuple<const char*, double, const char*>{"loss", e.loss, "%.6f"},
          {"accuracy", e.accuracy, "%.6f"},
          {"val_loss", e.val_loss, "%.6f"},
          {"val_accuracy", e.val_accuracy, "%.6f"},
          {"seconds", e.seconds, "%.3f"}}) {
      html << "<td data-key=\"" << key << "\">" << format(fmt, value) << "</td>";
    }
    html << "<td data-key=\"phase\">" << e.phase << "</td><td>"
         << format("%.1f", e.images_per_second) << "</td></tr>\n";
  }
  html << "</table>\n";
}

void confusion_section(std::ostringstream& html, const Report& r) {
  html << "<h2>Confusion matrix</h2>\n";
  if (r.predictions.empty()) {
    html << "<p class=\"note\">No photos were evaluated (no test/ folder?).</p>\n";
    return;
  }
  const auto name = [&](int label) {
    return html_escape(static_cast<size_t>(label) < r.class_names.size()
                           ? r.class_names[static_cast<size_t>(label)]
                           : std::to_string(label));
  };
  const ConfusionMatrix m = confusion_matrix(r.predictions);
  const int64_t correct = m.counts[0][0] + m.counts[1][1];
  const auto total = static_cast<int64_t>(r.predictions.size());
  html << "<p class=\"note\">" << html_escape(r.predictions_source) << ": " << total
       << " photos, " << correct << " right (" << percent(static_cast<double>(correct) / total)
       << "). Rows: the true class; columns: the predicted one (probability of "
       << name(1) << " &ge; 0.5).</p>\n"
       << "<table id=\"confusion\">\n<tr><th class=\"name\">true \\ predicted</th><th>" << name(0)
       << "</th><th>" << name(1) << "</th></tr>\n";
  for (int t = 0; t < 2; ++t) {
    html << "<tr><th class=\"name\">" << name(t) << "</th>";
    for (int p = 0; p < 2; ++p) {
      html << "<td class=\"" << (t == p ? "hit" : "miss") << "\" data-true=\"" << t
           << "\" data-predicted=\"" << p << "\">" << m.counts[t][p] << "</td>";
    }
    html << "</tr>\n";
  }
  html << "</table>\n<h2>Per class</h2>\n<table id=\"per-class\">\n<tr><th class=\"name\">class"
       << "</th><th>photos</th><th>right</th><th>accuracy</th></tr>\n";
  for (int t = 0; t < 2; ++t) {
    const int64_t count = m.counts[t][0] + m.counts[t][1];
    html << "<tr data-class=\"" << t << "\"><td class=\"name\">" << name(t)
         << "</td><td data-key=\"count\">" << count << "</td><td data-key=\"right\">"
         << m.counts[t][t] << "</td><td data-key=\"accuracy\">"
         << (count ? percent(static_cast<double>(m.counts[t][t]) / count) : "-") << "</td></tr>\n";
  }
  html << "</table>\n";
}

std::string image_or_note(const std::vector<uint8_t>& jpeg, const std::string& note,
                          const std::string& alt) {
  if (jpeg.empty()) return "<div class=\"missing\">" + html_escape(note) + "</div>";
  return "<img alt=\"" + html_escape(alt) + "\" src=\"data:image/jpeg;base64," +
         base64_encode(jpeg) + "\">";
}

void mistakes_section(std::ostringstream& html, const Report& r) {
  html << "<h2>Most confidently wrong</h2>\n";
  if (r.mistakes.empty()) {
    html << "<p class=\"note\">" << (r.predictions.empty() ? "No photos were evaluated."
                                                           : "No photo was predicted wrong.")
         << "</p>\n";
    return;
  }
  html << "<p class=\"note\">The " << r.mistakes.size() << " wrongly predicted photos with the "
       << "highest probability given to the wrong class, as the model saw them (resized to its "
       << "input), and the Grad-CAM heat over them: where the evidence for its answer was.</p>\n"
       << "<div class=\"mistakes\">\n";
  for (const MistakePhoto& m : r.mistakes) {
    const PhotoPrediction& p = m.prediction;
    const int wrong = predicted_label(p);
    const double confidence = wrong == 1 ? p.probability : 1.0 - p.probability;
    const std::string& truth = r.class_names.at(static_cast<size_t>(p.label));
    const std::string& said = r.class_names.at(static_cast<size_t>(wrong));
    html << "<figure class=\"mistake\" data-path=\"" << html_escape(p.path) << "\" data-label=\""
         << p.label << "\" data-probability=\"" << format("%.6f", p.probability)
         << "\" data-recomputed-probability=\"" << format("%.6f", m.recomputed_probability)
         << "\">\n"
         << "<div class=\"pair\">" << image_or_note(m.photo_jpeg, m.photo_note, p.path)
         << image_or_note(m.overlay_jpeg, m.overlay_note, "Grad-CAM of " + p.path) << "</div>\n"
         << "<figcaption>said <b>" << html_escape(said) << " " << percent(confidence) << "</b>, is "
         << html_escape(truth) << " (p(" << html_escape(r.class_names.at(1)) << ") = "
         << format("%.4f", p.probability) << ")<br>" << html_escape(p.path);
    if (!m.overlay_jpeg.empty() && !m.overlay_note.empty()) {
      html << "<br><span class=\"note\">" << html_escape(m.overlay_note) << "</span>";
    }
    html << "</figcaption>\n</figure>\n";
  }
  html << "</div>\n";
}

}  // namespace

std::string render_report_html(const Report& r) {
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       << "<title>" << html_escape(r.title) << "</title>\n<style>" << kStyle << "</style>\n"
       << "</head>\n<body>\n<h1>" << html_escape(r.title) << "</h1>\n";
  if (!r.history.empty()) {
    const EpochRecord& last = r.history.back();
    html << "<p id=\"headline\">After epoch " << last.epoch << ": loss "
         << format("%.4f", last.loss) << ", accuracy " << percent(last.accuracy);
    if (std::isfinite(last.val_accuracy)) {
      html << "; test loss " << format("%.4f", last.val_loss) << ", test accuracy "
           << percent(last.val_accuracy);
    }
    html << ".</p>\n";
  }
  history_section(html, r);
  confusion_section(html, r);
  mistakes_section(html, r);
  html << "<h2>Settings</h2>\n";
  rows_table(html, "settings", r.settings);
  html << "<h2>Timings</h2>\n";
  rows_table(html, "timings", r.timings);
  html << "<h2>Model</h2>\n<pre id=\"model-summary\">" << html_escape(r.model_summary)
       << "</pre>\n<div id=\"image-check\">images not checked (scripts off)</div>\n"
       << kImageCheck << "</body>\n</html>\n";
  return html.str();
}

void write_report_html(const std::string& path, const Report& report) {
  atomic_write_file(path, render_report_html(report));
}

}  // namespace catdog
