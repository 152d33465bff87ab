// Router benchmarks (issue: smart order placement and routing): one routing decision for a 50 ETH buy, p50
// and p99, over the three venues of the bundled default as they stood at 23:57 and over 20 venues (the three
// repeated with their prices moved), against a router that picks the single best-priced venue, in the same
// run.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "ems/router.hpp"
#include "sim/simulator.hpp"

namespace tranche {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<ems::VenueView> default_views() {
  auto config = load_config(std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml");
  if (!config) std::abort();
  sim::SimOptions options;
  options.deliver_market_data = false;
  auto sim = sim::Simulator::create(*config, options);
  if (!sim) std::abort();
  (*sim)->run_until(parse_time("2024-08-08T23:57:00Z").value());
  std::vector<ems::VenueView> views;
  for (std::size_t v = 0; v < (*sim)->venue_count(); ++v) {
    const auto& venue = (*sim)->venue(v);
    const auto& market = venue.market(0);
    ems::VenueView view;
    view.venue = venue.config().id;
    view.listing = market.listing();
    view.taker_fee_bps = venue.config().fees.taker_bps.to_double();
    view.latency_ns = venue.sim().order_latency.base_ns;
    for (Side side : {Side::Buy, Side::Sell}) {
      auto& into = side == Side::Buy ? view.bids : view.asks;
      market.for_each_level(side, [&](Price price, Qty qty) {
        into.push_back({price, qty});
        return into.size() < 200;
      });
    }
    views.push_back(std::move(view));
  }
  return views;
}

std::vector<ems::VenueView> many_views(std::size_t n) {
  const auto base = default_views();
  std::vector<ems::VenueView> out;
  for (std::size_t i = 0; i < n; ++i) {
    ems::VenueView v = base[i % base.size()];
    v.venue = VenueId("venue-" + std::to_string(i));
    const Price moved =
        Price::from_raw(static_cast<std::int64_t>(i / base.size()) * 1'000'000);  // i/3 cents up
    for (auto& l : v.asks) l.price = l.price + moved;
    for (auto& l : v.bids) l.price = l.price + moved;
    out.push_back(std::move(v));
  }
  return out;
}

// The baseline: all of it to the venue with the best touch, walked as far as needed.
std::size_t single_best(const std::vector<ems::VenueView>& views, double qty, double& cost) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < views.size(); ++i)
    if (views[i].asks.front().price < views[best].asks.front().price) best = i;
  double left = qty;
  cost = 0;
  for (const auto& l : views[best].asks) {
    const double take = std::min(left, l.qty.to_double());
    cost += take * l.price.to_double();
    left -= take;
    if (left <= 0) break;
  }
  return best;
}

void report(benchmark::State& state, std::vector<double>& samples) {
  std::sort(samples.begin(), samples.end());
  state.counters["p50_ns"] = samples[samples.size() / 2];
  state.counters["p99_ns"] = samples[samples.size() * 99 / 100];
}

void route_benchmark(benchmark::State& state, const std::vector<ems::VenueView>& views) {
  std::vector<double> samples;
  samples.reserve(1 << 16);
  for (auto _ : state) {
    const auto a = Clock::now();
    ems::RoutePlan plan =
        ems::route_marketable(Side::Buy, Qty::from_units(50), Price::unset(), 2682.4, views);
    const auto b = Clock::now();
    benchmark::DoNotOptimize(plan);
    samples.push_back(std::chrono::duration<double, std::nano>(b - a).count());
  }
  report(state, samples);
}

void single_benchmark(benchmark::State& state, const std::vector<ems::VenueView>& views) {
  std::vector<double> samples;
  samples.reserve(1 << 16);
  for (auto _ : state) {
    double cost = 0;
    const auto a = Clock::now();
    const std::size_t v = single_best(views, 50, cost);
    const auto b = Clock::now();
    benchmark::DoNotOptimize(v);
    benchmark::DoNotOptimize(cost);
    samples.push_back(std::chrono::duration<double, std::nano>(b - a).count());
  }
  report(state, samples);
}

void BM_Route_3Venues(benchmark::State& state) {
  static const auto views = default_views();
  route_benchmark(state, views);
}
void BM_SingleBestVenue_3Venues(benchmark::State& state) {
  static const auto views = default_views();
  single_benchmark(state, views);
}
void BM_Route_20Venues(benchmark::State& state) {
  static const auto views = many_views(20);
  route_benchmark(state, views);
}
void BM_SingleBestVenue_20Venues(benchmark::State& state) {
  static const auto views = many_views(20);
  single_benchmark(state, views);
}
BENCHMARK(BM_Route_3Venues)->Iterations(20000);
BENCHMARK(BM_SingleBestVenue_3Venues)->Iterations(20000);
BENCHMARK(BM_Route_20Venues)->Iterations(20000);
BENCHMARK(BM_SingleBestVenue_20Venues)->Iterations(20000);

}  // namespace
}  // namespace tranche
