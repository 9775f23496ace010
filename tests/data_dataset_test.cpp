// Dataset scanning (class folders, Kaggle flat layout, errors) and prepare_dataset (split counts,
// hard links, seed determinism).
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "data/dataset.h"
#include "core/error.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {
namespace fs = std::filesystem;

void touch(const fs::path& path, const std::string& content = "x") {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << content;
}

std::string error_of(const std::string& dir) {
  try {
    scan_dataset(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ScanDataset, ClassFoldersSortedGiveLabels) {
  const fs::path root = test::temp_dir("scan_folders");
  touch(root / "dogs" / "b.JPG");
  touch(root / "dogs" / "a.jpeg");
  touch(root / "dogs" / "notes.txt");   // not an image extension
  touch(root / "dogs" / ".hidden.jpg");  // hidden
  touch(root / "cats" / "sub" / "z.png");
  touch(root / "cats" / "y.webp");
  const Dataset d = scan_dataset(root.string());
  ASSERT_EQ(d.class_names, (std::vector<std::string>{"cats", "dogs"}));
  ASSERT_EQ(d.images.size(), 4u);
  EXPECT_EQ(d.images[0].path, (root / "cats" / "sub" / "z.png").string());
  EXPECT_EQ(d.images[1].path, (root / "cats" / "y.webp").string());
  EXPECT_EQ(d.images[2].path, (root / "dogs" / "a.jpeg").string());
  EXPECT_EQ(d.images[3].path, (root / "dogs" / "b.JPG").string());
  EXPECT_EQ(d.images[0].label, 0);
  EXPECT_EQ(d.images[1].label, 0);
  EXPECT_EQ(d.images[2].label, 1);
  EXPECT_EQ(d.images[3].label, 1);
}

TEST(ScanDataset, KaggleFlatLayout) {
  const fs::path root = test::temp_dir("scan_flat");
  for (const char* name : {"dog.2.jpg", "cat.10.jpg", "cat.1.jpg", "dog.1.jpg", "other.jpg"}) {
    touch(root / name);
  }
  const Dataset d = scan_dataset(root.string());
  ASSERT_EQ(d.class_names, (std::vector<std::string>{"cats", "dogs"}));
  ASSERT_EQ(d.images.size(), 4u);  // other.jpg is neither
  EXPECT_EQ(fs::path(d.images[0].path).filename(), "cat.1.jpg");
  EXPECT_EQ(fs::path(d.images[1].path).filename(), "cat.10.jpg");
  EXPECT_EQ(fs::path(d.images[2].path).filename(), "dog.1.jpg");
  EXPECT_EQ(d.images[1].label, 0);
  EXPECT_EQ(d.images[2].label, 1);
}

TEST(ScanDataset, ClearErrors) {
  EXPECT_NE(error_of("/nonexistent/dataset").find("does not exist"), std::string::npos);
  const fs::path empty = test::temp_dir("scan_empty");
  fs::create_directories(empty / "cats");
  fs::create_directories(empty / "dogs");
  EXPECT_NE(error_of(empty.string()).find("holds no images"), std::string::npos);
  const fs::path one = test::temp_dir("scan_one_class");
  touch(one / "cats" / "a.jpg");
  fs::create_directories(one / "dogs");
  EXPECT_NE(error_of(one.string()).find("only one class"), std::string::npos);
  const fs::path split = test::temp_dir("scan_split");
  touch(split / "train" / "cats" / "a.jpg");
  touch(split / "test" / "cats" / "b.jpg");
  EXPECT_NE(error_of(split.string()).find("holds train/ and test/"), std::string::npos);
}

TEST(ShuffledOrder, IsASeededPermutation) {
  const std::vector<int64_t> a = shuffled_order(1000, 5, 9);
  EXPECT_EQ(a, shuffled_order(1000, 5, 9));
  EXPECT_NE(a, shuffled_order(1000, 6, 9));
  EXPECT_NE(a, shuffled_order(1000, 5, 10));
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) ASSERT_EQ(sorted[i], i);
  int fixed = 0;
  for (int64_t i = 0; i < 1000; ++i) fixed += a[i] == i;
  EXPECT_LT(fixed, 10);  // a shuffle, not the identity
}

// Files under dir/split/class, by name.
std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  if (!fs::exists(dir)) return names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

TEST(PrepareDataset, SplitsEachClassByTheSeedWithHardLinks) {
  const fs::path root = test::temp_dir("prepare");
  const fs::path from = root / "kaggle";
  for (int i = 0; i < 40; ++i) touch(from / ("cat." + std::to_string(i) + ".jpg"), "c" + std::to_string(i));
  for (int i = 0; i < 20; ++i) touch(from / ("dog." + std::to_string(i) + ".jpg"), "d" + std::to_string(i));

  const PrepareReport r = prepare_dataset(from.string(), (root / "a").string(), 0.25, 1);
  EXPECT_EQ(r.test, 10 + 5);
  EXPECT_EQ(r.train, 30 + 15);
  EXPECT_TRUE(r.hard_linked);
  EXPECT_EQ(names_in(root / "a" / "test" / "cats").size(), 10u);
  EXPECT_EQ(names_in(root / "a" / "test" / "dogs").size(), 5u);
  EXPECT_EQ(names_in(root / "a" / "train" / "cats").size(), 30u);
  EXPECT_EQ(names_in(root / "a" / "train" / "dogs").size(), 15u);
  // Each file is in exactly one split, and is the same inode as its source.
  std::set<std::string> all = names_in(root / "a" / "test" / "cats");
  for (const std::string& n : names_in(root / "a" / "train" / "cats")) EXPECT_TRUE(all.insert(n).second);
  EXPECT_EQ(all.size(), 40u);
  struct stat src {}, dst {};
  const std::string one = *names_in(root / "a" / "test" / "dogs").begin();
  ASSERT_EQ(stat((from / one).c_str(), &src), 0);
  ASSERT_EQ(stat((root / "a" / "test" / "dogs" / one).c_str(), &dst), 0);
  EXPECT_EQ(src.st_ino, dst.st_ino);

  // Same seed, same split; another seed, another split.
  prepare_dataset(from.string(), (root / "b").string(), 0.25, 1);
  EXPECT_EQ(names_in(root / "a" / "test" / "cats"), names_in(root / "b" / "test" / "cats"));
  EXPECT_EQ(names_in(root / "a" / "test" / "dogs"), names_in(root / "b" / "test" / "dogs"));
  prepare_dataset(from.string(), (root / "c").string(), 0.25, 2);
  EXPECT_NE(names_in(root / "a" / "test" / "cats"), names_in(root / "c" / "test" / "cats"));

  // The result is a train/ + test/ dataset the scanner reads.
  const Dataset train = scan_dataset((root / "a" / "train").string());
  EXPECT_EQ(train.images.size(), 45u);
  EXPECT_EQ(train.class_names, (std::vector<std::string>{"cats", "dogs"}));
}

TEST(PrepareDataset, RefusesToOverwriteAndBadFractions) {
  const fs::path root = test::temp_dir("prepare_refuse");
  touch(root / "src" / "cats" / "a.jpg");
  touch(root / "src" / "dogs" / "b.jpg");
  prepare_dataset((root / "src").string(), (root / "out").string(), 0.5, 1);
  EXPECT_THROW(prepare_dataset((root / "src").string(), (root / "out").string(), 0.5, 1), Error);
  EXPECT_THROW(prepare_dataset((root / "src").string(), (root / "o2").string(), 1.0, 1), Error);
  EXPECT_THROW(prepare_dataset((root / "src").string(), (root / "o3").string(), -0.1, 1), Error);
}

}  // namespace
}  // namespace catdog
