#include "weights/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace catdog {
namespace {

std::string directory_of(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string system_error() { return std::strerror(errno); }

// What a non-regular file is, for the refusal.
const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// fsync an existing file or directory by name.
void fsync_path(const std::string& path, bool directory, const std::string& what_for) {
  int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) fail("cannot open ", path, " to flush ", what_for, ": ", system_error());
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  // Some file systems (tmpfs in places, some network mounts) refuse fsync on a directory; the
  // rename is still done, so only a file fsync failure is an error.
  if (rc != 0 && !directory) {
    errno = saved;
    fail("cannot flush ", path, " to disk for ", what_for, ": ", system_error());
  }
}

}  // namespace

std::string regular_write_target(const std::string& path) {
  std::string target = path;
  // Follow symlinks ourselves (a dangling one names the file to create); 40 hops as the kernel.
  for (int hops = 0;; ++hops) {
    struct stat st {};
    if (::lstat(target.c_str(), &st) != 0) {
      if (errno == ENOENT) return target;  // a new file
      fail("cannot write ", path, ": ", system_error());
    }
    if (S_ISREG(st.st_mode)) return target;
    if (!S_ISLNK(st.st_mode)) {
      fail("cannot write ", path, (target == path ? "" : " (a symlink to " + target + ")"), ": it is ",
           kind_of(st.st_mode), ", not a regular file");
    }
    CATDOG_CHECK(hops < 40, "cannot write ", path, ": too many levels of symbolic links");
    std::string link(static_cast<size_t>(st.st_size > 0 ? st.st_size : 4096) + 1, '\0');
    ssize_t n = ::readlink(target.c_str(), &link[0], link.size());
    if (n < 0) fail("cannot write ", path, ": cannot read the symlink ", target, ": ", system_error());
    link.resize(static_cast<size_t>(n));
    CATDOG_CHECK(!link.empty(), "cannot write ", path, ": the symlink ", target, " is empty");
    target = link[0] == '/' ? link : directory_of(target) + "/" + link;
  }
}

std::string temp_path_beside(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  std::string dir = directory_of(path);
  size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  CATDOG_CHECK(!name.empty(), "cannot write '", path, "': it names a directory, not a file");
  return (dir == "/" ? "" : dir) + "/." + name + ".tmp-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter++);
}

int remove_stale_temporaries(const std::string& path) {
  const std::string dir = directory_of(path);
  const std::string prefix = "." + std::filesystem::path(path).filename().string() + ".tmp-";
  std::error_code ec;
  int removed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    // "<pid>-<counter>", digits only: anything else is not ours.
    const std::string rest = name.substr(prefix.size());
    const size_t dash = rest.find('-');
    if (dash == 0 || dash == std::string::npos || dash + 1 == rest.size() ||
        rest.find_first_not_of("0123456789-") != std::string::npos ||
        rest.find('-', dash + 1) != std::string::npos)
      continue;
    const long pid = std::strtol(rest.c_str(), nullptr, 10);
    const bool alive = pid == ::getpid() || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
    if (alive || !entry.is_regular_file(ec)) continue;
    if (std::filesystem::remove(entry.path(), ec)) ++removed;
  }
  return removed;
}

void commit_temp_file(const std::string& temp_path, const std::string& path) {
  try {
    // rename() would replace a symlink, a device node or a FIFO itself; only a regular file (or
    // none) may be replaced. Callers resolve symlinks first (regular_write_target).
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      fail("cannot write ", path, ": it is ", S_ISLNK(st.st_mode) ? "a symlink" : kind_of(st.st_mode),
           ", not a regular file");
    }
    fsync_path(temp_path, false, path);
    if (std::rename(temp_path.c_str(), path.c_str()) != 0)
      fail("cannot replace ", path, ": ", system_error());
  } catch (...) {
    std::remove(temp_path.c_str());
    throw;
  }
  fsync_path(directory_of(path), true, path);
}

void atomic_write_with(const std::string& path,
                       const std::function<void(const std::string& temp_path)>& write) {
  const std::string target = regular_write_target(path);
  std::string temp = temp_path_beside(target);
  try {
    write(temp);
  } catch (...) {
    std::remove(temp.c_str());
    throw;
  }
  commit_temp_file(temp, target);
}

void atomic_write_file(const std::string& path, const std::string& bytes) {
  atomic_write_with(path, [&](const std::string& temp) {
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) fail("cannot write ", path, " (temporary file ", temp, "): ", system_error());
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        std::string why = n < 0 ? system_error() : "no progress";
        ::close(fd);
        fail("cannot write ", path, " after ", done, " of ", bytes.size(), " bytes: ", why);
      }
      done += static_cast<size_t>(n);
    }
    if (::close(fd) != 0) fail("cannot write ", path, ": ", system_error());
  });
}

}  // namespace catdog
