#include "service/cli.hpp"

#include <CLI/CLI.hpp>
#include <iostream>

#include "service/md_commands.hpp"

namespace tranche::service {

int run_cli(int argc, char** argv) {
  CLI::App app{"Tranche: execution management on real market data"};
  app.require_subcommand(1);
  int exit_code = 0;

  auto* md =
      app.add_subcommand("md", "Read recorded market data, rebuild books, convert to the binary format");
  md->require_subcommand(1);

  MdStatsOptions stats;
  auto* stats_cmd =
      md->add_subcommand("stats", "Counts, time span, gaps, spread and depth, bookTicker checks");
  stats_cmd
      ->add_option("files", stats.files, "Recorded files, read in order (a continuing pair as two files)")
      ->required()
      ->check(CLI::ExistingFile);
  stats_cmd->add_flag("--json", stats.json, "Print JSON on stdout");
  stats_cmd->callback([&] { exit_code = md_stats(stats, std::cout, std::cerr); });

  MdBookOptions book;
  auto* book_cmd =
      md->add_subcommand("book", "The book as it stood after every message received up to a time");
  book_cmd->add_option("files", book.files, "Recorded files, read in order")
      ->required()
      ->check(CLI::ExistingFile);
  book_cmd
      ->add_option("--at", book.at,
                   "ISO-8601 UTC (2024-08-08T23:55:00Z) or ns since the epoch, receive clock")
      ->required();
  book_cmd->add_option("--depth", book.depth, "Levels a side")->default_val(10);
  book_cmd->add_flag("--json", book.json, "Print JSON on stdout");
  book_cmd->callback([&] { exit_code = md_book(book, std::cout, std::cerr); });

  MdConvertOptions convert;
  auto* convert_cmd = md->add_subcommand("convert", "Write the normalized events to Tranche's binary format");
  convert_cmd->add_option("inputs", convert.inputs, "Recorded files")->required()->check(CLI::ExistingFile);
  convert_cmd->add_option("-o,--output", convert.output, "Output .trmd file")->required();
  convert_cmd->callback([&] { exit_code = md_convert(convert, std::cout, std::cerr); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}

}  // namespace tranche::service
