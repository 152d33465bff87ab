#include "service/cli.hpp"

int main(int argc, char** argv) {
  return tranche::service::run_cli(argc, argv);
}
