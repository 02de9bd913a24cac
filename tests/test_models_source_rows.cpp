// SourceRows (models/seq2seq.h): which sentence each decoder row reads. Both models read their
// source-side tensors through it, so a wrong entry would make a beam read another sentence.
#include <catch2/catch.hpp>

#include "models/seq2seq.h"

using attnmt::SourceRows;

TEST_CASE("SourceRows: sentences() follows the rows through selects", "[models][search]") {
  SourceRows r(3);
  r.select(std::vector<int>{0, 0, 1, 1, 2, 2});
  CHECK(std::vector<int>(r.sentences().begin(), r.sentences().end()) ==
        std::vector<int>{0, 0, 1, 1, 2, 2});
  r.select(std::vector<int>{1, 0, 5, 4, 4});  // sentence 1 retires, a row of 2 is duplicated
  CHECK(std::vector<int>(r.sentences().begin(), r.sentences().end()) ==
        std::vector<int>{0, 0, 2, 2, 2});
  r.select(std::vector<int>{3});
  CHECK(std::vector<int>(r.sentences().begin(), r.sentences().end()) == std::vector<int>{2});
  CHECK_THROWS_WITH(r.select(std::vector<int>{1}), Catch::Contains("select: row 1 of 1"));
}
