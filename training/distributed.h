// The ranks of a data-parallel run: `mpirun -np N catdog train ...` starts N copies of catdog, and
// this is all they say to each other (docs/DISTRIBUTED.md has the whole design).
//
// A rank is one process; ranks() tells this process its number and how many there are. Without
// MPI in the build, or when the program was not started by mpirun/srun, there is one rank and
// every call below returns at once, so a single process behaves exactly as before.
//
// The main collective is sum() (broadcast() only carries NCCL's id): every rank passes a buffer
// of the same length and gets back the element-wise sum over all ranks. It is deterministic by
// construction: rank 0 receives every rank's buffer and adds them in rank order (0 + 1 + 2 ...),
// then sends the result to all, so a given N gives the same bits in every run. MPI_Allreduce is
// not used because the MPI standard lets it combine in any order (reduction trees, segments that
// depend on message sizes and timing), and float addition is not associative.
//
// A rank that dies must not leave the others waiting forever: sum() waits with a deadline and
// with MPI's errors-return handler, and throws catdog::Error naming the rank that did not answer
// (rank 0 names the missing senders; the others can only say that rank 0 did not answer).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace catdog {

// A strided share of a list: rank r owns items r, r + N, r + 2N, ... (the dataset is sorted by
// class, so a strided share has both classes in the same proportion as the whole).
struct Shard {
  int rank = 0;
  int ranks = 1;
  bool owns(int64_t item) const { return item % ranks == rank; }
};

class Ranks {
 public:
  virtual ~Ranks() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Ranks on this host (for dividing its cores and GPUs among them); 1 without MPI.
  virtual int local_size() const { return 1; }
  virtual int local_rank() const { return 0; }
  Shard shard() const { return {rank(), size()}; }
  bool is_root() const { return rank() == 0; }  // the rank that prints and writes the run's files

  // values <- the sum of every rank's values, in rank order (see above). `what` names the
  // exchange in the error when a rank does not answer within `timeout_seconds`.
  virtual void sum(std::vector<float>& values, const char* what, double timeout_seconds) = 0;
  virtual void sum(std::vector<double>& values, const char* what, double timeout_seconds) = 0;
  // bytes <- rank 0's bytes, on every rank (each passes a buffer of the same length): how the
  // GPU ranks share NCCL's unique id (training/nccl_ranks.h). Same deadline and errors as sum().
  virtual void broadcast(std::vector<uint8_t>& bytes, const char* what, double timeout_seconds) = 0;
};

// This process's ranks (MPI is initialised on the first call when mpirun or srun started it).
Ranks& ranks();

// The default deadline of a collective during training, in seconds: $CATDOG_MPI_TIMEOUT, or 60.
double collective_timeout();

// Polls `done` until it returns true (then true) or `timeout_seconds` have passed (then false),
// yielding at first and then sleeping up to 2 ms between polls, so that a rank waiting for a
// slower one does not take a core from it.
bool poll_until(const std::function<bool()>& done, double timeout_seconds);

// True when any rank passes true (a stop request seen by one rank stops them all at one step).
bool any_rank(Ranks& ranks, bool mine, const char* what);

// Ends MPI before the process exits with `exit_code`: MPI_Finalize after a success; after a
// failure MPI_Abort, so that ranks still waiting in a collective end now. Does nothing without
// MPI or when it was never initialised.
void finish_ranks(int exit_code);

}  // namespace catdog
