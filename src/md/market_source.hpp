#pragma once
// What the kernel (ems/kernel.hpp) reads of the venues and hears from them, whoever plays them: the
// simulator implements it (sim::Simulator, sim::SimMarket), and so do the live gateways
// (gateway::LiveMarket). Books, trades, venue states, execution reports and timers reach the kernel through
// these interfaces only, so the kernel that runs a backtest is the one that runs live.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/config.hpp"
#include "core/fixed_point.hpp"
#include "core/ids.hpp"
#include "core/order.hpp"
#include "core/side.hpp"
#include "core/time.hpp"
#include "md/event.hpp"

namespace tranche::md {

// One instrument's book on one venue as it reaches us now (venue prices and units, net of our own impact).
class BookView {
 public:
  virtual const VenueListing& listing() const = 0;
  // A snapshot arrived and no gap since: the book can be traded against.
  virtual bool valid() const = 0;
  virtual TimestampNs last_event_ns() const = 0;
  virtual Price best(Side side) const = 0;
  virtual Qty best_qty(Side side) const = 0;
  // When the best level of `side` last changed (how fast the touch moves).
  virtual TimestampNs best_updated_ns(Side side) const = 0;
  // Up to `out.size()` levels of `side`, best first, empty levels skipped; returns how many were written.
  virtual std::size_t levels(Side side, std::span<Level> out) const = 0;

 protected:
  ~BookView() = default;
};

// Which venue and listing a market-data event is about. `venue` indexes MarketSource's venues; `market` the
// venue's own listings.
struct MarketRef {
  std::size_t venue = 0;
  std::size_t market = 0;
  VenueId venue_id;
  InstrumentId instrument;
  const BookView* book = nullptr;  // the book the event is about, as it stands after it (never looked up)
};

// What the EMS side hears. Calls happen at the source's time; requests made from inside them leave from
// that time.
class MarketListener : public ExecutionListener {
 public:
  void on_execution_report(const ExecutionReport& /*report*/) override {}
  virtual void on_market_data(const MarketRef& /*ref*/, const Event& /*event*/) {}
  virtual void on_timer(std::uint64_t /*id*/, TimestampNs /*now_ns*/) {}
};

// The venues as a whole: their clock, their books and timers on that clock.
class MarketSource {
 public:
  virtual TimestampNs now() const = 0;
  virtual void set_listener(MarketListener* listener) = 0;
  // A call to the listener's on_timer(id) at `at_ns` on this source's clock.
  virtual void set_timer(TimestampNs at_ns, std::uint64_t id) = 0;
  virtual std::size_t venue_count() const = 0;
  virtual int venue_index(const VenueId& id) const = 0;  // -1: not one of them
  virtual const VenueConfig& venue_config(std::size_t venue) const = 0;
  virtual VenueState venue_state(std::size_t venue) const = 0;
  // The venue's book of `instrument`; nullptr when the venue does not list it.
  virtual const BookView* book(std::size_t venue, const InstrumentId& instrument) const = 0;
  // Whether the books hold our own resting orders: a live venue's do (its diffs carry them), the simulator's
  // show the market without them. What reads the book for others' intentions (the signals) takes ours out.
  virtual bool books_hold_own_orders() const { return false; }

 protected:
  ~MarketSource() = default;
};

}  // namespace tranche::md
