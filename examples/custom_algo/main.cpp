// `tranche-custom`: the whole `tranche` command line, with the example algo registered first.
#include "service/cli.hpp"

namespace example {
void register_backload();
}

int main(int argc, char** argv) {
  example::register_backload();
  return tranche::service::run_cli(argc, argv);
}
