// Running the `catdog` binary from a test, as a user would: arguments in, exit status and the two
// output streams back. For the command-line tests and the kill-and-resume test.
#pragma once

#include <string>
#include <vector>

#include <sys/types.h>

namespace catdog::test {

// The catdog executable: $CATDOG_EXE when set (an unpacked bundle), else this build tree's.
std::string catdog_exe();

struct CliResult {
  int exit_code = -1;     // the exit status; 128 + N when killed by signal N
  std::string out, err;   // stdout and stderr
  long max_rss_kb = -1;   // the child's peak resident memory (getrusage), KiB
};

// How the child runs: limits that stand in for a full disk or a read-only folder.
struct ChildLimits {
  long max_file_bytes = -1;    // RLIMIT_FSIZE (writes past it fail with EFBIG, as on a full disk)
  bool as_nobody = false;      // when run as root, drop to user nobody (so permissions apply)
  long max_threads = -1;       // RLIMIT_NPROC (thread creation fails past it; not for root)
  unsigned timeout_s = 0;      // when > 0, SIGALRM ends a hung child (exit 128 + 14)
  long max_address_bytes = -1; // RLIMIT_AS (allocations past it fail, as when memory runs out)
};

// Runs catdog with `args` and waits for it. Output goes through files in `work_dir`.
CliResult run_catdog(const std::vector<std::string>& args, const std::string& work_dir,
                     const ChildLimits& limits = {});

// The same for another program (`exe`: a path), e.g. mpirun starting catdog ranks.
CliResult run_program(const std::string& exe, const std::vector<std::string>& args,
                      const std::string& work_dir, const ChildLimits& limits = {});
pid_t start_program(const std::string& exe, const std::vector<std::string>& args,
                    const std::string& log_path);

// Starts catdog with `args` in the background, stdout and stderr to `log_path`.
pid_t start_catdog(const std::vector<std::string>& args, const std::string& log_path);

// Waits for a child started by start_catdog; returns the exit status as CliResult::exit_code.
// Its peak resident memory (KiB) into *max_rss_kb when given.
int wait_for(pid_t pid, long* max_rss_kb = nullptr);

// The whole of a text file ("" when it is absent).
std::string read_text(const std::string& path);

}  // namespace catdog::test
