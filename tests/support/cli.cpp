#include "tests/support/cli.h"

#include <fcntl.h>
#include <cstdlib>
#include <cerrno>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace catdog::test {

std::string catdog_exe() {
  if (const char* env = std::getenv("CATDOG_EXE"); env && *env) return env;
  return CATDOG_EXE;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

namespace {

// fork + exec with stdout to `out_path` and stderr to `err_path`.
pid_t spawn(const std::string& exe, const std::vector<std::string>& args,
            const std::string& out_path, const std::string& err_path, const ChildLimits& limits) {
  std::vector<std::string> argv_strings{exe};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = out_path == err_path
                        ? out : ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0) ::_exit(126);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    if (limits.max_file_bytes >= 0) {
      ::signal(SIGXFSZ, SIG_IGN);  // a failed write(), not a signal, as on a full disk
      const rlimit limit{static_cast<rlim_t>(limits.max_file_bytes),
                         static_cast<rlim_t>(limits.max_file_bytes)};
      if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(125);
    }
    if (limits.max_threads >= 0) {
      const rlimit limit{static_cast<rlim_t>(limits.max_threads),
                         static_cast<rlim_t>(limits.max_threads)};
      if (::setrlimit(RLIMIT_NPROC, &limit) != 0) ::_exit(125);
    }
    if (limits.max_address_bytes >= 0) {
      const rlimit limit{static_cast<rlim_t>(limits.max_address_bytes),
                         static_cast<rlim_t>(limits.max_address_bytes)};
      if (::setrlimit(RLIMIT_AS, &limit) != 0) ::_exit(125);
    }
    if (limits.timeout_s > 0) ::alarm(limits.timeout_s);  // survives exec
    if (limits.as_nobody && ::geteuid() == 0) {
      const passwd* nobody = ::getpwnam("nobody");
      if (!nobody || ::setgid(nobody->pw_gid) != 0 || ::setuid(nobody->pw_uid) != 0) ::_exit(124);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace

int wait_for(pid_t pid, long* max_rss_kb) {
  int status = 0;
  rusage usage{};
  while (::wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) return -1;
  }
  if (max_rss_kb) *max_rss_kb = usage.ru_maxrss;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

CliResult run_catdog(const std::vector<std::string>& args, const std::string& work_dir,
                     const ChildLimits& limits) {
  return run_program(catdog_exe(), args, work_dir, limits);
}

CliResult run_program(const std::string& exe, const std::vector<std::string>& args,
                      const std::string& work_dir, const ChildLimits& limits) {
  const std::string out_path = work_dir + "/stdout.txt", err_path = work_dir + "/stderr.txt";
  CliResult result;
  result.exit_code = wait_for(spawn(exe, args, out_path, err_path, limits), &result.max_rss_kb);
  result.out = read_text(out_path);
  result.err = read_text(err_path);
  return result;
}

pid_t start_catdog(const std::vector<std::string>& args, const std::string& log_path) {
  return start_program(catdog_exe(), args, log_path);
}

pid_t start_program(const std::string& exe, const std::vector<std::string>& args,
                    const std::string& log_path) {
  return spawn(exe, args, log_path, log_path, {});
}

}  // namespace catdog::test
