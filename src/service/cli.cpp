#include "service/cli.hpp"

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdint>
#include <iostream>

#include "service/backtest_command.hpp"
#include "service/estimate_command.hpp"
#include "service/exchange_command.hpp"
#include "service/execute_command.hpp"
#include "service/journal_commands.hpp"
#include "service/md_commands.hpp"
#include "service/md_record_command.hpp"
#include "service/serve_command.hpp"
#include "service/sim_commands.hpp"

namespace tranche::service {

namespace {

// A seed is a whole number from 0 to 2^63 - 1, written in digits: CLI11 alone would wrap "-1" or an
// overflowing number into some other seed, and a run must replay from the seed it printed.
const CLI::Validator kSeed(
    [](std::string& text) -> std::string {
      const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
      std::int64_t value = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (!digits || ec != std::errc() || end != text.data() + text.size())
        return "seed '" + text + "' is not a whole number from 0 to 9223372036854775807";
      return {};
    },
    "SEED");

}  // namespace

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

  MdProfileOptions profile;
  auto* profile_cmd = md->add_subcommand(
      "profile",
      "The traded volume's shape in equal buckets: an intraday curve for vwap's profile parameter");
  profile_cmd->add_option("files", profile.files, "Recorded files, read in order")
      ->required()
      ->check(CLI::ExistingFile);
  profile_cmd->add_option("--buckets", profile.buckets, "Equal buckets over the span")->default_val(12);
  profile_cmd->add_option("--from", profile.from, "Start of the span (default: the first print)");
  profile_cmd->add_option("--to", profile.to, "End of the span (default: the last print)");
  profile_cmd->add_flag("--json", profile.json, "Print JSON on stdout");
  profile_cmd->callback([&] { exit_code = md_profile(profile, std::cout, std::cerr); });

  MdConvertOptions convert;
  auto* convert_cmd = md->add_subcommand("convert", "Write the normalized events to Tranche's binary format");
  convert_cmd->add_option("inputs", convert.inputs, "Recorded files")->required()->check(CLI::ExistingFile);
  convert_cmd->add_option("-o,--output", convert.output, "Output .trmd file")->required();
  convert_cmd->callback([&] { exit_code = md_convert(convert, std::cout, std::cerr); });

  MdSignalsOptions signals;
  auto* signals_cmd = md->add_subcommand(
      "signals",
      "Stoikov's micro-price fitted on each stream's first half, its mid forecast judged on the second");
  signals_cmd->add_option("files", signals.files, "Recorded files, read in order")
      ->required()
      ->check(CLI::ExistingFile);
  signals_cmd->add_option("--horizon", signals.horizon, "How far ahead the mid is forecast")
      ->default_val("1s");
  signals_cmd->add_option("--every", signals.every, "How often the second half is sampled")
      ->default_val("100ms");
  signals_cmd->add_flag("--json", signals.json, "Print JSON on stdout");
  signals_cmd->callback([&] { exit_code = md_signals(signals, std::cout, std::cerr); });

  MdRecordOptions record;
  auto* record_cmd = md->add_subcommand(
      "record", "Record a live venue's market data through its gateway, in the format replays read");
  record_cmd->add_option("--config", record.config, "Config file (default: the bundled one)");
  record_cmd->add_option("--venue", record.venue, "A venue with [venue.binance], e.g. binance-spot")
      ->required();
  record_cmd->add_option("--out", record.out_dir, "Directory for the files (one per listing)")
      ->default_val(".");
  record_cmd->add_option("--duration", record.duration,
                         "How long (e.g. 30s, 10m); default: until SIGINT/SIGTERM");
  record_cmd->add_flag("--json", record.json, "Print JSON on stdout");
  record_cmd->callback([&] { exit_code = md_record(record, std::cout, std::cerr); });

  auto* sim =
      app.add_subcommand("sim", "The multi-venue simulator: replay a scenario, try an order against it");
  sim->require_subcommand(1);

  SimRunOptions run;
  auto* run_cmd =
      sim->add_subcommand("run", "Replay a scenario's venues: events, re-centring, crossed-book statistics");
  run_cmd->add_option("--config,--scenario", run.config,
                      "Config file with [scenario] and [venue.sim] (default: the bundled one)");
  run_cmd->add_option("--seed", run.seed, "Seed (default: the scenario's)")->check(kSeed);
  run_cmd->add_option("--start", run.start, "Start of the window, receive clock");
  run_cmd->add_option("--end", run.end, "End of the window, receive clock");
  run_cmd->add_option("--venues", run.venues, "Only these venues")->delimiter(',');
  run_cmd->add_flag("--json", run.json, "Print JSON on stdout");
  run_cmd->callback([&] { exit_code = sim_run(run, std::cout, std::cerr); });

  SimOrderOptions order;
  auto* order_cmd =
      sim->add_subcommand("order", "Send one order into the simulated market and show the venue's answers");
  order_cmd->add_option("--config,--scenario", order.config, "Config file (default: the bundled one)");
  order_cmd->add_option("--seed", order.seed, "Seed (default: the scenario's)")->check(kSeed);
  order_cmd->add_option("--venue", order.venue, "Venue id, e.g. binance-spot")->required();
  order_cmd->add_option("--instrument", order.instrument, "Instrument id")->default_val("ETH-USDT");
  order_cmd->add_option("--side", order.side, "buy or sell")->required();
  order_cmd->add_option("--qty", order.qty, "Quantity in the listing's unit (contracts on inverse listings)")
      ->required();
  order_cmd->add_option("--type", order.type, "market or limit")->default_val("market");
  order_cmd->add_option("--price", order.price, "Limit price");
  order_cmd->add_option("--tif", order.tif, "gtc, ioc, fok or post-only")->default_val("gtc");
  order_cmd->add_option("--at", order.at, "When to send it, receive clock (default: the scenario's start)");
  order_cmd->add_option("--cancel-after", order.cancel_after, "Cancel this long after sending (e.g. 5s)");
  order_cmd->add_option("--journal", order.journal,
                        "Journal the order through the OMS into this SQLite file");
  order_cmd->add_flag("--json", order.json, "Print JSON on stdout");
  order_cmd->callback([&] { exit_code = sim_order(order, std::cout, std::cerr); });

  JournalOptions journal;
  auto* journal_cmd = app.add_subcommand("journal",
                                         "What a journal says happened: summary, orders, fills, positions, "
                                         "the history of one order, or verify every invariant");
  journal_cmd->add_option("file", journal.file, "Journal file (SQLite)")->required();
  journal_cmd
      ->add_option("view", journal.view, "summary, orders, fills, positions, history, decisions or verify")
      ->default_val("summary");
  journal_cmd->add_option("id", journal.order, "history: the child (client order) id");
  journal_cmd->add_option("--config", journal.config,
                          "The config the journal was written with (default: bundled)");
  journal_cmd->add_option("--parent", journal.parent, "orders, decisions: only this parent's");
  journal_cmd->add_option("--state", journal.state, "orders: only children in this state (new, filled, ...)");
  journal_cmd->add_option("--venue", journal.venue, "orders: only children on this venue");
  journal_cmd->add_flag("--json", journal.json, "Print JSON on stdout");
  journal_cmd->callback([&] { exit_code = journal_command(journal, std::cout, std::cerr); });

  BacktestOptions backtest;
  auto* backtest_cmd = app.add_subcommand(
      "backtest",
      "Run a grid of executions (algos x sizes x horizons x starts x sides x scenarios) and compare them");
  backtest_cmd->add_option("--grid", backtest.grid, "Grid file ([backtest] table, docs/config.md)")
      ->required();
  backtest_cmd->add_option("--threads", backtest.threads,
                           "Worker threads (default: the grid's, else every core)");
  backtest_cmd->add_option("--html", backtest.html, "Write an HTML comparison here");
  backtest_cmd->add_flag("--json", backtest.json, "Print every run and the summary as JSON on stdout");
  backtest_cmd->add_flag("--fill-band", backtest.fill_band,
                         "Also run every cell under cross_fill none and full: the costs side by side");
  backtest_cmd->add_flag("--strict-data", backtest.strict_data,
                         "A recording that ends early or has an unusable stretch fails the run (default: a "
                         "warning)");
  backtest_cmd->callback([&] { exit_code = backtest_command(backtest, std::cout, std::cerr); });

  EstimateOptions estimate;
  auto* estimate_cmd = app.add_subcommand(
      "estimate", "Pre-trade: what an order is expected to cost under each algo, from the recorded market");
  estimate_cmd->add_option("--side", estimate.side, "buy or sell")->required();
  estimate_cmd->add_option("--qty", estimate.qty, "Quantity in the instrument's base asset")->required();
  estimate_cmd->add_option("--instrument", estimate.instrument, "Instrument id")->capture_default_str();
  estimate_cmd->add_option("--horizon", estimate.horizon, "The time the order may take")
      ->capture_default_str();
  estimate_cmd->add_option("--at", estimate.at,
                           "Arrival time, receive clock (default: the data's start + the lookback)");
  estimate_cmd->add_option("--lookback", estimate.lookback, "How much market before the arrival is measured")
      ->capture_default_str();
  estimate_cmd->add_option("--scenario", estimate.scenario,
                           "Config file with the market (default: the bundled one)");
  estimate_cmd->add_option("--risk-weight", estimate.risk_weight,
                           "Recommend by cost + this x risk (default 0: by expected cost)");
  estimate_cmd->add_option("--evidence", estimate.evidence,
                           "The TCA of past parents by algo and size (JSON file): also say what --algo auto "
                           "would choose with it");
  estimate_cmd->add_flag("--json", estimate.json, "Print the estimate as JSON on stdout");
  estimate_cmd->callback([&] { exit_code = estimate_command(estimate, std::cout, std::cerr); });

  ServeOptions serve;
  auto* serve_cmd = app.add_subcommand(
      "serve", "The daemon: parent orders over FIX 4.4, worked by the algos on the simulated venues");
  serve_cmd->add_option("--config", serve.config, "Config file (default: the bundled one)");
  serve_cmd->add_option("--journal", serve.journal, "The journal (default: [server] journal)");
  serve_cmd->add_option(
      "--evidence", serve.evidence,
      "The TCA of past parents by algo and size (JSON file): auto parents read it, and with "
      "the API on every parent's final TCA is added to it");
  serve_cmd->add_option("--port", serve.port, "Listen on this port instead of [server.fix] listen's");
  serve_cmd->add_option("--speed", serve.speed, "Replay seconds per wall second (default: [server] speed)");
  serve_cmd->add_flag("--quiet", serve.quiet, "No line on stderr for each report sent");
  serve_cmd->add_option("--stats-every", serve.stats_every,
                        "Every DURATION (30s): a JSON line on stdout with resident memory, what is in memory "
                        "and the decision latency percentiles");
  serve_cmd->add_flag("--strict-data", serve.strict_data,
                      "A recording that ends early or has an unusable stretch stops the server (default: a "
                      "warning on stderr)");
  serve_cmd->add_option(
      "--anchor", serve.anchor,
      "The wall time the data's start plays at (ISO-8601 UTC), shared with a tranche exchange");
  serve_cmd->add_option("--exchange", serve.exchange,
                        "HOST:PORT of a tranche exchange: every simulated venue is reached over FIX there");
  serve_cmd->add_flag(
      "--paper", serve.paper,
      "Paper trading: the venues' live market data through their gateways, every order filled "
      "by the simulator against it; no order reaches a venue ([server] market = \"paper\")");
  serve_cmd->add_option("--api-port", serve.api_port,
                        "The HTTP API's port instead of [server.api] listen's (0: any free one)");
  serve_cmd->add_flag("--no-api", serve.no_api, "No HTTP API, blotter or metrics, whatever the config says");
  serve_cmd->add_option("--kernel-cpu", serve.kernel_cpu,
                        "Run the kernel's thread alone on this CPU, every other thread on the rest (-1: not "
                        "pinned; default: [server] kernel_cpu)");
  serve_cmd->callback([&] { exit_code = serve_command(serve, std::cout, std::cerr); });

  std::string token_name, token_role = "viewer";
  bool token_json = false;
  auto* token_cmd = app.add_subcommand(
      "api-token",
      "A new bearer token for tranche serve's HTTP API, and the [[server.api.token]] entry for it");
  token_cmd->add_option("--name", token_name, "Who holds it: named in the journal and the logs")->required();
  token_cmd->add_option("--role", token_role, "viewer (read), trader (orders) or admin (kill switch too)")
      ->check(CLI::IsMember({"viewer", "trader", "admin"}));
  token_cmd->add_flag("--json", token_json, "The token and its entry as JSON");
  token_cmd->callback(
      [&] { exit_code = api_token_command(token_name, token_role, token_json, std::cout, std::cerr); });

  ExchangeOptions exchange;
  auto* exchange_cmd = app.add_subcommand(
      "exchange",
      "The simulator's venues behind a FIX 4.4 acceptor: an exchange any FIX client can trade on");
  exchange_cmd->add_option("--scenario", exchange.scenario, "Config file (default: the bundled market)");
  exchange_cmd->add_option("--port", exchange.port, "Listen on this port instead of [exchange] listen's");
  exchange_cmd->add_option("--speed", exchange.speed,
                           "Replay seconds per wall second (default: [exchange] speed)");
  exchange_cmd->add_option("--anchor", exchange.anchor,
                           "The wall time the data's start plays at (ISO-8601 UTC; default: now)");
  exchange_cmd->add_option("--seed", exchange.seed, "Seed (default: the scenario's)")->check(kSeed);
  exchange_cmd->add_flag("--quiet", exchange.quiet, "No line on stderr for each report");
  exchange_cmd->add_flag("--json", exchange.json, "At exit: what each venue executed, as JSON on stdout");
  exchange_cmd
      ->add_option("--protocol", exchange.protocol,
                   "fix (default: every venue over FIX 4.4) or binance (one venue behind Binance spot's "
                   "REST, WebSocket API and streams, HTTPS/WSS)")
      ->check(CLI::IsMember({"fix", "binance"}));
  exchange_cmd->add_option("--cert", exchange.cert, "binance: the server's TLS certificate (PEM)");
  exchange_cmd->add_option("--key", exchange.key, "binance: the certificate's private key (PEM)");
  exchange_cmd->add_option(
      "--keys", exchange.keys,
      "binance: the account's API key file (TOML api_key, api_secret; owner-only). Without "
      "it every signed request is refused");
  exchange_cmd->add_option(
      "--venue", exchange.venue,
      "binance: the venue it plays (default: [exchange.binance] venue, else the binance spot venue)");
  exchange_cmd->callback([&] { exit_code = exchange_command(exchange, std::cout, std::cerr); });

  ExecuteOptions execute;
  auto* execute_cmd =
      app.add_subcommand("execute", "Run one parent order against a market and measure what it cost (TCA)");
  execute_cmd->add_option("--side", execute.side, "buy or sell (required without --basket)");
  execute_cmd->add_option("--qty", execute.qty,
                          "Quantity in the instrument's base asset (required without --basket)");
  execute_cmd->add_option("--basket", execute.basket,
                          "A list of parents executed as one: a pair or a basket (TOML, docs/lists.md)");
  execute_cmd->add_option("--instrument", execute.instrument, "Instrument id")->default_val("ETH-USDT");
  execute_cmd
      ->add_option("--algo", execute.algo,
                   "market (one marketable sweep), twap, vwap, pov, is (arrival price), iceberg, peg or seek "
                   "(liquidity seeking)")
      ->default_val("market");
  execute_cmd->add_option(
      "--param", execute.params,
      "An algo parameter, KEY=VALUE, repeatable (docs/algos.md), e.g. --param pov_rate=0.2");
  execute_cmd->add_option("--start", execute.start,
                          "Arrival time, receive clock (default: the start of the data)");
  execute_cmd->add_option("--end", execute.end, "End time (default: start + 2 minutes)");
  execute_cmd->add_option("--limit", execute.limit, "Limit price");
  execute_cmd->add_option("--venues", execute.venues, "Only these venues")->delimiter(',');
  execute_cmd->add_option("--scenario", execute.scenario,
                          "Config file with the market (default: the bundled one)");
  execute_cmd->add_option("--seed", execute.seed, "Seed (default: the scenario's)")->check(kSeed);
  execute_cmd->add_option("--journal", execute.journal, "Journal the execution into this SQLite file");
  execute_cmd->add_option("--html", execute.html, "Write a self-contained HTML report here");
  execute_cmd->add_option("--scorecard", execute.scorecard,
                          "Venue scorecards to read, update and save (JSON file)");
  execute_cmd->add_option("--evidence", execute.evidence,
                          "The TCA of past parents by algo and size (JSON file): --algo auto reads it, and "
                          "this parent is added to it");
  execute_cmd->add_flag("--json", execute.json, "Print the full result as JSON on stdout");
  execute_cmd->add_option(
      "--cross-fill", execute.cross_fill,
      "What fills a resting child when the recorded book moves onto its price without a trade: "
      "prints (the default: no more than the recorded trades show), none, or full");
  execute_cmd->add_flag("--fill-band", execute.fill_band,
                        "Also run under cross_fill none and full and report the costs side by side");
  execute_cmd->add_flag("--strict-data", execute.strict_data,
                        "A recording that ends early or has an unusable stretch is an error (default: a "
                        "warning)");
  execute_cmd->callback([&] { exit_code = execute_command(execute, std::cout, std::cerr); });

  std::string scorecard_file;
  bool scorecard_json = false;
  auto* scorecard_cmd = app.add_subcommand(
      "scorecard", "The venue scorecards our executions left (tranche execute --scorecard)");
  scorecard_cmd->add_option("file", scorecard_file, "Scorecard file")->required();
  scorecard_cmd->add_flag("--json", scorecard_json, "Print JSON on stdout");
  scorecard_cmd->callback(
      [&] { exit_code = scorecard_command(scorecard_file, scorecard_json, std::cout, std::cerr); });

  auto* risk = app.add_subcommand("risk", "The pre-trade risk gate's kill switch, in a journal");
  risk->require_subcommand(1);
  KillSwitchOptions kill;
  for (const char* action : {"kill", "release"}) {
    auto* cmd =
        risk->add_subcommand(action, std::string(action) == "kill"
                                         ? "Engage the kill switch: cancel and block everything in its scope"
                                         : "Release a kill switch engaged before");
    cmd->add_option("--journal", kill.journal, "The journal of the process to stop")->required();
    cmd->add_option("--scope", kill.scope, "global, account or venue")->default_val("global");
    cmd->add_option("--target", kill.target, "The account or venue id");
    cmd->add_option("--reason", kill.reason, "Why (kept in the journal)")->required();
    cmd->callback([&, action] {
      kill.action = action;
      exit_code = kill_switch_command(kill, std::cout, std::cerr);
    });
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help is success; every other bad command line exits 2, as every other bad input does (CLI11's own
    // codes, 104 for a bad number, are its internals).
    return app.exit(e) == 0 ? 0 : 2;
  }
  return exit_code;
}

}  // namespace tranche::service
