#include "training/nccl_ranks.h"

#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "core/error.h"

#ifndef CATDOG_WITH_NCCL
#define CATDOG_WITH_NCCL 0  // CMakeLists.txt defines it for this file when NCCL is found
#endif
#if CATDOG_WITH_CUDA
#include <cuda_runtime.h>
#endif
#if CATDOG_WITH_NCCL
#include <dlfcn.h>
#include <nccl.h>

#include "core/cuda_checks.h"
#endif

namespace catdog {

int gpu_of_local_rank(int local_rank, int gpus) {
  CATDOG_CHECK(gpus > 0, "local rank ", local_rank, ": no GPU to run on");
  CATDOG_CHECK(local_rank >= 0, "local rank ", local_rank, " is negative");
  return local_rank % gpus;
}

int local_gpu(const Ranks& ranks) {
#if CATDOG_WITH_CUDA
  if (ranks.local_size() <= 1) return 0;
  int gpus = 0;
  if (cudaGetDeviceCount(&gpus) != cudaSuccess || gpus == 0) {
    cudaGetLastError();  // no GPU: make_exec_context says so when --device cuda asks for one
    return 0;
  }
  return gpu_of_local_rank(ranks.local_rank(), gpus);
#else
  (void)ranks;
  return 0;
#endif
}

bool nccl_built() { return CATDOG_WITH_NCCL != 0; }

#if CATDOG_WITH_NCCL

namespace {

// NCCL's entry points, from libnccl.so.2 loaded at run time (nccl_ranks.h says why).
struct NcclApi {
  decltype(&ncclGetErrorString) get_error_string = nullptr;
  decltype(&ncclGetLastError) get_last_error = nullptr;
  decltype(&ncclGetUniqueId) get_unique_id = nullptr;
  decltype(&ncclCommInitRank) comm_init_rank = nullptr;
  decltype(&ncclCommGetAsyncError) comm_get_async_error = nullptr;
  decltype(&ncclCommAbort) comm_abort = nullptr;
  decltype(&ncclGroupStart) group_start = nullptr;
  decltype(&ncclGroupEnd) group_end = nullptr;
  decltype(&ncclAllReduce) all_reduce = nullptr;
  decltype(&ncclRedOpCreatePreMulSum) create_pre_mul_sum = nullptr;
  decltype(&ncclRedOpDestroy) destroy_op = nullptr;
  std::string why_not;  // empty when the library and every entry point were found
};

const NcclApi& nccl_api() {
  static const NcclApi api = [] {
    NcclApi a;
    void* lib = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
    const std::string first_error = lib ? "" : dlerror();
#ifdef CATDOG_NCCL_LIBRARY
    if (!lib) lib = dlopen(CATDOG_NCCL_LIBRARY, RTLD_NOW | RTLD_LOCAL);  // where CMake found it
#endif
    if (!lib) {
      a.why_not = cat("libnccl.so.2 cannot be loaded (", first_error, "); put the folder that ",
                      "holds it on LD_LIBRARY_PATH, or run with --device cpu");
      return a;
    }
    const auto find = [&](auto& entry, const char* name) {
      entry = reinterpret_cast<std::remove_reference_t<decltype(entry)>>(dlsym(lib, name));
      if (!entry && a.why_not.empty()) {
        a.why_not = cat("libnccl.so.2 has no ", name, " (catdog needs NCCL 2.13 or newer)");
      }
    };
    find(a.get_error_string, "ncclGetErrorString");
    find(a.get_last_error, "ncclGetLastError");
    find(a.get_unique_id, "ncclGetUniqueId");
    find(a.comm_init_rank, "ncclCommInitRank");
    find(a.comm_get_async_error, "ncclCommGetAsyncError");
    find(a.comm_abort, "ncclCommAbort");
    find(a.group_start, "ncclGroupStart");
    find(a.group_end, "ncclGroupEnd");
    find(a.all_reduce, "ncclAllReduce");
    find(a.create_pre_mul_sum, "ncclRedOpCreatePreMulSum");
    find(a.destroy_op, "ncclRedOpDestroy");
    return a;
  }();
  return api;
}

// Before NCCL's first call, which reads its environment once. The algorithm and protocol are
// pinned for determinism (nccl_ranks.h) unless the user set them; non-blocking is forced,
// since every wait below polls with a deadline.
void set_nccl_environment() {
  setenv("NCCL_ALGO", "Ring", 0);
  setenv("NCCL_PROTO", "Simple", 0);
  setenv("NCCL_COMM_BLOCKING", "0", 1);
}

class NcclCommunicator : public NcclRanks {
 public:
  NcclCommunicator(Ranks& ranks, double timeout)
      : nccl_(nccl_api()), rank_(ranks.rank()), size_(ranks.size()) {
    cudaCheck(cudaGetDevice(&gpu_), "reading this rank's GPU");
    int gpus = 0;
    cudaCheck(cudaGetDeviceCount(&gpus), "counting the GPUs");
    if (ranks.local_size() > gpus) {
      hint_ = cat(" (", ranks.local_size(), " ranks on this host share ", gpus, " GPU",
                  gpus == 1 ? "" : "s", ": NCCL wants a GPU of its own for each rank of a host)");
    }
    set_nccl_environment();
    ncclUniqueId id{};
    std::vector<uint8_t> id_bytes(sizeof id);
    if (rank_ == 0) {
      check(nccl_.get_unique_id(&id), "ncclGetUniqueId", "making the communicator's unique id");
      std::memcpy(id_bytes.data(), &id, sizeof id);
    }
    ranks.broadcast(id_bytes, "the broadcast of NCCL's unique id", timeout);
    std::memcpy(&id, id_bytes.data(), sizeof id);
    cudaCheck(cudaEventCreateWithFlags(&done_, cudaEventDisableTiming), "creating an event");
    check(nccl_.comm_init_rank(&comm_, size_, id, rank_), "ncclCommInitRank",
          "setting up the NCCL communicator");
    wait_issued("setting up the NCCL communicator", timeout);
  }

  void sum(const std::vector<DeviceFloats>& buffers, float scale, Stream stream, const char* what,
           double timeout) override {
    ncclRedOp_t op{};
    check(nccl_.create_pre_mul_sum(&op, &scale, ncclFloat32, ncclScalarHostImmediate, comm_),
          "ncclRedOpCreatePreMulSum", what);
    check(nccl_.group_start(), "ncclGroupStart", what);
    for (const DeviceFloats& b : buffers) {
      check(nccl_.all_reduce(b.data, b.data, b.count, ncclFloat32, op, comm_, stream),
            "ncclAllReduce", what);
    }
    check(nccl_.group_end(), "ncclGroupEnd", what);
    wait_issued(what, timeout);
    check(nccl_.destroy_op(op, comm_), "ncclRedOpDestroy", what);
    // The sum runs on the stream; the host waits for it here, with the deadline, rather than in
    // the next synchronising call, which would wait forever for a lost rank.
    cudaCheck(cudaEventRecord(done_, stream), "recording the end of ", what);
    cudaError_t progress = cudaErrorNotReady;
    ncclResult_t state = ncclSuccess;
    const bool finished = poll_until([&] {
      progress = cudaEventQuery(done_);
      if (progress != cudaErrorNotReady) return true;
      nccl_.comm_get_async_error(comm_, &state);
      return state != ncclSuccess && state != ncclInProgress;
    }, timeout);
    if (!finished) give_up(what, timeout);
    if (state != ncclSuccess && state != ncclInProgress) abort_with(state, "", what);
    cudaCheck(progress, "waiting for ", what, " on GPU ", gpu_);
  }

 private:
  // A call's immediate result: fine, or in progress (non-blocking); anything else aborts.
  void check(ncclResult_t result, const char* call, const char* what) {
    if (result != ncclSuccess && result != ncclInProgress) abort_with(result, call, what);
  }

  // In non-blocking mode, init and a group's end return before their work is issued: poll until
  // the communicator leaves ncclInProgress, failing on an error or at the deadline.
  void wait_issued(const char* what, double timeout) {
    ncclResult_t state = ncclInProgress;
    const bool settled = poll_until([&] {
      nccl_.comm_get_async_error(comm_, &state);
      return state != ncclInProgress;
    }, timeout);
    if (!settled) give_up(what, timeout);
    if (state != ncclSuccess) abort_with(state, "", what);
  }

  std::string who() const { return cat("rank ", rank_, " of ", size_, " (GPU ", gpu_, ")"); }

  [[noreturn]] void abort_with(ncclResult_t result, const char* call, const char* what) {
    const char* last = comm_ ? nccl_.get_last_error(comm_) : nccl_.get_last_error(nullptr);
    const std::string detail = last && *last ? cat("; NCCL says: ", last) : std::string();
    abort_comm();
    fail(who(), ": NCCL ", *call ? cat(call, " ") : std::string(), "failed during ", what, ": ",
         nccl_.get_error_string(result), detail, hint_);
  }

  [[noreturn]] void give_up(const char* what, double timeout) {
    abort_comm();
    fail(who(), ": ", what, " through NCCL did not finish within ", static_cast<int>(timeout),
         " s: a rank is lost or stalled (NCCL cannot say which); $CATDOG_MPI_TIMEOUT sets the limit");
  }

  // Ends the communicator's kernels and proxy threads, so that nothing waits for a lost rank.
  void abort_comm() {
    if (comm_) nccl_.comm_abort(comm_);
    comm_ = nullptr;
  }

  const NcclApi& nccl_;
  int rank_ = 0, size_ = 1, gpu_ = 0;
  std::string hint_;
  ncclComm_t comm_ = nullptr;
  cudaEvent_t done_ = nullptr;
};

}  // namespace

std::string nccl_unavailable_reason() { return nccl_api().why_not; }

NcclRanks& nccl_ranks(Ranks& ranks) {
  // Made once and never destroyed, like the CUDA context it runs on (core/cuda_context.h).
  static NcclRanks* communicator = nullptr;
  if (!communicator) {
    const std::string why = nccl_unavailable_reason();
    CATDOG_CHECK(why.empty(), "rank ", ranks.rank(), " of ", ranks.size(),
                 ": the GPU gradient sum needs NCCL: ", why);
    communicator = new NcclCommunicator(ranks, collective_timeout());
  }
  return *communicator;
}

#else  // built without NCCL

std::string nccl_unavailable_reason() {
  return "catdog was built without NCCL (CMake needs CUDA, MPI, nccl.h and libnccl)";
}

NcclRanks& nccl_ranks(Ranks&) { fail("the GPU gradient sum: ", nccl_unavailable_reason()); }

#endif

}  // namespace catdog
