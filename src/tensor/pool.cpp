// The large-tensor region: see pool.h.
#include "tensor/pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

namespace attnmt::pool {

namespace {

constexpr size_t kAlign = 4096;
constexpr size_t kCommitStep = size_t(64) << 20;  // the usable part grows by this at least

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kEnabled = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kEnabled = false;
#else
constexpr bool kEnabled = true;
#endif
#else
constexpr bool kEnabled = true;
#endif

size_t round_up(size_t x, size_t step) { return (x + step - 1) / step * step; }

}  // namespace

Region::Region(size_t reserve) {
  if (!kEnabled || reserve == 0) return;
  const size_t want = round_up(reserve, kCommitStep);
  // PROT_NONE takes no memory and counts against no commit limit until made usable (grow()).
  void* p = mmap(nullptr, want, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return;
  base_ = static_cast<char*>(p);
  size_ = want;
  madvise(base_, size_, MADV_HUGEPAGE);  // where the kernel asks for it (THP "madvise")
}

Region::~Region() {
  if (base_) munmap(base_, size_);
}

void* Region::take(size_t bytes) {
  if (!base_) return nullptr;
  const size_t n = round_up(std::max<size_t>(bytes, 1), kAlign);
  std::lock_guard lock(mutex_);
  size_t at;
  auto fit = by_size_.lower_bound({n, 0});
  if (fit != by_size_.end()) {  // the smallest free block that holds it; the rest stays free
    const auto [len, off] = *fit;
    by_size_.erase(fit);
    free_.erase(off);
    if (len > n) add_free(off + n, len - n);
    at = off;
  } else {
    if (n > size_ - top_ || !grow(top_ + n)) return nullptr;
    at = top_;
    top_ += n;
  }
  live_[at] = n;
  in_blocks_ += n;
  return base_ + at;
}

bool Region::give_back(void* p) noexcept {
  char* c = static_cast<char*>(p);
  if (!base_ || c < base_ || c >= base_ + size_) return false;
  std::lock_guard lock(mutex_);
  auto it = live_.find(static_cast<size_t>(c - base_));
  if (it == live_.end()) return false;
  size_t off = it->first, len = it->second;
  live_.erase(it);
  in_blocks_ -= len;
  // Merge with the free neighbours; a block that ends at the top lowers the top.
  auto next = free_.lower_bound(off);
  if (next != free_.end() && next->first == off + len) {
    len += next->second;
    by_size_.erase({next->second, next->first});
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == off) {
      off = prev->first;
      len += prev->second;
      by_size_.erase({prev->second, prev->first});
      free_.erase(prev);
    }
  }
  if (off + len == top_) top_ = off;
  else add_free(off, len);
  return true;
}

Usage Region::usage() {
  std::lock_guard lock(mutex_);
  return {static_cast<int64_t>(in_blocks_), static_cast<int64_t>(top_)};
}

size_t Region::release() noexcept {
  if (!base_) return 0;
  std::lock_guard lock(mutex_);
  size_t given = 0;
  for (const auto& [off, len] : free_)
    if (madvise(base_ + off, len, MADV_DONTNEED) == 0) given += len;
  if (usable_ > top_ && madvise(base_ + top_, usable_ - top_, MADV_DONTNEED) == 0) {
    given += usable_ - top_;
    // Above the top, the address space goes back to unusable too (grow() makes it usable again).
    const size_t keep = round_up(top_, kCommitStep);
    if (usable_ > keep && mprotect(base_ + keep, usable_ - keep, PROT_NONE) == 0) usable_ = keep;
  }
  return given;
}

void Region::add_free(size_t off, size_t len) {
  free_[off] = len;
  by_size_.insert({len, off});
}

// Makes [0, end) usable; false if the system refuses (then nothing changed).
bool Region::grow(size_t end) {
  if (end <= usable_) return true;
  const size_t to = std::min(size_, round_up(end, kCommitStep));
  if (mprotect(base_ + usable_, to - usable_, PROT_READ | PROT_WRITE) != 0) return false;
  usable_ = to;
  return true;
}

namespace {

// As much address space as the machine has memory: no process could fill more.
Region& region() {
  static Region* r = [] {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return new Region(pages > 0 && page > 0 ? static_cast<size_t>(pages) * page : 0);
  }();  // never destroyed: tensors may be freed at exit
  return *r;
}

}  // namespace

void* take(size_t bytes) { return bytes < kMinBytes ? nullptr : region().take(bytes); }
bool give_back(void* p) noexcept { return region().give_back(p); }
Usage usage() { return region().usage(); }
size_t release() noexcept { return region().release(); }

}  // namespace attnmt::pool
