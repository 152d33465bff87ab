#include "service/cli.hpp"

#include <CLI/CLI.hpp>

namespace tranche::service {

int run_cli(int argc, char** argv) {
  CLI::App app{"Tranche: execution management on real market data"};
  app.require_subcommand(1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}

}  // namespace tranche::service
