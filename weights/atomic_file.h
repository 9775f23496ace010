// Atomic file writes: a reader (or a crash, or a full disk) never sees half a file.
//
// The recipe: write everything to a temporary file in the SAME directory (rename is only atomic
// within one file system), flush it to disk (fsync), rename it over the target, then fsync the
// directory so the rename itself survives a power cut. If anything fails, the temporary file is
// removed and the old target, if there was one, is untouched.
//
// Used for model.h5, .npy files, checkpoints, history.csv and logs.
#pragma once

#include <functional>
#include <string>

namespace catdog {

// Replace `path` with exactly `bytes`. Throws catdog::Error naming the path and the system error.
void atomic_write_file(const std::string& path, const std::string& bytes);

// For writers that need a file name of their own (the HDF5 library opens files itself):
// `write(temp_path)` must create and fully close temp_path; then it is committed over `path`.
// When `write` throws, the temporary file is removed and the exception passes through.
void atomic_write_with(const std::string& path,
                       const std::function<void(const std::string& temp_path)>& write);

// Where writing `path` goes: `path` itself when it is a regular file or absent; through symlinks,
// their target (so the temporary file lies beside the target). Throws naming `path` when it is (or
// leads to) a directory, FIFO, device or socket. atomic_write_with calls it.
std::string regular_write_target(const std::string& path);

// The lower-level pieces, for writers that manage the temporary file themselves.
// A fresh, unused name beside `path`: "<dir>/.<name>.tmp-<pid>-<counter>".
std::string temp_path_beside(const std::string& path);
// Remove what writers of `path` killed mid-write (SIGKILL, power cut) left: the temporary files
// "<dir>/.<name>.tmp-<pid>-<counter>" of processes that no longer run. Returns how many went.
int remove_stale_temporaries(const std::string& path);
// fsync `temp_path`, rename it to `path`, fsync the directory. On failure removes temp_path and
// throws; `path` is untouched then. Refuses a `path` that exists and is not a regular file.
void commit_temp_file(const std::string& temp_path, const std::string& path);

}  // namespace catdog
