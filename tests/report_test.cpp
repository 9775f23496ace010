// report.html (training/report.h, training/run_report.h): its pieces against naive references
// written here (escaping, base64, the confusion matrix, the most-confidently-wrong choice, the
// curve points against the history they plot, history.csv read back), then whole reports from a
// real `train` run and from `catdog evaluate --report`, loaded in a real browser: headless
// Chromium runs the page's script, every embedded image must decode, the screenshot must not be
// blank, and the numbers in the page must be history.csv's.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/random.h"
#include "data/decode.h"
#include "data/encode_jpeg.h"
#include "training/report.h"
#include "training/run_files.h"
#include "training/run_report.h"
#include "training/trainer.h"
#include "tests/support/cli.h"
#include "tests/support/test_support.h"
#include "tests/support/training_fixtures.h"

namespace catdog {
namespace {

namespace fs = std::filesystem;

// ---- naive references ----

std::vector<uint8_t> naive_base64_decode(const std::string& text) {
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<int> bits;
  for (const char c : text) {
    if (c == '=') break;
    const size_t v = alphabet.find(c);
    if (v == std::string::npos) ADD_FAILURE() << "not base64: '" << c << "'";
    for (int b = 5; b >= 0; --b) bits.push_back(static_cast<int>((v >> b) & 1));
  }
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 8 <= bits.size(); i += 8) {
    int byte = 0;
    for (size_t b = 0; b < 8; ++b) byte = byte * 2 + bits[i + b];
    out.push_back(static_cast<uint8_t>(byte));
  }
  return out;
}

std::string text_of(const char* fmt, double v) {
  char s[64];
  std::snprintf(s, sizeof s, fmt, v);
  return s;
}

std::vector<PhotoPrediction> random_predictions(size_t n, uint64_t seed) {
  std::vector<PhotoPrediction> out;
  for (size_t i = 0; i < n; ++i) {
    PhotoPrediction p;
    p.path = "photo" + std::to_string(i) + ".jpg";
    p.label = uniform01(seed, 0, 2 * i) < 0.5 ? 0 : 1;
    p.probability = static_cast<float>(uniform01(seed, 0, 2 * i + 1));
    out.push_back(p);
  }
  // The boundary: 0.5 is a prediction of class 1, so this class-0 photo is wrong.
  out.push_back({"half.jpg", 0, 0.5f});
  return out;
}

std::vector<EpochRecord> three_epochs() {
  std::vector<EpochRecord> h(3);
  const double loss[] = {0.71, 0.52, 0.40}, acc[] = {0.55, 0.74, 0.83};
  const double vloss[] = {0.66, 0.58, 0.61}, vacc[] = {0.62, 0.70, 0.68};
  for (int i = 0; i < 3; ++i) {
    h[i].epoch = i + 1;
    h[i].loss = loss[i];
    h[i].accuracy = acc[i];
    h[i].val_loss = vloss[i];
    h[i].val_accuracy = vacc[i];
    h[i].seconds = 1.5 + i;
  }
  return h;
}

// Every match of `pattern` in `text`: its capture groups.
std::vector<std::vector<std::string>> all_matches(const std::string& text, const std::string& pattern) {
  std::vector<std::vector<std::string>> out;
  const std::regex re(pattern);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    std::vector<std::string> groups;
    for (size_t g = 1; g < it->size(); ++g) groups.push_back((*it)[g].str());
    out.push_back(groups);
  }
  return out;
}

// ---- the pieces ----

TEST(ReportHtml, EscapesEveryCharacterThatOpensMarkupOrEndsAnAttribute) {
  EXPECT_EQ(html_escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;");
  EXPECT_EQ(html_escape("plain cats/dog.1.jpg"), "plain cats/dog.1.jpg");
}

TEST(ReportHtml, APhotoNamedLikeMarkupInjectsNothing) {
  Report r;
  r.title = "run <b>bold</b>";
  r.class_names = {"<i>cats", "dogs\" onload=\"x"};
  r.history = three_epochs();
  r.predictions = {{"test/<i>cats/<script>alert(1)</script>.jpg", 0, 0.9f}};
  MistakePhoto m;
  m.prediction = r.predictions[0];
  m.photo_note = "could not be read again: <img src=x onerror=alert(1)>";
  m.overlay_note = "Grad-CAM overlay: not available";
  r.mistakes = {m};
  r.settings = {{"data", "<dir>"}};
  r.model_summary = "Model: \"<x>\"";
  const std::string html = render_report_html(r);
  // The page's own image-check script is the only script, and no text made a tag.
  size_t scripts = 0;
  for (size_t at = html.find("<script"); at != std::string::npos; at = html.find("<script", at + 1))
    ++scripts;
  EXPECT_EQ(scripts, 1u);
  EXPECT_EQ(html.find("<b>bold"), std::string::npos);
  EXPECT_EQ(html.find("<i>cats"), std::string::npos);
  EXPECT_EQ(html.find("<img src=x"), std::string::npos);
  EXPECT_EQ(html.find("<dir>"), std::string::npos);
  EXPECT_EQ(html.find("\" onload=\"x"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;.jpg"), std::string::npos);
  EXPECT_NE(html.find("Grad-CAM overlay: not available"), std::string::npos);
}

TEST(ReportHtml, Base64MatchesTheRfcExamplesAndDecodesBack) {
  const auto bytes = [](const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); };
  // RFC 4648 section 10.
  EXPECT_EQ(base64_encode(bytes("")), "");
  EXPECT_EQ(base64_encode(bytes("f")), "Zg==");
  EXPECT_EQ(base64_encode(bytes("fo")), "Zm8=");
  EXPECT_EQ(base64_encode(bytes("foo")), "Zm9v");
  EXPECT_EQ(base64_encode(bytes("foob")), "Zm9vYg==");
  EXPECT_EQ(base64_encode(bytes("fooba")), "Zm9vYmE=");
  EXPECT_EQ(base64_encode(bytes("foobar")), "Zm9vYmFy");
  for (size_t n = 0; n < 40; ++n) {
    std::vector<uint8_t> data(n);
    for (size_t i = 0; i < n; ++i) data[i] = static_cast<uint8_t>(uniform01(7, n, i) * 256);
    EXPECT_EQ(naive_base64_decode(base64_encode(data)), data) << n << " bytes";
  }
}

TEST(ReportHtml, ConfusionMatrixCountsEachPhotoInItsTrueRowAndPredictedColumn) {
  const std::vector<PhotoPrediction> predictions = random_predictions(200, 3);
  int64_t naive[2][2] = {{0, 0}, {0, 0}};
  for (const PhotoPrediction& p : predictions) {
    const int said = p.probability >= 0.5f ? 1 : 0;
    naive[p.label][said] += 1;
  }
  const ConfusionMatrix m = confusion_matrix(predictions);
  for (int t = 0; t < 2; ++t) {
    for (int s = 0; s < 2; ++s) EXPECT_EQ(m.counts[t][s], naive[t][s]) << "true " << t << " said " << s;
  }
  // The page shows the same counts, in the cell each belongs to, and the per-class counts.
  Report r;
  r.class_names = {"cats", "dogs"};
  r.predictions = predictions;
  const std::string html = render_report_html(r);
  const auto cells =
      all_matches(html, "data-true=\"([01])\" data-predicted=\"([01])\">([0-9]+)</td>");
  ASSERT_EQ(cells.size(), 4u);
  for (const auto& c : cells) {
    EXPECT_EQ(std::stoll(c[2]), naive[std::stoi(c[0])][std::stoi(c[1])]) << c[0] << "," << c[1];
  }
  const auto rows = all_matches(html, "data-class=\"([01])\"><td class=\"name\">[a-z]+</td>"
                                      "<td data-key=\"count\">([0-9]+)</td><td data-key=\"right\">"
                                      "([0-9]+)</td>");
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& row : rows) {
    const int t = std::stoi(row[0]);
    EXPECT_EQ(std::stoll(row[1]), naive[t][0] + naive[t][1]);
    EXPECT_EQ(std::stoll(row[2]), naive[t][t]);
  }
}

TEST(ReportHtml, MostConfidentMistakesAreTheWrongOnesByTheProbabilityOfTheWrongClass) {
  const std::vector<PhotoPrediction> predictions = random_predictions(300, 11);
  std::vector<std::pair<double, size_t>> naive;  // (-confidence in the wrong class, index)
  for (size_t i = 0; i < predictions.size(); ++i) {
    const PhotoPrediction& p = predictions[i];
    const bool says_dog = p.probability >= 0.5f;
    if (says_dog == (p.label == 1)) continue;
    naive.push_back({-(says_dog ? p.probability : 1.0 - p.probability), i});
  }
  std::sort(naive.begin(), naive.end());
  ASSERT_GT(naive.size(), 20u);
  for (const size_t n : {size_t{0}, size_t{1}, size_t{8}, naive.size(), naive.size() + 5}) {
    const std::vector<size_t> got = most_confident_mistakes(predictions, n);
    ASSERT_EQ(got.size(), std::min(n, naive.size()));
    for (size_t k = 0; k < got.size(); ++k) EXPECT_EQ(got[k], naive[k].second) << "rank " << k;
  }
  // The boundary photo (class 0 at p = 0.5) is a mistake.
  const std::vector<size_t> all = most_confident_mistakes(predictions, predictions.size());
  EXPECT_NE(std::find(all.begin(), all.end(), predictions.size() - 1), all.end());
}

TEST(ReportHtml, CurvePointsAreTheHistoryValuesOnLinearAxes) {
  std::vector<EpochRecord> history = three_epochs();
  history[0].val_loss = history[0].val_accuracy = std::nan("");  // an epoch without validation
  for (const bool accuracy : {false, true}) {
    const std::string svg = learning_curve_svg(history, accuracy);
    const auto frame = all_matches(svg, "<rect x=\"([0-9.]+)\" y=\"([0-9.]+)\" width=\"([0-9.]+)\" "
                                        "height=\"([0-9.]+)\" fill=\"none\"");
    ASSERT_EQ(frame.size(), 1u);
    const double left = std::stod(frame[0][0]), top = std::stod(frame[0][1]);
    const double right = left + std::stod(frame[0][2]), bottom = top + std::stod(frame[0][3]);
    const auto points = all_matches(svg, "data-series=\"([a-z_]+)\" data-epoch=\"([0-9]+)\" "
                                         "data-value=\"([-0-9.]+)\" cx=\"([-0-9.e]+)\" "
                                         "cy=\"([-0-9.e]+)\"");
    ASSERT_EQ(points.size(), 5u) << "3 train points and 2 test points (epoch 1 has none)";
    std::map<std::pair<std::string, int>, double> expected;
    for (const EpochRecord& e : history) {
      expected[{accuracy ? "accuracy" : "loss", e.epoch}] = accuracy ? e.accuracy : e.loss;
      if (e.epoch > 1)
        expected[{accuracy ? "val_accuracy" : "val_loss", e.epoch}] = accuracy ? e.val_accuracy : e.val_loss;
    }
    std::vector<double> epochs, values, xs, ys;
    for (const auto& p : points) {
      const auto key = std::make_pair(p[0], std::stoi(p[1]));
      ASSERT_TRUE(expected.count(key)) << p[0] << " epoch " << p[1];
      EXPECT_EQ(p[2], text_of("%.6f", expected[key]));
      expected.erase(key);
      epochs.push_back(std::stoi(p[1]));
      values.push_back(std::stod(p[2]));
      xs.push_back(std::stod(p[3]));
      ys.push_back(std::stod(p[4]));
      EXPECT_GE(xs.back(), left - 1e-6);
      EXPECT_LE(xs.back(), right + 1e-6);
      EXPECT_GE(ys.back(), top - 1e-6);
      EXPECT_LE(ys.back(), bottom + 1e-6);
    }
    EXPECT_TRUE(expected.empty());
    // x grows with the epoch and y falls as the value rises, each at one constant rate: two
    // points fix the scale, and every other point must sit on it. The first and last epochs span
    // the frame.
    const auto lowest = std::min_element(values.begin(), values.end()) - values.begin();
    const auto highest = std::max_element(values.begin(), values.end()) - values.begin();
    const double y_per_value = (ys[highest] - ys[lowest]) / (values[highest] - values[lowest]);
    EXPECT_LT(y_per_value, 0);
    for (size_t i = 0; i < points.size(); ++i) {
      EXPECT_NEAR(ys[i], ys[lowest] + (values[i] - values[lowest]) * y_per_value, 0.05) << i;
      EXPECT_NEAR(xs[i], left + (epochs[i] - 1) / 2.0 * (right - left), 0.05) << i;
    }
  }
}

TEST(ReportHtml, HistoryTableShowsEachEpochAsHistoryCsvPrintsIt) {
  Report r;
  r.class_names = {"cats", "dogs"};
  r.history = three_epochs();
  const std::string html = render_report_html(r);
  const auto rows = all_matches(html, "<tr class=\"epoch\" data-epoch=\"([0-9]+)\"><td>[0-9]+</td>"
                                      "<td data-key=\"loss\">([^<]*)</td><td data-key=\"accuracy\">"
                                      "([^<]*)</td><td data-key=\"val_loss\">([^<]*)</td>"
                                      "<td data-key=\"val_accuracy\">([^<]*)</td><td data-key="
                                      "\"seconds\">([^<]*)</td>");
  ASSERT_EQ(rows.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const EpochRecord& e = r.history[i];
    EXPECT_EQ(rows[i][0], std::to_string(e.epoch));
    EXPECT_EQ(rows[i][1], text_of("%.6f", e.loss));
    EXPECT_EQ(rows[i][2], text_of("%.6f", e.accuracy));
    EXPECT_EQ(rows[i][3], text_of("%.6f", e.val_loss));
    EXPECT_EQ(rows[i][4], text_of("%.6f", e.val_accuracy));
    EXPECT_EQ(rows[i][5], text_of("%.3f", e.seconds));
  }
}

TEST(ReportHtml, HistoryCsvReadsBackWhatWasWritten) {
  std::vector<EpochRecord> history = three_epochs();
  history[1].val_loss = history[1].val_accuracy = std::nan("");
  const std::string path = test::temp_dir("report_history") + "/history.csv";
  write_history_csv(path, history);
  const std::vector<EpochRecord> back = read_history_csv(path);
  ASSERT_EQ(back.size(), history.size());
  for (size_t i = 0; i < back.size(); ++i) {
    EXPECT_EQ(back[i].epoch, history[i].epoch);
    EXPECT_NEAR(back[i].loss, history[i].loss, 1e-6);
    EXPECT_NEAR(back[i].accuracy, history[i].accuracy, 1e-6);
    EXPECT_NEAR(back[i].seconds, history[i].seconds, 1e-3);
    if (i == 1) {
      EXPECT_TRUE(std::isnan(back[i].val_loss));
    } else {
      EXPECT_NEAR(back[i].val_accuracy, history[i].val_accuracy, 1e-6);
    }
  }
  std::ofstream(path, std::ios::app) << "4,0.1,oops\n";
  EXPECT_NE(test::error_message([&] { read_history_csv(path); }).find("history.csv:5"),
            std::string::npos);
}

// ---- whole reports, in a real browser ----

// The browser: Debian's chromium. Empty when it is not installed.
std::string chromium_path() {
  for (const char* candidate : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (fs::exists(candidate)) return candidate;
  }
  return "";
}

// Runs headless chromium on `html_file` with `flags`; its stdout. A fresh profile and HOME in
// `work`, no sandbox (tests may run as root), and a time limit so a hang cannot stall the suite.
std::string run_chromium(const std::string& html_file, const std::string& flags,
                         const std::string& work) {
  const std::string out = work + "/chromium.out";
  const std::string command = "HOME='" + work + "' timeout 90 '" + chromium_path() +
                              "' --headless --no-sandbox --disable-gpu --no-first-run "
                              "--user-data-dir='" + work + "/profile' " + flags + " 'file://" +
                              fs::absolute(html_file).string() + "' >'" + out + "' 2>'" + work +
                              "/chromium.err'";
  const int status = std::system(command.c_str());
  EXPECT_EQ(status, 0) << command << "\n" << test::read_text(work + "/chromium.err");
  return test::read_text(out);
}

// What a browser shows of a report: its DOM after the scripts ran, and a screenshot.
struct BrowserView {
  std::string dom;
  int images_ok = -1, images = -1;  // from the page's #image-check
  Image screenshot;
};

BrowserView view_in_browser(const std::string& html_file, const std::string& name) {
  const std::string work = test::temp_dir(name);
  BrowserView view;
  view.dom = run_chromium(html_file, "--virtual-time-budget=10000 --dump-dom", work);
  std::smatch m;
  if (std::regex_search(view.dom, m, std::regex("images ok ([0-9]+) of ([0-9]+)"))) {
    view.images_ok = std::stoi(m[1]);
    view.images = std::stoi(m[2]);
  }
  const std::string png = work + "/screenshot.png";
  run_chromium(html_file, "--screenshot='" + png + "' --window-size=1200,2000", work);
  if (fs::exists(png)) view.screenshot = decode_image_file(png);
  return view;
}

// A screenshot with text, tables and pictures has many colours and plenty of non-white pixels.
void expect_not_blank(const Image& shot) {
  ASSERT_EQ(shot.width, 1200);
  ASSERT_EQ(shot.height, 2000);
  std::set<uint32_t> colours;
  int64_t inked = 0;
  for (size_t i = 0; i + 2 < shot.rgb.size(); i += 3) {
    const uint8_t r = shot.rgb[i], g = shot.rgb[i + 1], b = shot.rgb[i + 2];
    colours.insert(uint32_t{r} << 16 | uint32_t{g} << 8 | b);
    inked += (r < 240 || g < 240 || b < 240);
  }
  EXPECT_GT(colours.size(), 100u);
  EXPECT_GT(inked, int64_t{1200} * 2000 / 50) << "fewer than 2% of the pixels are not white";
}

// The per-epoch numbers in the page, key -> text per epoch, from the DOM.
std::map<std::string, std::vector<std::string>> page_history(const std::string& dom) {
  std::map<std::string, std::vector<std::string>> out;
  const size_t begin = dom.find("<table id=\"history\">");
  if (begin == std::string::npos) return out;
  const std::string table = dom.substr(begin, dom.find("</table>", begin) - begin);
  for (const auto& m : all_matches(table, "<td data-key=\"(loss|accuracy|val_loss|val_accuracy|"
                                        "seconds|phase)\">([^<]*)</td>")) {
    out[m[0]].push_back(m[1]);
  }
  return out;
}

// history.csv as text columns, parsed here.
std::map<std::string, std::vector<std::string>> csv_columns(const std::string& path) {
  std::istringstream in(test::read_text(path));
  std::string line, cell;
  std::getline(in, line);
  std::vector<std::string> names;
  for (std::istringstream header(line); std::getline(header, cell, ',');) names.push_back(cell);
  std::map<std::string, std::vector<std::string>> out;
  while (std::getline(in, line)) {
    std::istringstream row(line);
    for (size_t c = 0; std::getline(row, cell, ','); ++c) out[names.at(c)].push_back(cell);
  }
  out.erase("epoch");
  return out;
}

struct PageCounts {
  int64_t cells[2][2] = {{0, 0}, {0, 0}};
  int64_t total() const { return cells[0][0] + cells[0][1] + cells[1][0] + cells[1][1]; }
  int64_t right() const { return cells[0][0] + cells[1][1]; }
};
PageCounts page_confusion(const std::string& dom) {
  PageCounts c;
  for (const auto& m : all_matches(dom, "data-true=\"([01])\" data-predicted=\"([01])\">([0-9]+)<")) {
    c.cells[std::stoi(m[0])][std::stoi(m[1])] = std::stoll(m[2]);
  }
  return c;
}

// The mistakes shown: each must be a wrongly predicted test photo of the class its folder names,
// most confident first, with a thumbnail and a Grad-CAM overlay, both JPEGs of the model's input
// size, and the photo read again must get the evaluation's probability back.
void expect_mistakes_are_wrong_and_sorted(const std::string& dom, const std::string& test_dir,
                                          int image_size, size_t expected_count) {
  const auto figures = all_matches(dom, "<figure class=\"mistake\" data-path=\"([^\"]*)\" "
                                        "data-label=\"([01])\" data-probability=\"([0-9.]+)\" "
                                        "data-recomputed-probability=\"([^\"]*)\">"
                                        "\\s*<div class=\"pair\"><img alt=\"[^\"]*\" "
                                        "src=\"data:image/jpeg;base64,([^\"]+)\">"
                                        "<img alt=\"Grad-CAM of [^\"]*\" "
                                        "src=\"data:image/jpeg;base64,([^\"]+)\">");
  ASSERT_EQ(figures.size(), expected_count);
  double previous = 2;
  for (const auto& f : figures) {
    const int label = std::stoi(f[1]);
    const double p = std::stod(f[2]);
    const std::string folder = fs::path(f[0]).parent_path().filename().string();
    EXPECT_EQ(folder, label == 0 ? "cats" : "dogs") << f[0];
    EXPECT_EQ(fs::path(f[0]).parent_path().parent_path(), fs::path(test_dir)) << f[0];
    EXPECT_NE(p >= 0.5, label == 1) << f[0] << " is not a mistake";
    const double wrong = label == 0 ? p : 1 - p;
    EXPECT_LE(wrong, previous + 1e-9);
    previous = wrong;
    EXPECT_NEAR(std::stod(f[3]), p, 1e-4) << f[0] << " read again is not the photo evaluated";
    const std::vector<uint8_t> photo_jpeg = naive_base64_decode(f[4]);
    const std::vector<uint8_t> overlay_jpeg = naive_base64_decode(f[5]);
    const Image photo = decode_image_memory(photo_jpeg.data(), photo_jpeg.size(), "thumbnail");
    const Image overlay = decode_image_memory(overlay_jpeg.data(), overlay_jpeg.size(), "overlay");
    EXPECT_EQ(photo.width, image_size);
    EXPECT_EQ(photo.height, image_size);
    EXPECT_EQ(overlay.width, image_size);
    EXPECT_EQ(overlay.height, image_size);
    EXPECT_NE(photo.rgb, overlay.rgb) << "the overlay is the bare photo";
  }
}

// The page's own check must tell a broken picture from a good one, or it proves nothing.
TEST(ReportInBrowser, ImageCheckCountsOnlyTheImagesThatDecoded) {
  if (chromium_path().empty()) {
    GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
  }
  Report r;
  r.class_names = {"cats", "dogs"};
  r.predictions = {{"a.jpg", 0, 0.9f}, {"b.jpg", 1, 0.2f}};
  MistakePhoto good, broken;
  const std::vector<uint8_t> gray(16 * 16 * 3, 128);
  good.prediction = r.predictions[0];
  good.photo_jpeg = encode_jpeg(gray.data(), 16, 16, JpegInput::rgb, 90);
  good.overlay_note = "Grad-CAM overlay: not available";
  broken.prediction = r.predictions[1];
  broken.photo_jpeg = {0xff, 0xd8, 0xff, 0x00, 0x01, 0x02};  // a JPEG's first bytes, then junk
  broken.overlay_note = "Grad-CAM overlay: not available";
  r.mistakes = {good, broken};
  const std::string dir = test::temp_dir("report_broken_image");
  write_report_html(dir + "/report.html", r);
  const BrowserView view = view_in_browser(dir + "/report.html", "report_browser_broken");
  EXPECT_EQ(view.images, 2) << view.dom;
  EXPECT_EQ(view.images_ok, 1);
}

class ReportRun : public ::testing::Test {
 protected:
  // One small train run (vgg1 at 32x32, two epochs: far from perfect, so there are mistakes).
  static void SetUpTestSuite() {
    const std::string root = test::temp_dir("report_run");
    data_ = new std::string(test::write_small_dataset(root + "/data", 16, 64, /*seed=*/4));
    run_dir_ = new std::string(root + "/run");
    TrainOptions o = test::small_run(*data_, *run_dir_);
    o.epochs = 2;
    std::ostringstream lines;
    result_ = new TrainResult(train(o, lines));
    output_ = new std::string(lines.str());
  }
  static void TearDownTestSuite() {
    delete data_;
    delete run_dir_;
    delete result_;
    delete output_;
  }
  static std::string *data_, *run_dir_, *output_;
  static TrainResult* result_;
};
std::string *ReportRun::data_ = nullptr, *ReportRun::run_dir_ = nullptr, *ReportRun::output_ = nullptr;
TrainResult* ReportRun::result_ = nullptr;

TEST_F(ReportRun, TrainWritesAReportWhoseNumbersAreHistoryCsvs) {
  const std::string report = *run_dir_ + "/report.html";
  ASSERT_TRUE(fs::exists(report));
  EXPECT_NE(output_->find("Report written to " + report), std::string::npos) << *output_;
  const std::string html = test::read_text(report);
  EXPECT_EQ(page_history(html), csv_columns(*run_dir_ + "/history.csv"));
  // The confusion matrix is of the final model: its accuracy is the last epoch's val_accuracy.
  const PageCounts c = page_confusion(html);
  EXPECT_EQ(c.total(), 8);  // a quarter of 2 x 16 photos are test photos
  ASSERT_EQ(result_->history.size(), 2u);
  EXPECT_NEAR(static_cast<double>(c.right()) / c.total(), result_->history.back().val_accuracy,
              1e-9);
  ASSERT_LT(c.right(), c.total()) << "the run made no mistake; the mistakes cannot be checked";
  expect_mistakes_are_wrong_and_sorted(html, *data_ + "/test", 32,
                                       std::min<size_t>(kReportMistakes, c.total() - c.right()));
  EXPECT_NE(html.find("Non-trainable params"), std::string::npos) << "the model summary";
  EXPECT_NE(html.find(*data_), std::string::npos) << "the settings name the data";
}

TEST_F(ReportRun, ChromiumLoadsTheTrainReportWithEveryImageAndTheHistory) {
  if (chromium_path().empty()) {
    GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it): the report is not "
                    "checked in a browser";
  }
  const std::string report = *run_dir_ + "/report.html";
  const BrowserView view = view_in_browser(report, "report_browser_train");
  ASSERT_GT(view.images, 0) << "no image-check result: did the page's script run?\n" << view.dom;
  EXPECT_EQ(view.images_ok, view.images);
  // The DOM as the browser built it holds history.csv's numbers.
  EXPECT_EQ(page_history(view.dom), csv_columns(*run_dir_ + "/history.csv"));
  const PageCounts c = page_confusion(view.dom);
  EXPECT_EQ(c.total(), 8);
  expect_not_blank(view.screenshot);
}

TEST_F(ReportRun, EvaluateReportIsOfTheEvaluationAndLoadsInChromium) {
  const std::string work = test::temp_dir("report_evaluate");
  const std::string report = work + "/evaluation.html";
  const test::CliResult r =
      test::run_catdog({"evaluate", "--model", *run_dir_ + "/model.h5", "--data", *data_ + "/test",
                        "--device", "cpu", "--report", report},
                       work);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Report written to " + report), std::string::npos) << r.out;
  const std::string html = test::read_text(report);
  // The counts are evaluate's own ("correct: N" of "images: M"), the curves history.csv's.
  std::smatch images, correct;
  ASSERT_TRUE(std::regex_search(r.out, images, std::regex("images: ([0-9]+)")));
  ASSERT_TRUE(std::regex_search(r.out, correct, std::regex("correct: ([0-9]+)")));
  const PageCounts c = page_confusion(html);
  EXPECT_EQ(c.total(), std::stoll(images[1]));
  EXPECT_EQ(c.right(), std::stoll(correct[1]));
  EXPECT_EQ(page_history(html), csv_columns(*run_dir_ + "/history.csv"));
  expect_mistakes_are_wrong_and_sorted(html, *data_ + "/test", 32,
                                       std::min<size_t>(kReportMistakes, c.total() - c.right()));
  if (chromium_path().empty()) {
    GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it): the report is not "
                    "checked in a browser";
  }
  const BrowserView view = view_in_browser(report, "report_browser_evaluate");
  ASSERT_GT(view.images, 0) << view.dom;
  EXPECT_EQ(view.images_ok, view.images);
  expect_not_blank(view.screenshot);
}

}  // namespace
}  // namespace catdog
