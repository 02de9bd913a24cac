// Atomic writes: the target has the old or the new content, never half; no temp file is left.
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "helpers.h"
#include "io/atomic_file.h"
#include "io/model_file.h"
#include "tensor/error.h"

using namespace attnmt;
using namespace attnmt::testing;

TEST_CASE("write_file_atomic replaces the content and leaves no temp file", "[io]") {
  TempDir dir;
  std::string path = dir.file("out.txt");
  write_file_atomic(path, [](std::ostream& os) { os << "first\n"; });
  CHECK(read_text(path) == "first\n");
  write_file_atomic(path, [](std::ostream& os) { os << std::string(200000, 'z'); });
  CHECK(read_text(path) == std::string(200000, 'z'));
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
  // Replacing keeps the permission bits of the old file.
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  write_file_atomic(path, [](std::ostream& os) { os << "private"; });
  CHECK(fs::status(path).permissions() == (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(read_text(path) == "private");
}

TEST_CASE("a writer that throws leaves the previous file intact and no temp file", "[io]") {
  TempDir dir;
  std::string path = dir.file("model.bin");
  write_text(path, "the old model");
  CHECK_THROWS_WITH(write_file_atomic(path,
                                      [](std::ostream& os) {
                                        os << std::string(100000, 'n');  // half written
                                        throw Error("disk quota in the writer");
                                      }),
                    "disk quota in the writer");
  CHECK(read_text(path) == "the old model");
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
  // Non-attnmt exceptions propagate unchanged too.
  CHECK_THROWS_AS(write_file_atomic(path, [](std::ostream&) { throw std::logic_error("x"); }),
                  std::logic_error);
  CHECK(read_text(path) == "the old model");
}

TEST_CASE("AtomicOutput commits on request and discards otherwise", "[io]") {
  TempDir dir;
  std::string path = dir.file("hyp.txt");
  {
    AtomicOutput out(path);
    out.stream() << "line 1\n";
    CHECK_FALSE(fs::exists(path));  // nothing visible before commit
  }
  CHECK_FALSE(fs::exists(path));
  CHECK(fs::is_empty(dir.path()));
  {
    AtomicOutput out(path);
    out.stream() << "line 1\nline 2\n";
    out.commit();
    out.commit();  // idempotent
    CHECK(out.committed());
  }
  CHECK(read_text(path) == "line 1\nline 2\n");
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
}

TEST_CASE("an unwritable destination throws naming the path and the reason", "[io]") {
  TempDir dir;
  std::string path = dir.file("no/such/folder/out.txt");
  try {
    write_file_atomic(path, [](std::ostream& os) { os << "x"; });
    FAIL("no error");
  } catch (const Error& e) {
    std::string msg = e.what();
    CHECK(msg.find(path) != std::string::npos);
    CHECK(msg.find("cannot create") != std::string::npos);
    CHECK(msg.find("No such file or directory") != std::string::npos);
  }
  CHECK_THROWS_AS(save_model_file(path, ModelFile{}), Error);
  // Renaming over a folder fails at commit: the temp file is removed, the folder untouched.
  fs::create_directory(dir.file("taken"));
  CHECK_THROWS_WITH(write_file_atomic(dir.file("taken"), [](std::ostream& os) { os << "x"; }),
                    Catch::Contains("cannot rename"));
  CHECK(fs::is_directory(dir.file("taken")));
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
}

TEST_CASE("the path - writes to stdout", "[io]") {
  std::ostringstream captured;
  std::streambuf* old = std::cout.rdbuf(captured.rdbuf());
  try {
    write_file_atomic("-", [](std::ostream& os) { os << "to stdout\n"; });
    AtomicOutput out("");
    out.stream() << "also\n";
    out.commit();
  } catch (...) {
    std::cout.rdbuf(old);
    throw;
  }
  std::cout.rdbuf(old);
  CHECK(captured.str() == "to stdout\nalso\n");
}
