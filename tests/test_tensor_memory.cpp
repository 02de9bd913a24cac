// The memory limit on tensors (tensor/memory.h): the count, the limit, reading what the machine
// and its cgroup leave, and the CLI's "out of memory" in place of the kernel's silent kill.
#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include "autograd/var.h"
#include "decode/translator.h"
#include "helpers.h"
#include "models/registry.h"
#include "tensor/error.h"
#include "tensor/memory.h"
#include "tensor/pool.h"
#include "tensor/tensor.h"
#include "tensor/threads.h"

using namespace attnmt;
using namespace attnmt::testing;

namespace {

// Sets a limit for one test and puts the one before back.
class LimitForTest {
 public:
  explicit LimitForTest(int64_t bytes) : before_(tensor_memory().limit) {
    set_tensor_memory_limit(bytes, "the test's limit");
  }
  ~LimitForTest() { set_tensor_memory_limit(before_, "the limit before the test"); }

 private:
  int64_t before_;
};

// dir/train.{en,es}: `n` pairs of `words` words each (a batch of them is large).
void write_long_pairs(const std::string& dir, int n, int words) {
  const char* en[] = {"the", "red", "cat", "sees", "a", "small", "dog", "and", "runs", "home"};
  const char* es[] = {"el", "rojo", "gato", "ve", "un", "pequeño", "perro", "y", "corre", "casa"};
  std::string src, tgt;
  for (int i = 0; i < n; ++i) {
    for (int w = 0; w < words; ++w) {
      src += std::string(w ? " " : "") + en[(i + w * 7) % 10];
      tgt += std::string(w ? " " : "") + es[(i * 3 + w) % 10];
    }
    src += "\n";
    tgt += "\n";
  }
  write_text(dir + "/train.en", src);
  write_text(dir + "/train.es", tgt);
}

// A Transformer's training options: width, layers a side, target tokens a batch.
std::string transformer_args(int width, int layers, int batch_tokens) {
  return fmt::format("--arch transformer --emb-dim {0} --heads 2 --ffn-dim {1} --enc-layers {2} "
                     "--dec-layers {2} --vocab-size 40 --batch-tokens {3} --threads 1 "
                     "--max-steps 2 -q",
                     width, 2 * width, layers, batch_tokens);
}

}  // namespace

TEST_CASE("memory: tensors are counted while they live, and the peak is kept", "[memory]") {
  const TensorMemory before = tensor_memory();
  reset_tensor_memory_peak();
  {
    Tensor a(Shape{1000, 250});  // 1,000,000 bytes
    Tensor b = a.clone();
    Tensor view = a.rows(10, 20);  // no storage of its own
    CHECK(tensor_memory().live - before.live == 2'000'000);
  }
  CHECK(tensor_memory().live == before.live);
  CHECK(tensor_memory().peak - before.live >= 2'000'000);
}

TEST_CASE("memory: an allocation over the limit throws, names the limit and takes nothing",
          "[memory]") {
  const int64_t live = tensor_memory().live;
  LimitForTest limit(live + 3'000'000);
  Tensor a(Shape{500'000});  // 2 MB: fits
  try {
    Tensor b(Shape{500'000});  // 2 MB more: 4 MB over a 3 MB room
    FAIL("no exception");
  } catch (const TensorMemoryLimit& e) {
    CHECK_THAT(e.what(), Catch::Contains("over the limit of") &&
                             Catch::Contains("the test's limit"));
    CHECK_THAT(e.within("step 3").what(), Catch::StartsWith("step 3: the tensors would take"));
  }
  CHECK(tensor_memory().live == live + 2'000'000);
  CHECK_THROWS_AS(Tensor(Shape{500'000}), std::bad_alloc);  // what the CLI catches
  a = Tensor();
  Tensor c(Shape{500'000});  // the room is back
  CHECK(tensor_memory().live == live + 2'000'000);
}

TEST_CASE("memory: sizes are read as people write them, and nonsense is refused", "[memory]") {
  CHECK(parse_memory_size("2G") == int64_t(2) << 30);
  CHECK(parse_memory_size("2GB") == int64_t(2) << 30);
  CHECK(parse_memory_size("512m") == int64_t(512) << 20);
  CHECK(parse_memory_size("1.5G") == int64_t(3) << 29);
  CHECK(parse_memory_size("64K") == 65536);
  CHECK(parse_memory_size("300000000") == 300000000);
  for (const char* bad : {"", "G", "-1G", "0", "2X", "2 GiB", "1e30T", "nan"})
    CHECK_THROWS_WITH(parse_memory_size(bad), Catch::Contains("is not a memory size"));
  CHECK(format_bytes(int64_t(3) << 29) == "1.50 GiB");
  CHECK(format_bytes(int64_t(300) << 20) == "300 MiB");
}

TEST_CASE("memory: MemAvailable and the cgroup's room are read from their files", "[memory]") {
  CHECK(meminfo_available("MemTotal:  2000 kB\nMemFree:  100 kB\nMemAvailable:    1500 kB\n") ==
        1500 * 1024);
  CHECK(meminfo_available("MemTotal:  2000 kB\n") == -1);
  // v2: limit - (usage - the inactive page cache, which the kernel reclaims before it kills).
  CHECK(cgroup_room("1000\n", "800\n", "anon 500\ninactive_file 300\nactive_file 0\n",
                    "inactive_file") == 500);
  CHECK(cgroup_room("max\n", "800\n", "", "inactive_file") == -1);
  // v1: "no limit" is 2^63 rounded down to a page; the key is total_inactive_file.
  CHECK(cgroup_room("9223372036854771712\n", "5\n", "", "total_inactive_file") == -1);
  CHECK(cgroup_room("1000\n", "1200\n", "total_inactive_file 100\n", "total_inactive_file") == 0);
  CHECK(cgroup_room("", "", "", "inactive_file") == -1);  // no such files
  const int64_t machine = meminfo_available(read_text("/proc/meminfo"));
  const int64_t have = available_memory();
  CHECK(have > 0);
  CHECK(have <= machine);
  CHECK(default_tensor_memory_limit(int64_t(10) << 30) == (int64_t(10) << 30) * 85 / 100);
  CHECK(default_tensor_memory_limit(int64_t(300) << 20) == int64_t(64) << 20);
  CHECK(default_tensor_memory_limit(-1) == 0);
}

TEST_CASE("memory: a training batch over --max-memory is an error naming the batch, no model "
          "written",
          "[memory][cli]") {
  TempDir dir("mem-train");
  const std::string d = dir.path().string();
  write_long_pairs(d, 400, 30);
  auto r = run_attnmt(fmt::format("train --src {0}/train.en --tgt {0}/train.es -o {0}/m.bin {1} "
                                  "--max-memory 40M",
                                  d, transformer_args(64, 4, 12000)));
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "attnmt train: error: out of memory: step 1, a batch of"));
  CHECK(contains(r.err, "over the limit of 40 MiB (--max-memory 40M)"));
  CHECK(contains(r.err, "lower --batch-tokens"));
  CHECK_FALSE(fs::exists(d + "/m.bin"));
  // Enough memory: it trains, and says how much its tensors took at most.
  auto fine = run_attnmt(fmt::format("train --src {0}/train.en --tgt {0}/train.es -o {0}/m.bin "
                                     "{1} --max-memory 1G --vocab {0}/m.bin.spm.model",
                                     d, transformer_args(64, 4, 500)));
  INFO(fine.err);
  CHECK(fine.exit_code == 0);
  CHECK(fs::exists(d + "/m.bin"));
  auto bad = run_attnmt(fmt::format("translate -m {0}/m.bin -i {0}/train.en --max-memory 2X", d));
  CHECK(bad.exit_code == 2);
  CHECK(contains(bad.err, "'2X' is not a memory size"));
  auto tight = run_attnmt(fmt::format("translate -m {0}/m.bin -i {0}/train.en -o {0}/out.es "
                                      "--batch-tokens 100000 --beam 12 --max-memory 2M",
                                      d));
  INFO(tight.err);
  CHECK(tight.exit_code == 1);
  CHECK(contains(tight.err, "attnmt translate: error: out of memory: the tensors would take"));
  CHECK_FALSE(fs::exists(d + "/out.es"));
}

TEST_CASE("memory: a model too big to train here is refused before its vocabulary is trained",
          "[memory][cli]") {
  TempDir dir("mem-huge");
  const std::string d = dir.path().string();
  write_tiny_corpus(d, 20);
  // About 10^12 parameters: 16 TB to train, on any machine.
  auto r = run_attnmt(fmt::format("train --src {0}/train.en --tgt {0}/train.es -o {0}/m.bin "
                                  "--arch transformer --enc-layers 1024 --dec-layers 1024 "
                                  "--emb-dim 8192 --ffn-dim 8192 --vocab-size 30",
                                  d));
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "this machine has available: choose fewer layers"));
  CHECK_FALSE(fs::exists(d + "/m.bin.spm.model"));
  CHECK_FALSE(fs::exists(d + "/m.bin"));
}

TEST_CASE("memory: the training log says how much the tensors took at most", "[memory][cli]") {
  TempDir dir("mem-log");
  const std::string d = dir.path().string();
  write_tiny_corpus(d, 20);
  auto r = run_attnmt(fmt::format("train --src {0}/train.en --tgt {0}/train.es -o {0}/m.bin "
                                  "--vocab-size 30 --emb-dim 16 --enc-hidden 16 --dec-hidden 32 "
                                  "--threads 1 --max-steps 2",
                                  d));
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, "target tokens/s, tensors at most "));
  CHECK((contains(r.err, " KiB; model ") || contains(r.err, " MiB; model ")));
}

// The case the limit is for: a container whose memory limit the batch would pass. Without the
// limit on tensors, the kernel kills the process (exit 137, not a word on stderr).
TEST_CASE("memory: in a cgroup too small for the batch, training says out of memory instead of "
          "being killed",
          "[memory][cli]") {
  const std::string group = fmt::format("/sys/fs/cgroup/memory/attnmt-test-{}", getpid());
  std::error_code ec;
  fs::create_directory(group, ec);
  if (ec || !std::ofstream(group + "/memory.limit_in_bytes")) {
    WARN("skipped: no cgroup v1 memory controller to write at /sys/fs/cgroup/memory (needs root "
         "and a v1 hierarchy): " << ec.message());
    return;
  }
  TempDir dir("mem-cgroup");
  const std::string d = dir.path().string();
  write_long_pairs(d, 400, 30);
  auto r = run_shell(fmt::format(
      "echo 600M > {0}/memory.limit_in_bytes && echo 0 > {0}/memory.swappiness; "
      "echo $$ > {0}/cgroup.procs && exec '{1}' train --src {2}/train.en --tgt {2}/train.es "
      "-o {2}/m.bin {3}",
      group, ATTNMT_BINARY, d, transformer_args(256, 6, 12000)));
  // What `info` says it has: the group's 600 MB, not the machine's gigabytes.
  auto info = run_shell(fmt::format("echo $$ > {0}/cgroup.procs && exec '{1}' info {2}", group,
                                    ATTNMT_BINARY,
                                    std::string(ATTNMT_SOURCE_DIR) + "/models/en-es.attnmt"));
  fs::remove(group, ec);
  INFO(info.out);
  CHECK(info.exit_code == 0);
  CHECK(contains(info.out, " MiB available here (the machine, or its container)"));
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "attnmt train: error: out of memory: step 1, a batch of"));
  CHECK(contains(r.err, "or its container, had available at start"));
  CHECK_FALSE(fs::exists(d + "/m.bin"));
}

TEST_CASE("memory: translation batches out of memory side by side run again alone, with the same "
          "result",
          "[memory][threads]") {
  // A limit that one batch fits under and two at once do not: translate_ids's workers
  // (run_on_workers) must put the batch that runs out aside and search it again alone.
  ModelConfig c;
  c.arch = Arch::kTransformer;
  c.vocab_size = 50;
  c.emb_dim = c.enc_hidden = c.dec_hidden = 64;
  c.heads = 2;
  c.ffn_dim = 128;
  auto model = make_model(c, 3);
  std::vector<std::vector<int>> src;
  for (int i = 0; i < 24; ++i) {
    std::vector<int> s;
    for (int w = 0; w < 30 + i % 5; ++w) s.push_back(4 + (i * 7 + w * 3) % 46);
    src.push_back(s);
  }
  TranslateOptions o;
  o.search.beam = 6;
  o.search.max_length_ratio = 1.0f;
  o.search.max_length_extra = 4;
  o.batch_size = 4;  // 6 batches, all about as large
  NoGradGuard no_grad;
  const int threads_before = get_threads();
  set_threads(1);
  const int64_t base = tensor_memory().live;
  reset_tensor_memory_peak();
  const auto one = translate_ids(*model, src, o);
  const int64_t one_at_a_time = tensor_memory().peak - base;
  set_threads(2);
  reset_tensor_memory_peak();
  translate_ids(*model, src, o);
  const int64_t side_by_side = tensor_memory().peak - base;
  INFO("one batch at most " << one_at_a_time << " bytes, two at once " << side_by_side);
  if (side_by_side <= one_at_a_time * 5 / 4) {
    set_threads(threads_before);
    WARN("skipped: the two workers' batches did not overlap in this run");
    return;
  }
  std::vector<std::vector<Hypothesis>> limited;
  {
    LimitForTest limit(base + one_at_a_time + one_at_a_time / 10);
    limited = translate_ids(*model, src, o);
  }
  set_threads(threads_before);
  REQUIRE(limited.size() == one.size());
  int differing = 0;
  for (size_t i = 0; i < one.size(); ++i)
    differing += limited[i][0].tokens != one[i][0].tokens || limited[i][0].score != one[i][0].score;
  CHECK(differing == 0);
}

TEST_CASE("memory: the heap asks for transparent huge pages unless the user's GLIBC_TUNABLES says",
          "[memory][cli]") {
  CHECK(huge_pages_mode("always [madvise] never\n") == "madvise");
  CHECK(huge_pages_mode("[always] madvise never") == "always");
  CHECK(huge_pages_mode("") == "");
  CHECK(heap_asks_huge_pages("glibc.malloc.hugetlb=1"));
  CHECK(heap_asks_huge_pages("glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"));
  CHECK_FALSE(heap_asks_huge_pages(""));
  CHECK_FALSE(heap_asks_huge_pages("glibc.malloc.hugetlb=0"));
  CHECK_FALSE(heap_asks_huge_pages("glibc.malloc.hugetlb=1:glibc.malloc.hugetlb=0"));  // the last
  CHECK_FALSE(heap_asks_huge_pages("glibc.malloc.hugetlb_x=1"));
  // The program sets the tunable for itself (one re-execution at start), keeping the user's
  // other tunables, and leaves it alone when the user set it.
  const std::string model = std::string(ATTNMT_SOURCE_DIR) + "/models/en-es.attnmt";
  const std::string mode =
      huge_pages_mode(read_text("/sys/kernel/mm/transparent_hugepage/enabled"));
  if (mode != "madvise") {
    WARN("skipped: the kernel's THP mode is '" << mode << "', not madvise");
    return;
  }
  RunResult on = run_shell("env -u GLIBC_TUNABLES GLIBC_TUNABLES=glibc.malloc.arena_max=4 '" +
                           std::string(ATTNMT_BINARY) + "' info '" + model + "'");
  REQUIRE(on.exit_code == 0);
  CHECK(contains(on.out, "huge pages   madvise, asked for by the heap"));
  RunResult off = run_shell("GLIBC_TUNABLES=glibc.malloc.hugetlb=0 '" +
                            std::string(ATTNMT_BINARY) + "' info '" + model + "'");
  REQUIRE(off.exit_code == 0);
  CHECK(contains(off.out, "huge pages   madvise, not asked for by the heap"));
}

// The large-tensor region (tensor/pool.h): blocks apart from one another, the smallest free block
// that fits taken first, freed neighbours merged, the top lowered, full is full.
TEST_CASE("memory: the large-tensor region gives best-fit blocks and merges what is freed",
          "[memory]") {
  const size_t MB = size_t(1) << 20;
  pool::Region r(256 * MB);
  char* a = static_cast<char*>(r.take(3 * MB));
  if (!a) {
    WARN("skipped: no region here (AddressSanitizer, or no address space to reserve)");
    return;
  }
  char* b = static_cast<char*>(r.take(5 * MB + 1));  // rounded up to a page
  char* c = static_cast<char*>(r.take(2 * MB));
  char* d = static_cast<char*>(r.take(3 * MB));
  char* e = static_cast<char*>(r.take(1 * MB));
  for (char* p : {b, c, d, e}) REQUIRE(p != nullptr);
  for (char* p : {a, b, c, d, e}) CHECK(reinterpret_cast<uintptr_t>(p) % 4096 == 0);
  CHECK(b >= a + 3 * MB);
  CHECK(c >= b + 5 * MB + 1);
  // Every byte is usable and each block keeps what was written into it.
  std::memset(a, 1, 3 * MB);
  std::memset(b, 2, 5 * MB + 1);
  std::memset(c, 3, 2 * MB);
  CHECK((a[3 * MB - 1] == 1 && b[0] == 2 && b[5 * MB] == 2 && c[0] == 3 && c[2 * MB - 1] == 3));
  CHECK(r.usage().in_blocks == int64_t(3 + 2 + 3 + 1) * int64_t(MB) + int64_t(5 * MB + 4096));

  // Two holes, 5 MB (+1 page) and 3 MB: a 3 MB block takes the smaller.
  REQUIRE(r.give_back(b));
  REQUIRE(r.give_back(d));
  CHECK(r.take(3 * MB) == d);
  // Freeing a beside the hole at b merges them: 8 MB (+1 page) from a's address.
  REQUIRE(r.give_back(a));
  CHECK(r.take(8 * MB) == a);
  // A pointer not taken from the region is refused, and so is one given back twice.
  int local = 0;
  CHECK_FALSE(r.give_back(&local));
  REQUIRE(r.give_back(c));
  CHECK_FALSE(r.give_back(c));
  // Freeing the block at the top lowers the top past the free blocks below it.
  const int64_t top = r.usage().top;
  REQUIRE(r.give_back(e));
  CHECK(r.usage().top < top);
  REQUIRE(r.give_back(a));
  REQUIRE(r.give_back(d));
  CHECK(r.usage().in_blocks == 0);
  CHECK(r.usage().top == 0);
  // More than the reservation: nothing.
  CHECK(r.take(257 * MB) == nullptr);
  CHECK(r.take(256 * MB) == a);
}

// How many of the pages of [p, p + bytes) are in memory (mincore).
size_t resident_pages(const char* p, size_t bytes) {
  std::vector<unsigned char> in((bytes + 4095) / 4096);
  REQUIRE(mincore(const_cast<char*>(p), bytes, in.data()) == 0);
  return std::count_if(in.begin(), in.end(), [](unsigned char v) { return v & 1; });
}

TEST_CASE("memory: the region gives the pages of its free blocks back to the system when asked",
          "[memory]") {
  const size_t MB = size_t(1) << 20;
  pool::Region r(256 * MB);
  char* a = static_cast<char*>(r.take(8 * MB));
  if (!a) {
    WARN("skipped: no region here (AddressSanitizer, or no address space to reserve)");
    return;
  }
  char* b = static_cast<char*>(r.take(8 * MB));
  char* c = static_cast<char*>(r.take(100 * MB));
  REQUIRE((b && c));
  std::memset(a, 1, 8 * MB);
  std::memset(b, 2, 8 * MB);
  std::memset(c, 3, 100 * MB);
  CHECK(resident_pages(a, 8 * MB) == 8 * MB / 4096);
  // a is a hole below b; c was the top, so freeing it lowers the top to b's end.
  REQUIRE(r.give_back(a));
  REQUIRE(r.give_back(c));
  CHECK(r.release() >= 108 * MB);
  CHECK(resident_pages(a, 8 * MB) == 0);
  CHECK(resident_pages(b, 8 * MB) == 8 * MB / 4096);  // a live block keeps its pages and bytes
  CHECK((b[0] == 2 && b[8 * MB - 1] == 2));
  // What was given back is usable again, and zero.
  char* a2 = static_cast<char*>(r.take(8 * MB));
  char* c2 = static_cast<char*>(r.take(200 * MB));
  REQUIRE((a2 == a && c2 == c));
  CHECK((a2[0] == 0 && a2[8 * MB - 1] == 0 && c2[0] == 0 && c2[200 * MB - 1] == 0));
  REQUIRE(r.give_back(a2));
  REQUIRE(r.give_back(b));
  REQUIRE(r.give_back(c2));
  CHECK(r.usage().top == 0);
  CHECK(r.release() >= 216 * MB);  // all of it was above the top
  CHECK(r.release() == 0);         // and nothing is left to give
  CHECK(r.take(256 * MB) == a);    // the whole reservation can be made usable again
}

TEST_CASE("memory: large tensors live in the region, small ones in the heap", "[memory]") {
  void* probe = pool::take(pool::kMinBytes);
  if (!probe) {
    WARN("skipped: no region here (AddressSanitizer, or no address space to reserve)");
    return;
  }
  REQUIRE(pool::give_back(probe));
  const int64_t before = pool::usage().in_blocks;
  {
    Tensor big = Tensor::full(Shape{1024, 1024}, 2.0f);  // 4 MB
    Tensor small = Tensor::full(Shape{16, 16}, 3.0f);
    CHECK(pool::usage().in_blocks >= before + 4 * (int64_t(1) << 20));
    CHECK_FALSE(pool::give_back(small.data()));
    CHECK((big[0] == 2.0f && big[1024 * 1024 - 1] == 2.0f && small[255] == 3.0f));
  }
  CHECK(pool::usage().in_blocks == before);
}
