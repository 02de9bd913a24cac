// The ranks of an MPI job, or the single process without one. MPI is used only where CMake found
// it (ATTNMT_WITH_MPI); the same calls then work on one rank without mpirun.
#include "train/cluster.h"

#include <fmt/format.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "tensor/error.h"

#ifdef ATTNMT_WITH_MPI
#include <mpi.h>
#endif

namespace attnmt::cluster {

namespace {

int g_rank = 0, g_size = 1, g_local_size = 1;
bool g_joined = false;  // MPI_Init was called here

// The launchers' own variables: Open MPI's mpirun, PMIx (Open MPI 4+, Slurm), MPICH's Hydra.
int launched_ranks() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"})
    if (const char* v = std::getenv(name)) return std::max(1, std::atoi(v));
  return std::getenv("PMIX_RANK") ? 2 : 1;  // PMIx without a size: a job all the same
}

#ifdef ATTNMT_WITH_MPI
// MPI counts are int: long spans go in pieces.
template <typename T>
void each_piece(std::span<T> values, auto&& call) {
  constexpr size_t kPiece = size_t{1} << 28;
  for (size_t i = 0; i < values.size(); i += kPiece)
    call(values.data() + i, static_cast<int>(std::min(kPiece, values.size() - i)));
}

template <typename T>
void sum_in_place(std::span<T> values, MPI_Datatype type) {
  if (g_size > 1)
    each_piece(values, [type](T* p, int n) {
      MPI_Allreduce(MPI_IN_PLACE, p, n, type, MPI_SUM, MPI_COMM_WORLD);
    });
}
#endif

}  // namespace

bool built_with_mpi() {
#ifdef ATTNMT_WITH_MPI
  return true;
#else
  return false;
#endif
}

void init() {
  if (g_joined) return;
  const int launched = launched_ranks();
#ifdef ATTNMT_WITH_MPI
  if (launched <= 1 && !std::getenv("PMIX_RANK")) return;  // not under mpirun: no MPI at all
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  g_joined = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &local);
  MPI_Comm_size(local, &g_local_size);
  MPI_Comm_free(&local);
#else
  ATTNMT_CHECK(launched <= 1,
               "this attnmt was built without MPI, but mpirun started {} copies of it: each "
               "would train alone. Install Open MPI (sudo bash tools/install-deps.sh build) and "
               "build again (tools/build.sh), or run attnmt train without mpirun",
               launched);
#endif
}

void finalize() {
#ifdef ATTNMT_WITH_MPI
  if (g_joined) MPI_Finalize();
#endif
  g_joined = false;
  g_rank = 0;
  g_size = g_local_size = 1;
}

int rank() { return g_rank; }
int size() { return g_size; }
int local_size() { return g_local_size; }
bool distributed() { return g_size > 1; }

std::string host() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "?";
  return name;
}

std::string whoami() { return fmt::format("rank {} of {} ({})", g_rank, g_size, host()); }

void sum(std::span<float> values) {
#ifdef ATTNMT_WITH_MPI
  sum_in_place(values, MPI_FLOAT);
#endif
}

void sum(std::span<double> values) {
#ifdef ATTNMT_WITH_MPI
  sum_in_place(values, MPI_DOUBLE);
#endif
}

void broadcast(std::span<double> values) {
#ifdef ATTNMT_WITH_MPI
  if (g_size > 1)
    each_piece(values, [](double* p, int n) { MPI_Bcast(p, n, MPI_DOUBLE, 0, MPI_COMM_WORLD); });
#endif
}

std::vector<uint64_t> gather(uint64_t value) {
  std::vector<uint64_t> all(static_cast<size_t>(g_size), value);
#ifdef ATTNMT_WITH_MPI
  if (g_size > 1)
    MPI_Allgather(&value, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD);
#endif
  return all;
}

void barrier() {
#ifdef ATTNMT_WITH_MPI
  if (g_size > 1) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

int allowed_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

int default_threads() {
  const int cores = std::max(1u, std::thread::hardware_concurrency());
  return std::max(1, std::min(allowed_cores(), cores / std::max(1, g_local_size)));
}

}  // namespace attnmt::cluster
