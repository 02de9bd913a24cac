// SourceRows (models/seq2seq.h): decides when select() must re-index the source-side tensors.
// A wrong "no copy" answer would make a beam read another sentence's encoder memory.
#include <catch2/catch.hpp>

#include "models/seq2seq.h"

using attnmt::SourceRows;

TEST_CASE("SourceRows: copies only when a row position changes sentence", "[models][search]") {
  SourceRows r(2);                          // sentences 0, 1, one row each
  REQUIRE(r.select(std::vector<int>{0, 0, 0, 1, 1, 1}));  // widening to 3 beams: new layout
  // beams reordered and duplicated inside their sentence's block: same layout, no copy
  CHECK_FALSE(r.select(std::vector<int>{2, 2, 1, 5, 3, 3}));
  CHECK_FALSE(r.select(std::vector<int>{0, 1, 2, 3, 4, 5}));
  // a row taking a hypothesis of the other sentence: copy
  CHECK(r.select(std::vector<int>{0, 1, 2, 3, 4, 0}));
  // now row 5 reads sentence 0; keeping it there needs no further copy
  CHECK_FALSE(r.select(std::vector<int>{0, 1, 2, 3, 4, 5}));
  // sentence 0 finishes: rows shrink and shift
  CHECK(r.select(std::vector<int>{3, 4}));
  CHECK_FALSE(r.select(std::vector<int>{1, 0}));
}

TEST_CASE("SourceRows: sentences() follows the rows through selects", "[models][search]") {
  // The Transformer reads its source cache through this list instead of copying the cache, so
  // a wrong entry would make a beam attend to another sentence.
  SourceRows r(3);
  r.select(std::vector<int>{0, 0, 1, 1, 2, 2});
  CHECK(std::vector<int>(r.sentences().begin(), r.sentences().end()) ==
        std::vector<int>{0, 0, 1, 1, 2, 2});
  r.select(std::vector<int>{1, 0, 5, 4, 4});  // sentence 1 retires, a row of 2 is duplicated
  CHECK(std::vector<int>(r.sentences().begin(), r.sentences().end()) ==
        std::vector<int>{0, 0, 2, 2, 2});
  r.select(std::vector<int>{3});
  CHECK(std::vector<int>(r.sentences().begin(), r.sentences().end()) == std::vector<int>{2});
}
