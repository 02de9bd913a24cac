#include "cli/options.h"

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "tensor/error.h"

namespace attnmt::cli {

std::string usage_text(const CommandSpec& spec, const po::options_description& desc) {
  std::ostringstream out;
  out << "usage: " << spec.synopsis << "\n\n" << spec.about << "\n\n" << desc;
  return out.str();
}

std::optional<po::variables_map> parse_options(const CommandSpec& spec,
                                               po::options_description& desc, int argc,
                                               char** argv,
                                               const po::positional_options_description* pos,
                                               const char* config_option) {
  desc.add_options()("help,h", "show this help and exit");
  po::variables_map vm;
  try {
    auto parser = po::command_line_parser(argc, argv).options(desc);
    if (pos) parser.positional(*pos);
    po::store(parser.run(), vm);
    if (vm.count("help")) {
      std::cout << usage_text(spec, desc);
      return std::nullopt;
    }
    if (config_option && vm.count(config_option)) {
      std::string path = vm[config_option].as<std::string>();
      std::ifstream in(path);
      if (!in) fail("cannot open config file '{}': check the path", path);
      try {
        po::store(po::parse_config_file(in, desc), vm);
      } catch (const po::error& e) {
        fail("config file '{}': {}", path, e.what());
      }
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what(), usage_text(spec, desc));
  }
  return vm;
}

}  // namespace attnmt::cli
