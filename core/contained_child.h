// run_contained: run a piece of work in a forked child process, so that whatever it does wrong
// inside a library we cannot check first (a crash, a hang, an allocation of terabytes) ends the
// child and comes back as an outcome, not as the end of catdog.
//
// Why: HDF5 1.10 crashes, loops or allocates without bound on some corrupt files (docs/
// RELIABILITY.md, "Findings inside libhdf5"), in metadata only HDF5 parses. weights/
// keras_h5_read.cpp reads every .h5 once in such a child before reading it for real.
//
// The child gets a copy of the process (fork without exec): the work runs on the same data, and
// only its outcome travels back, through a pipe. Its address space is capped (RLIMIT_AS: what is
// mapped already plus `extra_address_bytes`), so a runaway allocation fails as std::bad_alloc
// instead of waking the OOM killer, and it is killed (SIGKILL) when it passes its deadline.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace catdog {

struct ContainedOutcome {
  enum class End {
    finished,         // the work returned
    error,            // it threw catdog::Error: `message` is its text (at most 4 KiB)
    out_of_memory,    // it threw std::bad_alloc (the address cap)
    other_exception,  // it threw anything else
    crashed,          // a signal ended it: `message` names the signal ("Segmentation fault")
    failed,           // it exited by itself with another status (a sanitizer's report: 1)
    timed_out,        // it passed the deadline and was killed
    no_child,         // no process could be made (fork or pipe failed): nothing ran
  };
  End end = End::no_child;
  std::string message;
};

ContainedOutcome run_contained(const std::function<void()>& work, uint64_t extra_address_bytes,
                               double seconds);

}  // namespace catdog
