// attnmt plot LOG... -o curves.svg: the learning curves of one or several training runs on one
// picture (dev BLEU and loss against minutes and against steps), from the records
// `train --log LOG` writes beside its log (LOG.tsv). Not here: the drawing (train/curves_svg.h).
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "io/atomic_file.h"
#include "train/curves_svg.h"

namespace attnmt::cli {

namespace {
struct PlotOptions {
  std::vector<std::string> logs;
  std::string output, title;
};
}  // namespace

int run_plot(int argc, char** argv) {
  PlotOptions o;
  po::options_description desc("options");
  desc.add_options()(
      "log", po::value(&o.logs)->multitoken()->required(),
      "the --log files of training runs (or their .tsv records); also given without --log")(
      "output,o", po::value(&o.output)->required(), "the SVG file to write (- = stdout)")(
      "title", po::value(&o.title), "a title above the curves");
  po::positional_options_description pos;
  pos.add("log", -1);
  CommandSpec spec{"plot", "attnmt plot LOG... -o curves.svg [--title TEXT]",
                   "Draws the learning curves of one or several training runs on one SVG "
                   "picture: dev BLEU, training loss\nand dev cross-entropy against minutes and "
                   "against steps, a colour and a legend entry per run.\nLOG is a `train --log "
                   "LOG` file; its record LOG.tsv (written beside it) is what is read."};
  if (!parse_options(spec, desc, argc, argv, {.positional = &pos})) return 0;
  std::vector<NamedPath> inputs;
  for (const std::string& p : o.logs) inputs.push_back({"the log", p});
  if (!is_stdout_path(o.output))
    for (const std::string& stale : check_output({"-o", o.output}, inputs))
      fmt::print(stderr, "attnmt plot: removed '{}', left by a process that no longer runs\n",
                 stale);
  std::vector<Curve> runs;
  for (const std::string& p : o.logs) runs.push_back(read_curve(p));
  const std::string svg = curves_svg(runs, o.title);
  write_file_atomic(o.output, [&](std::ostream& out) { out << svg; });
  if (!is_stdout_path(o.output))
    fmt::print(stderr, "{}: the curves of {} run(s)\n", o.output, runs.size());
  return 0;
}

}  // namespace attnmt::cli
