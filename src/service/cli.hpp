#pragma once
// The `tranche` command line: every subcommand is wired here so tests can run it in-process.
#include <string>
#include <vector>

namespace tranche::service {

// Runs `tranche args...`; returns the process exit code. Output goes to stdout/stderr.
int run_cli(int argc, char** argv);

}  // namespace tranche::service
