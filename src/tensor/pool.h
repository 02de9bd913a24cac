// Large tensors' storage (64 KB and more), in a region of its own apart from malloc's heap.
//
// The process keeps its freed memory (cli/process.cpp: no trimming, no mmap below 1 GB), so a
// training step's large tensors reuse the same pages step after step. In malloc's one heap they
// lie among every small object of the program, and a small object that lives on (a oneDNN
// primitive, made once and cached) splits a large free block for good: measured, caching a
// bf16 training's primitives grew the heap by 300 MB past what its tensors need. Here only large
// tensors lie, best fit with neighbours merged.
//
// The region is reserved once (address space, no memory) and made usable as the top grows; what
// is freed stays the process's, as in the heap, until release() (attnmt serve, when idle).
// Where the region cannot be reserved, or is full, or under AddressSanitizer (which must see
// every allocation), take() returns nullptr and the caller allocates as before.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <utility>

namespace attnmt::pool {

// Blocks of at least this many bytes come from the pool: an LSTM's tensors of one time step
// (100-600 KB) too, which the kept primitives had scattered as well (+190 MB with 1 MB here).
inline constexpr size_t kMinBytes = size_t(64) << 10;

// Bytes of a region in use by blocks, and its top (blocks and the free gaps between them).
struct Usage {
  int64_t in_blocks = 0, top = 0;
};

// A reserved range of address space handing out blocks, best fit, neighbours merged when freed.
class Region {
 public:
  explicit Region(size_t reserve);  // nothing reserved if it cannot be (take() gives nullptr)
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;
  ~Region();
  void* take(size_t bytes);          // 4096-aligned, or nullptr when full
  bool give_back(void* p) noexcept;  // false (nothing done) if `p` is not this region's
  Usage usage();
  // Gives the system back the pages of the free blocks and of everything above the top (their
  // addresses stay the region's; a page is zero when next used). Returns the bytes it went
  // over: the free blocks (given back before or not) and what lay between the top and the end
  // of the usable part.
  // Costly for a process that will want the memory again at once (each page is cleared again
  // when touched): for one that has gone idle.
  size_t release() noexcept;

 private:
  void add_free(size_t off, size_t len);
  bool grow(size_t end);

  std::mutex mutex_;
  char* base_ = nullptr;
  size_t size_ = 0, usable_ = 0, top_ = 0, in_blocks_ = 0;
  std::map<size_t, size_t> free_;                // offset -> length, never touching the top
  std::set<std::pair<size_t, size_t>> by_size_;  // (length, offset) of the same blocks
  std::unordered_map<size_t, size_t> live_;      // offset -> length
};

// The process's region (as much address space as the machine has memory), for tensors:
// `bytes` (>= kMinBytes) from it, or nullptr (then use malloc).
void* take(size_t bytes);
// Gives back what take() returned; false (nothing done) if `p` is not the pool's.
bool give_back(void* p) noexcept;
Usage usage();
size_t release() noexcept;

}  // namespace attnmt::pool
