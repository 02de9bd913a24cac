// Memory: how much this process may still take, and a limit on what its tensors take.
//
// Linux lets a process allocate more than it has (overcommit) and kills it later, without a
// word, when the pages are touched: a batch too big for the machine ended as "Killed". So every
// tensor's storage (tensor.cpp, the one place tensors allocate) is counted, and an allocation
// that would take the live total over the limit throws TensorMemoryLimit, a std::bad_alloc the
// commands turn into an "out of memory" message that says what to lower.
// The CLI sets the limit at start (cli/process.h): what the machine (or the process's cgroup,
// a container's limit) has available, less a reserve for what is not a tensor; --max-memory
// sets it instead. A program that sets no limit has none.
#pragma once

#include <cstdint>
#include <new>
#include <string>
#include <string_view>

namespace attnmt {

// Bytes this process can still take: the smaller of MemAvailable (/proc/meminfo) and the room
// left under each memory limit of its cgroups (v1 and v2, up to their roots), the reclaimable
// page cache counted as room. -1 when nothing says.
int64_t available_memory();

// The parts of available_memory(), on the files' text, for tests.
int64_t meminfo_available(std::string_view meminfo);  // bytes, -1 if absent
// limit - (usage - inactive_file); -1 for "max", a limit near 2^63 (v1's "none") or unreadable.
int64_t cgroup_room(std::string_view limit, std::string_view usage, std::string_view stat,
                    std::string_view inactive_key);

// Tensors' bytes: live now, the most live since the last reset, and the limit (0: none).
struct TensorMemory {
  int64_t live = 0, peak = 0, limit = 0;
};
TensorMemory tensor_memory();
void reset_tensor_memory_peak();
// `why` says where the limit came from, for the message ("--max-memory 2G").
void set_tensor_memory_limit(int64_t bytes, std::string why);
// The default limit: `available` (bytes; -1 unknown: no limit) less a reserve of 15% and at
// least 256 MB for what is not a tensor (the corpus, oneDNN's buffers, the program).
int64_t default_tensor_memory_limit(int64_t available);

// Gives the system back the memory of freed tensors (the region's free pages, tensor/pool.h)
// and the heap's free pages (malloc_trim). The process keeps them otherwise (cli/process.cpp),
// since a training step or a translation batch would soon take them again; a server that has
// gone idle calls this, so that one large request does not hold its memory for good. Returns
// the region's bytes given back.
int64_t release_free_memory();

// Storage for tensors goes through these two (tensor.cpp): count() throws TensorMemoryLimit when
// `bytes` more would pass the limit.
void count_tensor_bytes(int64_t bytes);
void uncount_tensor_bytes(int64_t bytes) noexcept;

class TensorMemoryLimit : public std::bad_alloc {
 public:
  explicit TensorMemoryLimit(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }
  // The same, with what was being done in front ("step 3, a batch of ...: ").
  TensorMemoryLimit within(std::string_view context) const;

 private:
  std::string message_;
};

// Transparent huge pages: what the kernel does (the bracketed mode of
// /sys/kernel/mm/transparent_hugepage/enabled: "always", "madvise" or "never"; "" unknown) and
// whether glibc's heap asks for them (GLIBC_TUNABLES holds glibc.malloc.hugetlb=1, which
// cli/process.h sets: with "madvise", the heap's pages come 2 MB at a time, one page fault each
// where 4 KB pages took 512).
std::string huge_pages_mode(std::string_view enabled_file);
bool heap_asks_huge_pages(std::string_view glibc_tunables);
// One line for `attnmt info`: "madvise, asked for by the heap (...)".
std::string huge_pages_summary();

// "2G", "512M", "1.5g", "2GB", "300000000" (bytes) -> bytes; K, M, G, T are powers of 1024.
// Throws attnmt::Error on anything else.
int64_t parse_memory_size(std::string_view text);
// 1.2 GiB, 312 MiB, 40 KiB.
std::string format_bytes(int64_t bytes);

}  // namespace attnmt
