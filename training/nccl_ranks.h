// The GPU side of a data-parallel run (docs/DISTRIBUTED.md, "GPUs"): with `--device cuda` each
// rank computes on the GPU of its local rank, and the per-step gradient sum runs through NCCL on
// the compute stream, device memory to device memory, instead of through host memory and MPI.
//
// MPI (training/distributed.h) still starts the ranks and carries the rest: rank 0 makes NCCL's
// unique id and Ranks::broadcast hands it to the others; the small exchanges (which images
// decoded, the validation logits, the step's loss tally and stop agreement: a few KB) stay on
// MPI through host copies, where they cost microseconds.
//
// libnccl is loaded at run time (dlopen of libnccl.so.2, the first time a GPU run has more than
// one rank), not linked: it is 218 MB, so a bundle for a lent GPU cannot carry it (scripts/
// make-carry.sh) and every binary must start on a machine that has none; a one-rank or CPU run
// never needs it.
//
// Determinism: NCCL picks its algorithm (ring, tree, NVLS, ...) and protocol by message size and
// topology, and each adds the ranks' values in another order. catdog pins NCCL_ALGO=Ring and
// NCCL_PROTO=Simple unless they are set: the ring's order is fixed for a given rank count, ring
// and channel count, so a given N on a given machine gives the same bits in every run, and the
// ring's final all-gather copies one result to every rank, so the replicas stay identical.
// Against the host path the sums are reassociated (for N > 2), as a multi-rank run is against
// one process anyway.
//
// A rank that does not answer must not hang the others: the communicator is non-blocking
// (NCCL_COMM_BLOCKING=0), every wait polls NCCL's asynchronous error and the stream's progress
// with the deadline of $CATDOG_MPI_TIMEOUT, and on an error or at the deadline the communicator
// is aborted (ncclCommAbort) and catdog::Error names this rank, NCCL's error string and its last
// message.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/stream.h"
#include "training/distributed.h"

namespace catdog {

// The GPU of a rank: its rank on this host modulo the host's GPUs, so N ranks on N GPUs get one
// each, and more ranks than GPUs share them round-robin (NCCL itself refuses two ranks on one GPU
// of one host; the tests give each rank its own NCCL_HOSTID to run 2 ranks on one GPU).
int gpu_of_local_rank(int local_rank, int gpus);

// gpu_of_local_rank for this process: 0 with one rank or when no GPU is visible.
int local_gpu(const Ranks& ranks);

// True when catdog was built with NCCL (CMake found nccl.h and libnccl beside CUDA and MPI).
bool nccl_built();

// Empty when NCCL can be used here, else why not: built without it, or libnccl.so.2 cannot be
// loaded (the dlopen error).
std::string nccl_unavailable_reason();

// A device float buffer, summed in place.
struct DeviceFloats {
  float* data = nullptr;
  size_t count = 0;
};

class NcclRanks {
 public:
  virtual ~NcclRanks() = default;
  // Every buffer <- the sum over the ranks of each rank's `scale` * its buffer (NCCL's
  // pre-multiplied sum: rank r's gradient of its rows' mean loss, times rows / global rows), all
  // buffers in one NCCL group, queued on `stream`, then waited for with the deadline. Every rank
  // passes the same buffer sizes in the same order. `what` names the exchange in errors.
  virtual void sum(const std::vector<DeviceFloats>& buffers, float scale, Stream stream,
                   const char* what, double timeout_seconds) = 0;
};

// The communicator over `ranks`, made on the first call (a collective: every rank calls it, with
// its GPU current) and kept for the process. Throws catdog::Error when NCCL is unavailable
// or its setup fails or times out.
NcclRanks& nccl_ranks(Ranks& ranks);

}  // namespace catdog
