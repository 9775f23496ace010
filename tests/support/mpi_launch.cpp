#include "tests/support/mpi_launch.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "tests/support/cli.h"
#include "tests/support/test_support.h"

namespace fs = std::filesystem;

namespace catdog::test {

std::string mpirun_exe() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const fs::path candidate = fs::path(dir) / "mpirun";
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

std::string mpi_skip_reason() {
#if CATDOG_TEST_WITH_MPI
  if (mpirun_exe().empty()) return "mpirun is not on PATH (scripts/setup.sh installs openmpi-bin)";
  return "";
#elif CATDOG_TEST_MPI_TURNED_OFF
  return "catdog was built without MPI (configured with -DCATDOG_WITH_MPI=OFF)";
#else
  return "catdog was built without MPI (libopenmpi-dev not found by CMake)";
#endif
}

std::vector<std::string> mpirun_args(int ranks, const std::vector<std::string>& args,
                                     const std::vector<std::string>& env) {
  std::vector<std::string> command = {catdog_exe()};
  command.insert(command.end(), args.begin(), args.end());
  return mpirun_command_args(ranks, command, env);
}

std::vector<std::string> mpirun_command_args(int ranks, const std::vector<std::string>& command,
                                             const std::vector<std::string>& env) {
  // --bind-to none: the ranks share the cores with whatever else runs, unpinned.
  std::vector<std::string> all = {"--oversubscribe", "--bind-to", "none", "-np",
                                  std::to_string(ranks)};
  if (::geteuid() == 0) all.insert(all.begin(), "--allow-run-as-root");
  for (const std::string& e : env) {
    all.push_back("-x");
    all.push_back(e);
  }
#if defined(__SANITIZE_ADDRESS__)
  // OpenMPI does not free what it allocates: MPI_Finalize leaves its components' memory and
  // unloads them, so their stacks cannot even be named in a suppression. Under ASan the ranks
  // therefore run without LeakSanitizer; address errors are still fatal there, and every test
  // without MPI still checks leaks.
  const char* asan = std::getenv("ASAN_OPTIONS");
  all.push_back("-x");
  all.push_back(std::string("ASAN_OPTIONS=") + (asan && *asan ? std::string(asan) + ":" : "") +
                "detect_leaks=0");
#endif
  all.insert(all.end(), command.begin(), command.end());
  return all;
}

std::string shared_photo_subset(const std::string& dir, int train_per_class, int test_per_class) {
  const std::string photos = shared_path("data/catsdogs");
  if (photos.empty()) return "";
  for (const auto& [split, count] : {std::pair<const char*, int>{"train", train_per_class},
                                     {"test", test_per_class}}) {
    for (const char* cls : {"cats", "dogs"}) {
      std::vector<fs::path> files;
      for (const auto& entry : fs::directory_iterator(fs::path(photos) / split / cls)) {
        files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      const fs::path to = fs::path(dir) / split / cls;
      fs::create_directories(to);
      for (int i = 0; i < count && i < static_cast<int>(files.size()); ++i) {
        fs::create_symlink(files[static_cast<size_t>(i)], to / files[static_cast<size_t>(i)].filename());
      }
    }
  }
  return dir;
}

}  // namespace catdog::test
