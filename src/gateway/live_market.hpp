#pragma once
// The live venues as the kernel reads them: an md::MarketSource beside sim::Simulator (ARCHITECTURE.md,
// "One kernel"). Each venue's market data comes from its gateway's market side (a BinanceMarket for
// now); the clock is the wall clock; timers are a heap fired from pump().
//
// One thread, the kernel's: pump(now) takes what each venue's market received (its books updated, each
// event delivered to the listener, as the simulator delivers its recorded ones), then fires every timer due
// by `now`. During pump() the source's now() is `now` (an event happens at one moment); outside it, now()
// reads the clock, never behind what it said before.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "gateway/binance_market.hpp"
#include "md/market_source.hpp"
#include "sim/simulator.hpp"

namespace tranche::gateway {

class LiveMarket final : public md::MarketSource, private MarketEventSink {
 public:
  using Clock = std::function<TimestampNs()>;
  // The system's wall clock (ns since the epoch).
  static TimestampNs wall_clock();

  explicit LiveMarket(std::vector<std::unique_ptr<BinanceMarket>> venues, Clock clock = &wall_clock);
  ~LiveMarket();
  LiveMarket(const LiveMarket&) = delete;
  LiveMarket& operator=(const LiveMarket&) = delete;

  // Takes what the venues received and delivers it, then fires the timers due by `now_ns` (at most
  // `max_timers` of them: the rest at the next call). Returns how many events and timers it delivered.
  std::size_t pump(TimestampNs now_ns, std::size_t max_timers = 10'000);
  // What the venues' markets had to say since the last call (connections, drops, syncs, bad input).
  std::vector<std::string> take_notes();
  BinanceMarket& venue(std::size_t v) { return *venues_[v]; }
  const BinanceMarket& venue(std::size_t v) const { return *venues_[v]; }
  std::size_t timers_pending() const { return timers_.size(); }
  // Every venue Open (connected, every book valid).
  bool all_open() const;

  // --- md::MarketSource ---
  TimestampNs now() const override;
  void set_listener(md::MarketListener* listener) override { listener_ = listener; }
  void set_timer(TimestampNs at_ns, std::uint64_t id) override;
  std::size_t venue_count() const override { return venues_.size(); }
  int venue_index(const VenueId& id) const override;
  const VenueConfig& venue_config(std::size_t v) const override { return venues_[v]->venue(); }
  VenueState venue_state(std::size_t v) const override { return venues_[v]->state(); }
  const md::BookView* book(std::size_t v, const InstrumentId& instrument) const override;
  bool books_hold_own_orders() const override { return true; }

 private:
  struct Timer {
    TimestampNs at_ns;
    std::uint64_t seq;  // set order among timers due at once
    std::uint64_t id;
    bool operator>(const Timer& o) const { return at_ns != o.at_ns ? at_ns > o.at_ns : seq > o.seq; }
  };
  void on_market_event(std::size_t listing, const md::Event& event) override;

  std::vector<std::unique_ptr<BinanceMarket>> venues_;
  Clock clock_;
  md::MarketListener* listener_ = nullptr;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  std::uint64_t timer_seq_ = 0;
  mutable TimestampNs now_ = 0;  // the latest time said
  bool pumping_ = false;
  std::size_t pumping_venue_ = 0;  // the venue whose events are being delivered
  std::size_t delivered_ = 0;
};

// Paper trading (`tranche serve --paper`): the venues' live market data, heard through their gateways'
// market sides as LiveMarket hears it, is fed into a simulator made with SimOptions::live_feed, which plays
// the venues: the kernel reads the simulator's books (the live ones, net of what our paper orders took) and
// its orders fill there, by the simulator's latency, queue and fee models. No order reaches a venue.
//
// One thread, the kernel's: pump(now) takes what each venue's market received, in order, and injects each
// event into the simulator at its receive time; then the simulator runs to `now` (latencies, timers).
class PaperMarket final : private MarketEventSink {
 public:
  // Every market's venue must be one of the simulator's, listing the same instruments.
  static Result<std::unique_ptr<PaperMarket>> create(std::vector<std::unique_ptr<BinanceMarket>> venues,
                                                     sim::Simulator& sim);
  // Returns how many market messages it took.
  std::size_t pump(TimestampNs now_ns);
  std::vector<std::string> take_notes();
  // Every venue's market data Open (connected, every book synced).
  bool all_open() const;
  BinanceMarket& venue(std::size_t v) { return *venues_[v]; }
  std::size_t venue_count() const { return venues_.size(); }

 private:
  PaperMarket(std::vector<std::unique_ptr<BinanceMarket>> venues, sim::Simulator& sim,
              std::vector<std::size_t> sim_venue, std::vector<std::vector<std::size_t>> sim_market);
  void on_market_event(std::size_t listing, const md::Event& event) override;

  std::vector<std::unique_ptr<BinanceMarket>> venues_;
  sim::Simulator& sim_;
  std::vector<std::size_t> sim_venue_;                // per venue: the simulator's index
  std::vector<std::vector<std::size_t>> sim_market_;  // per venue and listing: the simulator's market
  std::size_t pumping_ = 0;                           // the venue whose events are being taken
  // A synced book handed over whole: as many levels a side as a snapshot holds.
  static constexpr std::size_t kMaxLevels = 5000;
  std::vector<md::Level> scratch_bids_, scratch_asks_;
  std::vector<md::BookLevel> scratch_levels_;
};

}  // namespace tranche::gateway
