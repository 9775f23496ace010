// atomic_write_file / atomic_write_with: the target holds the old contents or the new, never a
// mix, and no temporary file is left behind after a failure.
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "tests/support/test_support.h"
#include "weights/atomic_file.h"

namespace catdog {
namespace {

namespace fs = std::filesystem;

std::string contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

size_t entries(const std::string& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

TEST(AtomicFile, WritesAndReplaces) {
  std::string dir = test::temp_dir("atomic_writes");
  atomic_write_file(dir + "/a.txt", "first");
  EXPECT_EQ(contents(dir + "/a.txt"), "first");
  std::string big(3 << 20, 'z');
  big[12345] = '\0';
  atomic_write_file(dir + "/a.txt", big);
  EXPECT_EQ(contents(dir + "/a.txt"), big);
  atomic_write_file(dir + "/a.txt", "");
  EXPECT_EQ(contents(dir + "/a.txt"), "");
  EXPECT_EQ(entries(dir), 1u);
}

TEST(AtomicFile, TempFileIsBesideTheTarget) {
  std::string temp = temp_path_beside("/some/dir/model.h5");
  EXPECT_EQ(temp.rfind("/some/dir/.model.h5.tmp-", 0), 0u) << temp;
  EXPECT_NE(temp_path_beside("x.npy"), temp_path_beside("x.npy"));
  EXPECT_EQ(temp_path_beside("x.npy").rfind("./.x.npy.tmp-", 0), 0u);
  EXPECT_THROW(temp_path_beside("/some/dir/"), Error);
}

TEST(AtomicFile, FailingWriterLeavesOldFileAndNoTemp) {
  std::string dir = test::temp_dir("atomic_failing_writer");
  atomic_write_file(dir + "/log.txt", "old");
  EXPECT_THROW(atomic_write_with(dir + "/log.txt",
                                 [](const std::string& temp) {
                                   std::ofstream(temp) << "half of the new";
                                   fail("writer gave up");
                                 }),
               Error);
  EXPECT_EQ(contents(dir + "/log.txt"), "old");
  EXPECT_EQ(entries(dir), 1u);
}

TEST(AtomicFile, UnwritableTargetsFailWithThePath) {
  std::string dir = test::temp_dir("atomic_unwritable");
  std::ofstream(dir + "/file") << "keep";
  for (std::string bad : {dir + "/file/x.txt", dir + "/missing_dir/x.txt"}) {
    try {
      atomic_write_file(bad, "data");
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
  fs::create_directory(dir + "/sub");
  EXPECT_THROW(atomic_write_file(dir + "/sub", "data"), Error);  // rename over a directory
  EXPECT_TRUE(fs::is_directory(dir + "/sub"));
  EXPECT_EQ(contents(dir + "/file"), "keep");
  EXPECT_EQ(entries(dir), 2u);
}

}  // namespace
}  // namespace catdog
