// prepare_dataset: the seeded train/test split of a folder of photos (catdog prepare).
#include <cmath>
#include <filesystem>
#include <map>
#include <vector>

#include "data/dataset.h"
#include "core/error.h"

namespace catdog {
namespace fs = std::filesystem;
namespace {

// Split draws use streams 0x50000000 + label, apart from other uses of the generator.
constexpr uint64_t kSplitStream = 0x50000000ull;

bool holds_files(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir, ec) && !fs::is_empty(dir, ec);
}

// Hard link `from` at `to`, or copy it when a link cannot be made. Returns whether it linked.
bool link_or_copy(const fs::path& from, const fs::path& to) {
  CATDOG_CHECK(!fs::exists(to), "prepare: '", to.string(), "' already exists (two source files ",
               "with the same name?)");
  std::error_code ec;
  fs::create_hard_link(from, to, ec);
  if (!ec) return true;
  fs::copy_file(from, to, ec);
  CATDOG_CHECK(!ec, "prepare: cannot link or copy '", from.string(), "' to '", to.string(),
               "': ", ec.message());
  return false;
}

}  // namespace

PrepareReport prepare_dataset(const std::string& from, const std::string& to,
                              double test_fraction, uint64_t seed) {
  CATDOG_CHECK(test_fraction >= 0.0 && test_fraction < 1.0, "prepare: test fraction ",
               test_fraction, " must be in [0, 1)");
  const Dataset dataset = scan_dataset(from);
  const fs::path out(to);
  for (const char* split : {"train", "test"}) {
    CATDOG_CHECK(!holds_files(out / split), "prepare: '", (out / split).string(),
                 "' already holds files; remove it or choose another --to");
  }
  // Every destination is decided, and checked for a collision, before anything is written: a
  // collision found half-way left files behind, and the rerun was refused for them.
  struct Placement {
    fs::path source, dest;
    bool test;
  };
  std::vector<Placement> plan;
  std::map<fs::path, fs::path> source_of;  // destination -> the file placed there
  for (int label = 0; label < static_cast<int>(dataset.class_names.size()); ++label) {
    std::vector<const LabeledImage*> members;
    for (const LabeledImage& image : dataset.images) {
      if (image.label == label) members.push_back(&image);
    }
    const std::string& name = dataset.class_names[label];
    const int64_t n = static_cast<int64_t>(members.size());
    const int64_t n_test = std::llround(static_cast<double>(n) * test_fraction);
    const std::vector<int64_t> order = shuffled_order(n, seed, kSplitStream + label);
    for (int64_t k = 0; k < n; ++k) {
      const fs::path source(members[order[k]]->path);
      const bool test = k < n_test;
      const fs::path dest = out / (test ? "test" : "train") / name / source.filename();
      const auto [taken, placed] = source_of.emplace(dest, source);
      CATDOG_CHECK(placed, "prepare: '", source.string(), "' and '", taken->second.string(),
                   "' would both become '", dest.string(), "' (two source files with the same ",
                   "name); nothing was written");
      plan.push_back({source, dest, test});
    }
  }
  PrepareReport report;
  for (const std::string& name : dataset.class_names) {
    fs::create_directories(out / "train" / name);
    fs::create_directories(out / "test" / name);
  }
  for (const Placement& p : plan) {
    report.hard_linked = link_or_copy(p.source, p.dest) && report.hard_linked;
    ++(p.test ? report.test : report.train);
  }
  return report;
}

}  // namespace catdog
