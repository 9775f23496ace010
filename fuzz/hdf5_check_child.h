// For the fuzz targets that read .h5 files. read_keras_h5 reads every file first in a forked check
// child (core/contained_child.h), which may die inside libhdf5 on a corrupt file: that is what the
// child is for, and catdog then refuses the file with one line. But the child is a copy of the
// fuzzer process: without this, libFuzzer's death callback (run by the sanitizer that reports the
// child's crash) saves the input as a crash- artifact, a finding where catdog did right.
//
// So, in every child a fork makes: no death callback (the sanitizer still prints its report and
// the child exits 1, which the parent turns into the refusal). The child's address cap keeps its
// allocations below libFuzzer's malloc limit, and a child deadline of 5 s (CATDOG_HDF5_CHECK_SECONDS)
// is inside libFuzzer's -timeout of 10 s, so neither shows as oom- or timeout- either. Anything
// the fuzzed process itself does wrong is still a finding.
#pragma once

#include <pthread.h>
#include <sanitizer/common_interface_defs.h>

#include <cstdlib>

inline void contain_hdf5_check_children() {
  ::setenv("CATDOG_HDF5_CHECK_SECONDS", "5", 0);
  ::pthread_atfork(nullptr, nullptr, [] { __sanitizer_set_death_callback(nullptr); });
}
