// report.html: one self-contained page about a trained model, for a person to read in a browser
// with no network. It shows the learning curves (inline SVG drawn here, so no plotting library is
// needed), the confusion matrix with per-class counts and accuracy, the photos the model got most
// confidently wrong (JPEG thumbnails embedded as data: URIs, each beside its Grad-CAM overlay),
// the run's settings and timings, and the model summary.
//
// This file only turns a Report into HTML; training/run_report.h fills one from a training run or
// an evaluation. Every text that comes from outside (file names, class folders, model names) is
// escaped, so a photo named `<script>.jpg` shows as that name and runs nothing.
//
// The numbers are also machine-readable, for tests and scripts: each epoch row carries
// data-epoch and its cells data-key (the history.csv column, printed as history.csv prints it),
// each curve point data-series/data-epoch/data-value, each confusion cell data-true and
// data-predicted. A script in the page counts the images that decoded into #image-check.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "training/trainer.h"

namespace catdog {

// One evaluated photo: its true label and the model's probability of the second class.
struct PhotoPrediction {
  std::string path;
  int label = 0;          // 0 or 1, the class folder's index
  float probability = 0;  // p(class 1); the prediction is class 1 when p >= 0.5
};
inline int predicted_label(const PhotoPrediction& p) { return p.probability >= 0.5f ? 1 : 0; }

// counts[true label][predicted label].
struct ConfusionMatrix {
  int64_t counts[2][2] = {{0, 0}, {0, 0}};
};
ConfusionMatrix confusion_matrix(const std::vector<PhotoPrediction>& predictions);

// The indices of the wrongly predicted photos, at most `n`, most confident first: by the
// probability given to the wrong class (p for a class-0 photo, 1 - p for a class-1 photo); equal
// ones in their original order.
std::vector<size_t> most_confident_mistakes(const std::vector<PhotoPrediction>& predictions,
                                            size_t n);

// A wrongly predicted photo as the model saw it (resized to its input), and the Grad-CAM heat
// over it. An empty JPEG is shown as its note instead ("Grad-CAM overlay: not available").
struct MistakePhoto {
  PhotoPrediction prediction;
  std::vector<uint8_t> photo_jpeg;
  std::string photo_note;    // why there is no photo (it could not be read again)
  std::vector<uint8_t> overlay_jpeg;
  std::string overlay_note;  // the layer the heat comes from, or why there is none
  // p(class 1) of the photo decoded again, from Grad-CAM's forward pass (NaN without one): the
  // evaluation's probability when the photo was read again as it was evaluated.
  float recomputed_probability = std::numeric_limits<float>::quiet_NaN();
};

using TextRows = std::vector<std::pair<std::string, std::string>>;  // name, value

struct Report {
  std::string title;                     // "catdog train: tiny-darknet_transfer"
  std::vector<std::string> class_names;  // label -> name (the class folders)
  std::vector<EpochRecord> history;      // empty: no curves (history_note says why)
  std::string history_note;
  std::string predictions_source;        // what was evaluated: "runs/x: test/ after epoch 10"
  std::vector<PhotoPrediction> predictions;
  std::vector<MistakePhoto> mistakes;
  TextRows settings, timings;
  std::string model_summary;             // training/model_summary.h's table
};

// & < > " ' as entities: safe in element text and in quoted attribute values.
std::string html_escape(const std::string& text);

// RFC 4648 base64 with padding (what a data: URI carries).
std::string base64_encode(const std::vector<uint8_t>& bytes);

// One panel of the learning curves as an <svg> element: loss (accuracy = false) or accuracy per
// epoch, train and test (val_*) series, with axes, ticks, labels and a legend, and a dashed line
// (class fine-tuning-start, data-epoch its first epoch) where fine-tuning starts. NaN values (no
// validation) are left out.
std::string learning_curve_svg(const std::vector<EpochRecord>& history, bool accuracy);

std::string render_report_html(const Report& report);

// render_report_html, written atomically to `path`.
void write_report_html(const std::string& path, const Report& report);

}  // namespace catdog
