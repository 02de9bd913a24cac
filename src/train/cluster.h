// The processes that train together: which one this is, and the few collective operations that
// data-parallel training needs, on MPI (Open MPI). Launched by `mpirun -np N`, a process is one
// of N ranks; run any other way, or built without MPI, it is the only one and every collective
// is the identity. Only the training command joins a job (cluster::init); the others never
// touch MPI. Not here: what training does with the ranks (train/data_parallel.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace attnmt::cluster {

// Joins the job when this process was started by mpirun (MPI_Init_thread, FUNNELED: only the
// main thread calls MPI); otherwise stays a single rank. Throws attnmt::Error when mpirun
// started several copies of a build without MPI. Idempotent.
void init();
// Leaves the job (MPI_Finalize) after a successful run. A process that ends without it (an
// error) makes mpirun end the whole job, which is what a failed rank must do.
void finalize();

bool built_with_mpi();
int rank();        // 0 .. size()-1
int size();        // 1 when not under mpirun
int local_size();  // ranks on this machine
bool distributed();  // size() > 1
std::string host();  // this machine's name (for messages)
// "rank 1 of 2 (host)" for messages.
std::string whoami();

// In place: every rank ends with the element-wise sum over the ranks.
void sum(std::span<float> values);
void sum(std::span<double> values);
// In place: every rank ends with rank 0's values.
void broadcast(std::span<double> values);
// [size()] every rank's value, in rank order, on every rank.
std::vector<uint64_t> gather(uint64_t value);
void barrier();

// The cores this process may run on (its affinity: mpirun binds ranks to cores or sockets).
int allowed_cores();
// The thread count for --threads 0 in a job: the cores this process may run on, shared with the
// other ranks of this machine when they are not bound to cores of their own.
int default_threads();

}  // namespace attnmt::cluster
