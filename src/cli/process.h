// Process-wide settings that every attnmt program (the CLI, the test runner, the benchmarks)
// makes once at the top of main(), before any work. They belong to a process, not to the
// library: a program embedding attnmt_core decides them for itself.
#pragma once

namespace attnmt {

// 1. OpenMP's idle wait. libgomp's idle threads spin for a long while after each parallel
//    region; on a shared or busy machine they steal the core from the thread doing the work
//    (measured: 14x slower training of a small model). libgomp reads its settings when it
//    loads, so this re-executes the program once with a short spin (GOMP_SPINCOUNT) unless the
//    user chose OMP_WAIT_POLICY or GOMP_SPINCOUNT (the same re-execution serves 2. below). It
//    returns only when no re-execution was needed (or it failed, which is harmless).
// 2. Large buffers. Logits and gradients are freed and allocated again every step; glibc serves
//    blocks over 32 MB with a fresh mmap each time, paying a page fault per 4 KB: keep them,
//    in one heap for all threads (translation workers too). And the heap asks for transparent
//    huge pages (glibc.malloc.hugetlb=1 in GLIBC_TUNABLES, also read at load, so set in the
//    same re-execution unless the user set that tunable): where the kernel's THP mode is
//    "madvise", first touching the heap costs a page fault per 2 MB instead of per 4 KB
//    (measured: training 1.25x, translation 1.07x faster; docs/BENCHMARKS.md, session 25).
// 3. Signals. SIGINT, SIGTERM and SIGHUP remove the temp files of atomic writes in progress
//    before the process dies (io/temp_files.h).
// 4. Memory. The tensors may take what the machine, or the process's cgroup, has available now,
//    less a reserve (tensor/memory.h): a batch beyond it is an "out of memory" error, where
//    the kernel would kill the process without a word.
void setup_process(char** argv);

}  // namespace attnmt
