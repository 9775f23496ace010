#include "core/contained_child.h"

#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <new>

#include "core/error.h"

namespace catdog {
namespace {

// Exit codes no runtime picks for itself: a sanitizer reports a crash and exits with 1, libFuzzer
// uses 70 to 77.
constexpr int kFinished = 0;
constexpr int kCleanError = 91;
constexpr int kOutOfMemory = 92;
constexpr int kOtherException = 93;

// The address space this process has mapped now (the CUDA libraries alone map gigabytes; under
// AddressSanitizer, its shadow memory maps terabytes).
rlim_t mapped_bytes() {
  std::ifstream statm("/proc/self/statm");
  unsigned long long pages = 0;
  statm >> pages;
  return static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE));
}

[[noreturn]] void run_in_child(const std::function<void()>& work, uint64_t extra_address_bytes,
                               int message_fd) {
  const rlim_t cap = mapped_bytes() + static_cast<rlim_t>(extra_address_bytes);
  const rlimit limit{cap, cap};
  ::setrlimit(RLIMIT_AS, &limit);
  int code = kFinished;
  try {
    work();
  } catch (const Error& e) {
    code = kCleanError;
    const std::string message = std::string(e.what()).substr(0, 4096);  // fits the pipe at once
    if (::write(message_fd, message.data(), message.size()) < 0) code = kOtherException;
  } catch (const std::bad_alloc&) {
    code = kOutOfMemory;
  } catch (...) {
    code = kOtherException;
  }
  ::_exit(code);  // no destructors, no atexit handlers: they belong to the parent
}

// Reads the child's message until it closes the pipe by exiting (true) or the deadline passes.
bool read_until_exit(int fd, double seconds, std::string& message) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  char buffer[4096];
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd ready{fd, POLLIN, 0};
    const int polled = ::poll(&ready, 1, static_cast<int>(std::min<int64_t>(left.count(), 1 << 30)));
    if (polled < 0 && errno == EINTR) continue;
    if (polled <= 0) return false;
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) message.append(buffer, static_cast<size_t>(n));
    else if (n == 0 || errno != EINTR) return true;
  }
}

}  // namespace

ContainedOutcome run_contained(const std::function<void()>& work, uint64_t extra_address_bytes,
                               double seconds) {
  std::cout.flush();  // else the child's copy of the buffers is printed twice
  std::cerr.flush();
  ContainedOutcome outcome;
  int message_pipe[2];
  if (::pipe(message_pipe) != 0) return outcome;
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(message_pipe[0]);
    ::close(message_pipe[1]);
    return outcome;
  }
  if (pid == 0) {
    ::close(message_pipe[0]);
    run_in_child(work, extra_address_bytes, message_pipe[1]);
  }
  ::close(message_pipe[1]);
  std::string message;
  const bool exited = read_until_exit(message_pipe[0], seconds, message);
  ::close(message_pipe[0]);
  if (!exited) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      outcome.end = ContainedOutcome::End::failed;
      return outcome;
    }
  }
  using End = ContainedOutcome::End;
  if (!exited) {
    outcome.end = End::timed_out;
  } else if (WIFSIGNALED(status)) {
    outcome.end = End::crashed;
    outcome.message = ::strsignal(WTERMSIG(status));
  } else {
    switch (WEXITSTATUS(status)) {
      case kFinished: outcome.end = End::finished; break;
      case kCleanError: outcome.end = End::error; outcome.message = message; break;
      case kOutOfMemory: outcome.end = End::out_of_memory; break;
      case kOtherException: outcome.end = End::other_exception; break;
      default: outcome.end = End::failed; break;
    }
  }
  return outcome;
}

}  // namespace catdog
