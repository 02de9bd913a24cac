// The shape check shared by the corpus metrics: see streams.h.
#include "eval/streams.h"

#include "tensor/error.h"

namespace attnmt::eval {

void check_reference_streams(std::size_t n_hyps,
                             const std::vector<std::vector<std::string>>& refs) {
  ATTNMT_CHECK(!refs.empty(), "no references given: BLEU and chrF need at least one stream");
  for (std::size_t s = 0; s < refs.size(); ++s)
    ATTNMT_CHECK(refs[s].size() == n_hyps,
                 "reference stream {} has {} lines but there are {} hypotheses: give one "
                 "reference line per hypothesis line",
                 s + 1, refs[s].size(), n_hyps);
}

}  // namespace attnmt::eval
