// One test per fuzzer finding (fuzz/, docs/RELIABILITY.md): the input that broke a reader, in
// its smallest form, now gives a catdog::Error or the right result. One suite, fuzz_regressions
// (so `ctest -R fuzz_regressions` runs them all); each name starts with the reader it is about.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "training/model_setup.h"
#include "data/dataset.h"
#include "core/error.h"
#include "engine/model_config.h"
#include "tests/support/cli.h"
#include "tests/support/test_support.h"
#include "weights/keras_h5.h"
#include "weights/npy.h"

namespace catdog {
namespace {
namespace fs = std::filesystem;

// fuzz_npy: an empty array whose other dimensions overflow int64 together, (2^40, 2^40, 0). The
// data size check passed (0 bytes), then numel() multiplied 2^40 * 2^40: signed overflow (UBSan).
TEST(fuzz_regressions, NpyEmptyArrayWithOverflowingDimensionsIsRefused) {
  const std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776, 0), }\n";
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  EXPECT_NE(test::error_message([&] { decode_npy(bytes, "overflow.npy"); }).find("absurd shape"),
            std::string::npos);
}

void touch(const fs::path& path) {
  fs::create_directories(path.parent_path());
  std::ofstream{path} << "x";
}

// fuzz_dataset_names: a link to its own folder ("do" -> ".") sent the recursive scan round until
// the OS said "too many levels of symbolic links", thrown as std::filesystem_error.
TEST(fuzz_regressions, DatasetLinkLoopInAClassFolderIsReadOnce) {
  const fs::path root = test::temp_dir("fuzz_link_loop");
  touch(root / "cats" / "a.jpg");
  touch(root / "dogs" / "b.jpg");
  fs::create_directory_symlink(".", root / "cats" / "again");
  const Dataset d = scan_dataset(root.string());
  ASSERT_EQ(d.images.size(), 2u);
  EXPECT_EQ(d.images[0].path, (root / "cats" / "a.jpg").string());
  EXPECT_EQ(d.images[1].label, 1);
}

// fuzz_dataset_names: a link to itself ("P" -> "P") made directory_entry::is_directory() throw
// std::filesystem_error (ELOOP) in the top-level listing; it is a broken entry, skipped.
TEST(fuzz_regressions, DatasetSelfLinkIsSkipped) {
  const fs::path folders = test::temp_dir("fuzz_self_link_folders");
  touch(folders / "cats" / "a.jpg");
  touch(folders / "dogs" / "b.jpg");
  fs::create_symlink("P", folders / "P");
  EXPECT_EQ(scan_dataset(folders.string()).images.size(), 2u);

  const fs::path flat = test::temp_dir("fuzz_self_link_flat");
  touch(flat / "cat.1.jpg");
  touch(flat / "dog.1.jpg");
  fs::create_symlink("cat.2.jpg", flat / "cat.2.jpg");
  EXPECT_EQ(scan_dataset(flat.string()).images.size(), 2u);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Offset of the size field of the first global heap object with this index (0: the free space).
size_t heap_object_size_field(const std::string& file, uint16_t wanted) {
  const size_t collection = file.find("GCOL");
  if (collection == std::string::npos) return 0;
  for (size_t p = collection + 16; p + 16 <= file.size();) {
    uint16_t index = 0;
    uint64_t size = 0;
    std::memcpy(&index, file.data() + p, 2);
    std::memcpy(&size, file.data() + p + 8, 8);
    if (index == wanted) return p + 8;
    if (index == 0) return 0;
    p += 16 + (size + 7) / 8 * 8;
  }
  return 0;
}

// fuzz_keras_h5: h5py stores variable-length strings (layer_names, weight_names) in a global heap
// collection. With the free space's size set to 0, HDF5 1.10 loops forever in
// H5HG__cache_heap_deserialize; with an object's size near 2^64 its pointer wraps. Both are now
// refused before HDF5 reads the file, and the unmodified file still loads.
TEST(fuzz_regressions, KerasH5CorruptGlobalHeapIsRefusedBeforeHdf5Hangs) {
  const std::string seed = std::string(CATDOG_SOURCE_DIR) + "/fuzz/corpus/fuzz_keras_h5/save_weights.h5";
  const std::string good = read_file(seed);
  ASSERT_FALSE(good.empty()) << seed;
  EXPECT_EQ(read_keras_h5(seed).layers.size(), 5u);

  const std::string dir = test::temp_dir("fuzz_global_heap");
  for (const auto& [index, size] : {std::pair<uint16_t, uint64_t>{0, 0}, {1, ~uint64_t{0} - 3}}) {
    std::string bad = good;
    const size_t field = heap_object_size_field(bad, index);
    ASSERT_NE(field, 0u) << "no global heap object " << index << " in " << seed;
    std::memcpy(bad.data() + field, &size, 8);
    const std::string path = dir + "/heap_" + std::to_string(index) + ".h5";
    std::ofstream(path, std::ios::binary) << bad;
    const std::string message = test::error_message([&] { read_keras_h5(path); });
    EXPECT_NE(message.find("corrupt HDF5 global heap"), std::string::npos) << message;
  }
}

// fuzz_keras_h5: a model.h5 whose catdog_state JSON has a field of another type ({"preprocess":
// 5}) made load_trained_model throw nlohmann::json's type_error, which no caller catches as a
// catdog::Error (std::terminate in the fuzzer). Now every odd catdog_state is an error naming it.
TEST(fuzz_regressions, KerasH5CatdogStateOfTheWrongTypeIsRefused) {
  ParsedModel parsed = parse_model_config_text(R"({"class_name": "Sequential", "config": {"layers": [
      {"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": [null, 4, 4, 3]}},
      {"class_name": "Flatten", "config": {"name": "flat"}},
      {"class_name": "Dense", "config": {"name": "out", "units": 1}}]}})");
  parsed.model.build(parsed.input_hwc);
  const std::string dir = test::temp_dir("fuzz_catdog_state");
  for (const char* state : {R"({"preprocess": 5})", R"({"base": []})", R"({"image_size": "big"})",
                            R"({"image_size": 1e300})", R"({"image_size": -3})", "[1]", "7"}) {
    SaveExtras extras;
    extras.catdog_state = state;
    const std::string path = dir + "/model.h5";
    save_keras_model(path, parsed.model, "m", extras);
    const std::string message = test::error_message([&] { load_trained_model(path); });
    EXPECT_NE(message.find("catdog_state"), std::string::npos) << state << ": " << message;
  }
}

}  // namespace
}  // namespace catdog

namespace catdog {
namespace {

// fuzz_keras_h5: 85 inputs crashed inside libhdf5 1.10.8 itself (corrupt object headers; 29 of
// them SIGSEGV even without sanitizers), where no check of ours can reach. read_keras_h5 now
// reads a file first in a child process, so HDF5 dying there becomes an error line. This file
// (one of the fuzzer's, 15 KB) killed `catdog evaluate` with SIGSEGV before.
TEST(fuzz_regressions, KerasH5ThatCrashesHdf5IsAnErrorNotACrash) {
  const std::string path =
      std::string(CATDOG_SOURCE_DIR) + "/tests/fixtures/hdf5_crashes/segv_in_libhdf5.h5";
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  try {
    read_keras_h5(path);
    FAIL() << "a corrupt file was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt HDF5 file"), std::string::npos) << e.what();
  }
}

// fuzz_keras_h5, 2026-12-01: a 24 KB full model whose model_config is a variable-length string
// with a corrupt length. HDF5 allocates and fills 4 GiB for it before failing; the child's read
// failed "cleanly" and the parent read the file again, so `catdog summary` peaked at 4.3 GB. The
// child's address space is now capped near what it has mapped, and its error is the error.
TEST(fuzz_regressions, KerasH5WithACorruptStringLengthIsRefusedInBoundedMemory) {
  const std::string path = std::string(CATDOG_SOURCE_DIR) +
                           "/tests/fixtures/hdf5_crashes/vlen_alloc_4gib_in_libhdf5.h5";
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  const std::string work = test::temp_dir("fuzz_regressions_vlen");
  const test::CliResult r = test::run_catdog({"summary", "--model", path}, work);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  // Under ASan the check child prints the sanitizer's out-of-memory report before it dies; the
  // Release suite holds catdog to its one line.
  const std::string last_line = r.err.substr(r.err.rfind('\n', r.err.size() - 2) + 1);
  EXPECT_EQ(last_line.rfind("catdog: error: " + path, 0), 0u) << r.err;
  if (!CATDOG_UNDER_ASAN) {
    EXPECT_EQ(last_line, r.err);
  }
  EXPECT_LT(r.max_rss_kb, 1024L * 1024) << "peak resident memory " << r.max_rss_kb / 1024 << " MiB";
}

// Sets an environment variable for one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

// fuzz_keras_h5, 2026-12-01: three inputs kept HDF5 busy in the check child past the fuzzer's 10 s,
// with the parent waiting for it without end. The child now has a deadline (60 s + 1 s per 10 MB;
// tests/contained_child_test.cpp checks the kill), which CATDOG_HDF5_CHECK_SECONDS may change.
TEST(fuzz_regressions, KerasH5CheckSecondsThatAreNotAPositiveNumberAreNamed) {
  CATDOG_REQUIRE_SHARED(path, "weights/tiny_darknet_imagenet.h5");
  for (const char* bad : {"", "abc", "5s", "0", "-1", "inf", "nan"}) {
    const ScopedEnv env("CATDOG_HDF5_CHECK_SECONDS", bad);
    try {
      read_keras_h5(path);
      ADD_FAILURE() << "CATDOG_HDF5_CHECK_SECONDS='" << bad << "' was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()),
                std::string("CATDOG_HDF5_CHECK_SECONDS=") + bad + ": not a positive number of seconds");
    }
  }
}

}  // namespace
}  // namespace catdog
