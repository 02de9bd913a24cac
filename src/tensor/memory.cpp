// Memory available to the process, and the count of tensors' bytes. See memory.h.
#include "tensor/memory.h"

#include <fmt/format.h>
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

#include "tensor/error.h"
#include "tensor/pool.h"

namespace attnmt {

namespace {

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The leading decimal of `text` (after blanks), or -1.
int64_t leading_number(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  int64_t v = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  return ec == std::errc() ? v : -1;
}

// The value after "key " at the start of a line of `text`, or -1.
int64_t keyed_value(std::string_view text, std::string_view key) {
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    if (line.size() > key.size() && line.substr(0, key.size()) == key &&
        (line[key.size()] == ' ' || line[key.size()] == ':'))
      return leading_number(line.substr(key.size() + 1));
    at = end + 1;
  }
  return -1;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t at = 0;
  for (;;) {
    size_t end = s.find(sep, at);
    parts.push_back(s.substr(at, end == std::string_view::npos ? end : end - at));
    if (end == std::string_view::npos) return parts;
    at = end + 1;
  }
}

// The smallest room under the memory limits of the cgroup at `rel` below `mount` and of its
// ancestors up to `mount`; -1 where none is set.
int64_t room_up_the_tree(const std::filesystem::path& mount, std::string_view rel, bool v2) {
  const char* limit_file = v2 ? "memory.max" : "memory.limit_in_bytes";
  const char* usage_file = v2 ? "memory.current" : "memory.usage_in_bytes";
  const char* inactive = v2 ? "inactive_file" : "total_inactive_file";
  std::filesystem::path dir = mount / std::filesystem::path(rel).relative_path();
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) dir = mount;  // a namespace hides the path
  int64_t room = -1;
  for (;;) {
    const int64_t r = cgroup_room(read_all(dir / limit_file), read_all(dir / usage_file),
                                  read_all(dir / "memory.stat"), inactive);
    if (r >= 0) room = room < 0 ? r : std::min(room, r);
    if (dir == mount || !dir.has_parent_path() || dir.parent_path() == dir) break;
    dir = dir.parent_path();
  }
  return room;
}

// The room left by the cgroups' memory limits: /proc/self/cgroup names the process's group in
// each hierarchy, /proc/self/mountinfo where each hierarchy is mounted (and from which root).
int64_t cgroup_memory_room() {
  const std::string groups = read_all("/proc/self/cgroup");
  const std::string mounts = read_all("/proc/self/mountinfo");
  int64_t room = -1;
  for (std::string_view line : split(mounts, '\n')) {
    // id parent major:minor root mount options [optional...] - fstype source super-options
    const size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    const auto fields = split(line.substr(0, dash), ' ');
    const auto tail = split(line.substr(dash + 3), ' ');
    if (fields.size() < 5 || tail.size() < 3) continue;
    const bool v2 = tail[0] == "cgroup2";
    const bool v1 = tail[0] == "cgroup" && tail[2].find("memory") != std::string_view::npos;
    if (!v1 && !v2) continue;
    // This hierarchy's line of /proc/self/cgroup: "0::/path" (v2), "4:memory:/path" (v1).
    for (std::string_view g : split(groups, '\n')) {
      const auto parts = split(g, ':');
      if (parts.size() < 3) continue;
      const bool match = v2 ? parts[0] == "0" && parts[1].empty()
                            : std::ranges::count(split(parts[1], ','), "memory") > 0;
      if (!match) continue;
      std::string_view path = g.substr(parts[0].size() + parts[1].size() + 2);
      std::string_view root = fields[3];
      if (root != "/" && path.substr(0, root.size()) == root) path.remove_prefix(root.size());
      const int64_t r = room_up_the_tree(std::string(fields[4]), path, v2);
      if (r >= 0) room = room < 0 ? r : std::min(room, r);
    }
  }
  return room;
}

std::atomic<int64_t> g_live{0}, g_peak{0}, g_limit{0};
std::mutex g_why_mutex;
std::string g_why;  // where the limit came from

}  // namespace

int64_t meminfo_available(std::string_view meminfo) {
  const int64_t kb = keyed_value(meminfo, "MemAvailable");
  return kb < 0 ? -1 : kb * 1024;
}

int64_t cgroup_room(std::string_view limit, std::string_view usage, std::string_view stat,
                    std::string_view inactive_key) {
  const int64_t l = leading_number(limit), u = leading_number(usage);
  // v1 writes "no limit" as 2^63 rounded down to a page; v2 writes "max" (no number).
  if (l < 0 || u < 0 || l >= (int64_t(1) << 62)) return -1;
  const int64_t cache = std::max<int64_t>(0, keyed_value(stat, inactive_key));
  return std::max<int64_t>(0, l - std::max<int64_t>(0, u - cache));
}

int64_t available_memory() {
  const int64_t machine = meminfo_available(read_all("/proc/meminfo"));
  const int64_t group = cgroup_memory_room();
  if (machine < 0) return group;
  return group < 0 ? machine : std::min(machine, group);
}

TensorMemory tensor_memory() { return {g_live.load(), g_peak.load(), g_limit.load()}; }

void reset_tensor_memory_peak() { g_peak.store(g_live.load()); }

void set_tensor_memory_limit(int64_t bytes, std::string why) {
  std::lock_guard lock(g_why_mutex);
  g_limit.store(std::max<int64_t>(0, bytes));
  g_why = std::move(why);
}

int64_t default_tensor_memory_limit(int64_t available) {
  if (available < 0) return 0;
  const int64_t reserve = std::max<int64_t>(int64_t(256) << 20, available * 15 / 100);
  return std::max<int64_t>(int64_t(64) << 20, available - reserve);
}

void count_tensor_bytes(int64_t bytes) {
  const int64_t live = g_live.fetch_add(bytes) + bytes;
  const int64_t limit = g_limit.load(std::memory_order_relaxed);
  if (limit > 0 && live > limit) {
    g_live.fetch_sub(bytes);
    std::string why;
    {
      std::lock_guard lock(g_why_mutex);
      why = g_why;
    }
    throw TensorMemoryLimit(fmt::format(
        "the tensors would take {} ({} more), over the limit of {} ({})", format_bytes(live),
        format_bytes(bytes), format_bytes(limit), why));
  }
  int64_t peak = g_peak.load(std::memory_order_relaxed);
  while (live > peak && !g_peak.compare_exchange_weak(peak, live)) {
  }
}

void uncount_tensor_bytes(int64_t bytes) noexcept { g_live.fetch_sub(bytes); }

int64_t release_free_memory() {
  const int64_t given = static_cast<int64_t>(pool::release());
  malloc_trim(0);
  return given;
}

TensorMemoryLimit TensorMemoryLimit::within(std::string_view context) const {
  return TensorMemoryLimit(fmt::format("{}: {}", context, message_));
}

int64_t parse_memory_size(std::string_view text) {
  const std::string t(text);
  size_t used = 0;
  double v = -1;
  try {
    v = std::stod(t, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = t.substr(used);
  std::transform(unit.begin(), unit.end(), unit.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (!unit.empty() && unit.back() == 'b' && unit.size() == 2) unit.pop_back();  // "GB"
  double scale = 0;
  if (unit.empty()) scale = 1;
  else if (unit == "k") scale = 1024.0;
  else if (unit == "m") scale = 1024.0 * 1024;
  else if (unit == "g") scale = 1024.0 * 1024 * 1024;
  else if (unit == "t") scale = 1024.0 * 1024 * 1024 * 1024;
  ATTNMT_CHECK(used > 0 && scale > 0 && std::isfinite(v) && v > 0 && v * scale < 9e18,
               "'{}' is not a memory size: write a positive number of bytes, or one with K, M, "
               "G or T after it (2G, 512M)",
               text);
  return static_cast<int64_t>(v * scale);
}

std::string huge_pages_mode(std::string_view enabled_file) {
  const size_t open = enabled_file.find('['), close = enabled_file.find(']', open);
  if (open == std::string_view::npos || close == std::string_view::npos) return "";
  return std::string(enabled_file.substr(open + 1, close - open - 1));
}

bool heap_asks_huge_pages(std::string_view glibc_tunables) {
  constexpr std::string_view kKey = "glibc.malloc.hugetlb=";
  bool asks = false;  // the last setting counts, as in glibc
  for (size_t at = 0; at <= glibc_tunables.size();) {
    const size_t end = std::min(glibc_tunables.find(':', at), glibc_tunables.size());
    const std::string_view entry = glibc_tunables.substr(at, end - at);
    if (entry.substr(0, kKey.size()) == kKey) {
      const std::string_view value = entry.substr(kKey.size());
      asks = !value.empty() && value != "0";
    }
    at = end + 1;
  }
  return asks;
}

std::string huge_pages_summary() {
  const std::string mode =
      huge_pages_mode(read_all("/sys/kernel/mm/transparent_hugepage/enabled"));
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  const bool asks = heap_asks_huge_pages(tunables ? tunables : "");
  if (mode.empty()) return "not offered by this kernel";
  if (mode == "never") return "never (the kernel's setting)";
  if (mode == "always") return "always (the kernel's setting)";
  return asks ? mode + ", asked for by the heap (GLIBC_TUNABLES glibc.malloc.hugetlb=1)"
              : mode + ", not asked for by the heap (GLIBC_TUNABLES has no glibc.malloc.hugetlb=1)";
}

std::string format_bytes(int64_t bytes) {
  const double b = static_cast<double>(bytes), k = 1024;
  if (b >= k * k * k) return fmt::format("{:.2f} GiB", b / (k * k * k));
  if (b >= k * k) return fmt::format("{:.0f} MiB", b / (k * k));
  return fmt::format("{:.0f} KiB", b / k);
}

}  // namespace attnmt
