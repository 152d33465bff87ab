#pragma once
// What transaction-cost analysis needs of a run, recorded from what the kernel tells (docs/tca.md): the
// benchmark mid and others' prints of each instrument, and each parent's fills, converted one way for every
// front end. `tranche execute` records its one parent with these conversions; `tranche serve` keeps a
// TcaTape for all its parents, so the API's TCA of a parent is computed from the same inputs by the same code
// (tca::analyze) as `execute`'s.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/order.hpp"
#include "ems/kernel.hpp"
#include "md/market_source.hpp"
#include "oms/order_manager.hpp"
#include "tca/tca.hpp"

namespace tranche::service {

// A fresh fill as TCA counts it: base quantity, price, the fee in the quote currency (a fee charged in the
// coin, on an inverse listing, converted at the fill's price), when its child was sent.
tca::TcaFill tca_fill_of(const ExecutionReport& report, double fill_base, const oms::Oms& oms,
                         const md::BookView* book, const std::string& algo);
// Another's print (not one of the simulator's own fills of us) in base units; nullopt for anything else.
std::optional<tca::MarketTrade> market_trade_of(const md::MarketRef& ref, const md::Event& event,
                                                const md::BookView* book, TimestampNs now_ns);
// A market event as TCA keeps it: another's print into `trades`, the benchmark mid it left into `mids`
// (observed up to now). `book`: the event's book, for a print's base quantity.
template <class Trades>
void record_tca_market(const md::MarketRef& ref, const md::Event& event, std::optional<double> benchmark_mid,
                       const md::BookView* book, TimestampNs now_ns, tca::MidSeries& mids, Trades& trades) {
  if (auto trade = market_trade_of(ref, event, book, now_ns)) trades.push_back(*trade);
  if (benchmark_mid) {
    mids.add(now_ns, *benchmark_mid);
    mids.observed_until(now_ns);
  }
}
// The TCA result as JSON, every front end's spelling (`tranche execute --json`'s "tca", the API's).
nlohmann::ordered_json tca_json(const tca::TcaResult& tca, const std::string& benchmark);
// The parent's pre-trade estimate beside its realised cost (`realised_bps`: once final) as JSON, every
// front end's spelling ("estimate" beside "tca").
nlohmann::ordered_json estimate_json(const ems::ParentEstimate& estimate, std::optional<double> realised_bps);

class TcaTape {
 public:
  // A parent's final result can run to tens of kilobytes (a line per child): this many are kept at most.
  static constexpr std::size_t kMaxFinalsKept = 256;
  // `benchmark_venue`: the venue whose mid the kernel's benchmark is (and whose prints make the interval
  // VWAP), `consolidated`: the benchmark is the consolidated mid instead. `keep_final`: final results kept
  // (at most kMaxFinalsKept) for ended parents.
  // `kernel`: where the parents' pre-trade estimates are read (nullptr: none reported).
  TcaTape(const md::MarketSource& market, const oms::OrderManager& manager, VenueId benchmark_venue,
          bool consolidated, std::size_t keep_final, const ems::Kernel* kernel = nullptr);

  void on_market_event(const md::MarketRef& ref, const md::Event& event, std::optional<double> benchmark_mid);
  void on_child_report(ParentId parent, const ExecutionReport& report, bool fresh_fill, double fill_base);
  // The benchmark mid of `instrument` now, read from the books at a parent's arrival (before any event
  // brought one).
  void note_mid(const InstrumentId& instrument, TimestampNs now_ns, double mid);
  void on_parent_ended(ParentId parent, TimestampNs now_ns);
  // Finalizes the ended parents whose markouts' horizon has passed (all of them once the market closed), and
  // lets go of market history no parent reads any more.
  void tick(TimestampNs now_ns, bool market_closed);
  // A new market plays the venues (`tranche serve` replaying its data again): what it records comes from
  // there.
  void reopen(const md::MarketSource& market) { market_ = &market; }
  // Called with each parent's estimate and realised cost (bps) as its final TCA is made (a parent with no
  // estimate, or whose TCA could not be valued, is not).
  using FinalFn = std::function<void(const ems::ParentEstimate&, double realised_bps)>;
  void set_on_final(FinalFn fn) { on_final_ = std::move(fn); }

  // A parent's TCA: {"final": true, ...} once its markouts were measured, else so far ({"final": false}, the
  // costs of what it executed until now against the mid now). nullopt: not a parent it knows (never seen, or
  // its final result no longer kept); an error: it could not be valued (no arrival mid).
  std::optional<Result<nlohmann::ordered_json>> report(ParentId parent, TimestampNs now_ns) const;

  // A working parent's progress now: what its schedule wants executed by now, and what it executed (kept once
  // a second of market time at most, for the blotter's schedule-against-actual chart).
  void note_progress(ParentId parent, TimestampNs now_ns, double scheduled, double executed);
  // The parent's market and progress as series for charts, at most `max_points` each (thinned evenly): the
  // benchmark mid from its start, its fills, its progress. nullopt: a parent it does not track.
  std::optional<nlohmann::ordered_json> series(ParentId parent, std::size_t max_points) const;

  // Sizes, for a test of its memory.
  std::size_t parents_tracked() const { return parents_.size(); }
  std::size_t mids_kept() const;

 private:
  struct Market {
    tca::MidSeries mids;
    std::deque<tca::MarketTrade> trades;
  };
  struct Progress {
    TimestampNs t_ns;
    double scheduled, executed;
  };
  struct Parent {
    oms::ParentOrder order;
    std::vector<tca::TcaFill> fills;
    std::vector<Progress> progress;
    TimestampNs ended_ns = 0;
    std::optional<ems::ParentEstimate> estimate;  // copied: the kernel lets go of an ended parent
  };
  Parent* track(ParentId id);
  const md::BookView* book_of(const VenueId& venue, const InstrumentId& instrument) const;
  Result<nlohmann::ordered_json> analyze(const Parent& p, TimestampNs now_ns, bool final) const;

  const md::MarketSource* market_;  // replaced by reopen()
  const oms::OrderManager& manager_;
  const ems::Kernel* kernel_;
  VenueId benchmark_venue_;
  bool consolidated_;  // the mids are the consolidated mid, not a venue's
  // The venue whose mid is `instrument`'s benchmark, and what its mids are called ("binance-usdm mid").
  VenueId benchmark_venue_of(const InstrumentId& instrument) const;
  std::string benchmark_of(const InstrumentId& instrument) const;
  std::size_t keep_final_;
  Market& market_of(const InstrumentId& instrument);
  std::map<InstrumentId, Market> markets_;
  const InstrumentId* last_instrument_ =
      nullptr;  // the last looked up, and its market (most events repeat it)
  Market* last_market_ = nullptr;
  std::map<std::uint64_t, Parent> parents_;
  // Kept as text: a parsed JSON document costs several times its text in memory, and is asked for seldom.
  std::map<std::uint64_t, Result<std::string>> finals_;
  std::deque<std::uint64_t> final_order_;  // oldest first, to let the oldest go
  FinalFn on_final_;
  TimestampNs trimmed_at_ns_ = 0;
  TimestampNs next_look_ns_ = 0;
};

// The kernel's events, into a TcaTape (a driver that hears nothing else: `execute --basket`, tests); derive
// to hear more.
class TcaTapeObserver : public ems::KernelObserver {
 public:
  explicit TcaTapeObserver(TcaTape& tape) : tape_(tape) {}
  void on_market_event(const md::MarketRef& ref, const md::Event& event,
                       std::optional<double> benchmark_mid) override {
    tape_.on_market_event(ref, event, benchmark_mid);
  }
  void on_child_report(ParentId parent, const ExecutionReport& report, bool fresh_fill,
                       double fill_base) override {
    tape_.on_child_report(parent, report, fresh_fill, fill_base);
  }
  void on_parent_ended(ParentId parent, TimestampNs now_ns) override {
    tape_.on_parent_ended(parent, now_ns);
  }

 protected:
  TcaTape& tape_;
};

}  // namespace tranche::service
