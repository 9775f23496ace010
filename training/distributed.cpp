#include "training/distributed.h"

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "core/error.h"

#if CATDOG_WITH_MPI
#include <mpi.h>
#endif

namespace catdog {

namespace {

// One process, or a build without MPI: every collective is the identity.
class SingleRank : public Ranks {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void sum(std::vector<float>&, const char*, double) override {}
  void sum(std::vector<double>&, const char*, double) override {}
  void broadcast(std::vector<uint8_t>&, const char*, double) override {}
};

#if CATDOG_WITH_MPI

// Started by mpirun (Open MPI), an MPICH/PMI launcher or srun with PMIx: then MPI_Init is wanted.
// Otherwise MPI is left alone (a singleton MPI_Init can be slow and print warnings).
bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    if (std::getenv(name)) return true;
  }
  return false;
}

std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return std::string(text, static_cast<size_t>(length));
}

template <class T>
MPI_Datatype mpi_type();
template <>
MPI_Datatype mpi_type<float>() { return MPI_FLOAT; }
template <>
MPI_Datatype mpi_type<double>() { return MPI_DOUBLE; }

constexpr int kSumTag = 20;
constexpr int kBroadcastTag = 21;

class MpiRanks : public Ranks {
 public:
  MpiRanks() {
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    // Errors come back as codes (and become catdog::Error naming the rank) instead of aborting.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm local;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local);
    MPI_Comm_rank(local, &local_rank_);
    MPI_Comm_size(local, &local_size_);
    MPI_Comm_free(&local);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_size() const override { return local_size_; }
  int local_rank() const override { return local_rank_; }
  void sum(std::vector<float>& values, const char* what, double timeout) override {
    sum_in_rank_order(values, what, timeout);
  }
  void sum(std::vector<double>& values, const char* what, double timeout) override {
    sum_in_rank_order(values, what, timeout);
  }
  void broadcast(std::vector<uint8_t>& bytes, const char* what, double timeout) override {
    if (size_ == 1) return;
    const int count = static_cast<int>(bytes.size());
    CATDOG_CHECK(bytes.size() == static_cast<size_t>(count), what, ": ", bytes.size(),
                 " bytes are more than one MPI message holds");
    std::vector<MPI_Request> requests;
    std::vector<int> peers;
    if (rank_ != 0) {
      requests.emplace_back();
      peers.push_back(0);
      check(MPI_Irecv(bytes.data(), count, MPI_BYTE, 0, kBroadcastTag, MPI_COMM_WORLD,
                      &requests.back()), 0, what);
    } else {
      for (int r = 1; r < size_; ++r) {
        requests.emplace_back();
        peers.push_back(r);
        check(MPI_Isend(bytes.data(), count, MPI_BYTE, r, kBroadcastTag, MPI_COMM_WORLD,
                        &requests.back()), r, what);
      }
    }
    wait(requests, peers, what, timeout);
  }

 private:
  // Rank 0 gathers, adds in rank order and sends the sum back; see distributed.h for why.
  template <class T>
  void sum_in_rank_order(std::vector<T>& values, const char* what, double timeout) {
    if (size_ == 1) return;
    const int count = static_cast<int>(values.size());
    CATDOG_CHECK(values.size() == static_cast<size_t>(count), what, ": ", values.size(),
                 " values are more than one MPI message holds");
    std::vector<MPI_Request> requests;
    std::vector<int> peers;
    if (rank_ != 0) {
      requests.resize(2);
      peers = {0, 0};
      check(MPI_Isend(values.data(), count, mpi_type<T>(), 0, kSumTag, MPI_COMM_WORLD,
                      &requests[0]), 0, what);
      std::vector<T> total(values.size());
      check(MPI_Irecv(total.data(), count, mpi_type<T>(), 0, kSumTag, MPI_COMM_WORLD,
                      &requests[1]), 0, what);
      wait(requests, peers, what, timeout);
      values.swap(total);
      return;
    }
    std::vector<std::vector<T>> received(static_cast<size_t>(size_ - 1), std::vector<T>(values.size()));
    for (int r = 1; r < size_; ++r) {
      requests.emplace_back();
      peers.push_back(r);
      check(MPI_Irecv(received[static_cast<size_t>(r - 1)].data(), count, mpi_type<T>(), r,
                      kSumTag, MPI_COMM_WORLD, &requests.back()), r, what);
    }
    wait(requests, peers, what, timeout);
    for (const std::vector<T>& other : received) {  // rank 1, then 2, ...: a fixed order
      for (size_t i = 0; i < values.size(); ++i) values[i] += other[i];
    }
    requests.assign(static_cast<size_t>(size_ - 1), MPI_REQUEST_NULL);
    for (int r = 1; r < size_; ++r) {
      check(MPI_Isend(values.data(), count, mpi_type<T>(), r, kSumTag, MPI_COMM_WORLD,
                      &requests[static_cast<size_t>(r - 1)]), r, what);
    }
    wait(requests, peers, what, timeout);
  }

  void check(int code, int peer, const char* what) const {
    if (code != MPI_SUCCESS) {
      fail(cat("rank ", rank_, " of ", size_, ": lost rank ", peer, " during ", what, " (",
               mpi_error_text(code), ")"));
    }
  }

  // Waits for the requests (poll_until) and gives up after `timeout` seconds naming the peers
  // that did not answer.
  void wait(std::vector<MPI_Request>& requests, const std::vector<int>& peers, const char* what,
            double timeout) const {
    const bool all_done = poll_until([&] {
      bool done_all = true;
      for (size_t i = 0; i < requests.size(); ++i) {
        if (requests[i] == MPI_REQUEST_NULL) continue;
        int done = 0;
        check(MPI_Test(&requests[i], &done, MPI_STATUS_IGNORE), peers[i], what);
        done_all = done_all && done;
      }
      return done_all;
    }, timeout);
    if (all_done) return;
    std::string missing;
    for (size_t i = 0; i < requests.size(); ++i) {
      if (requests[i] != MPI_REQUEST_NULL) missing += cat(missing.empty() ? "" : ", ", peers[i]);
    }
    fail(cat("rank ", rank_, " of ", size_, ": lost rank ", missing, ": no answer for ",
             static_cast<int>(timeout), " s during ", what,
             rank_ == 0 ? "" : " (rank 0 waits for every rank, so the lost one may be another)",
             "; $CATDOG_MPI_TIMEOUT sets the limit"));
  }

  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
};

#endif  // CATDOG_WITH_MPI

Ranks* g_ranks = nullptr;

}  // namespace

Ranks& ranks() {
  if (!g_ranks) {
#if CATDOG_WITH_MPI
    if (launched_by_mpi()) {
      g_ranks = new MpiRanks();
      return *g_ranks;
    }
#endif
    g_ranks = new SingleRank();
  }
  return *g_ranks;
}

bool poll_until(const std::function<bool()>& done, double timeout_seconds) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto pause = std::chrono::microseconds(0);
  for (;;) {
    if (done()) return true;
    const double waited = std::chrono::duration<double>(Clock::now() - start).count();
    if (waited > timeout_seconds) return false;
    if (pause.count() == 0) {
      std::this_thread::yield();
      if (waited > 1e-3) pause = std::chrono::microseconds(50);
    } else {
      std::this_thread::sleep_for(pause);
      if (pause < std::chrono::microseconds(2000)) pause *= 2;
    }
  }
}

double collective_timeout() {
  if (const char* text = std::getenv("CATDOG_MPI_TIMEOUT")) {
    char* end = nullptr;
    const double seconds = std::strtod(text, &end);
    CATDOG_CHECK(end != text && *end == '\0' && seconds > 0, "$CATDOG_MPI_TIMEOUT must be a ",
                 "positive number of seconds, got '", text, "'");
    return seconds;
  }
  return 60;
}

bool any_rank(Ranks& ranks, bool mine, const char* what) {
  if (ranks.size() == 1) return mine;
  std::vector<double> flag = {mine ? 1.0 : 0.0};
  ranks.sum(flag, what, collective_timeout());
  return flag[0] > 0;
}

void finish_ranks(int exit_code) {
#if CATDOG_WITH_MPI
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) return;
  if (exit_code == 0) {
    MPI_Finalize();
  } else {
    MPI_Abort(MPI_COMM_WORLD, exit_code);
  }
#else
  (void)exit_code;
#endif
}

}  // namespace catdog
