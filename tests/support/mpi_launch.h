// Starting `catdog train` as N MPI ranks from a test: `mpirun --oversubscribe -np N catdog ...`
// (training/distributed.h), and a small real-photo dataset for such runs.
#pragma once

#include <string>
#include <vector>

namespace catdog::test {

// Why MPI runs cannot be tested here ("" when they can): catdog built without MPI, or no mpirun
// on PATH.
std::string mpi_skip_reason();

// The mpirun executable (found on PATH).
std::string mpirun_exe();

// mpirun's arguments for `ranks` ranks of the catdog binary with `args`; `env` (NAME=VALUE)
// reaches every rank.
std::vector<std::string> mpirun_args(int ranks, const std::vector<std::string>& args,
                                     const std::vector<std::string>& env = {});
// The same for any `command` (program, then its arguments), e.g. a test binary starting itself.
std::vector<std::string> mpirun_command_args(int ranks, const std::vector<std::string>& command,
                                             const std::vector<std::string>& env = {});

// A dataset of the first `train_per_class` and `test_per_class` shared photos of each class
// (symbolic links into shared/data/catsdogs) in `dir`; "" when the shared photos are absent.
std::string shared_photo_subset(const std::string& dir, int train_per_class, int test_per_class);

}  // namespace catdog::test
