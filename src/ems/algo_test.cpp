// The algos against a host that fills on command: schedules, catch-up, no run-ahead, participation,
// the iceberg's one slice at a time, the lifecycle, the end of the horizon and the state kept across a
// restart. Seeds are fixed (params.seed), so every run is the same.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "ems/algo.hpp"
#include "ems/almgren_chriss.hpp"

namespace tranche::ems {
namespace {

constexpr TimestampNs kStart = 1'723'161'300'000'000'000;  // 2024-08-08T23:55:00Z
constexpr DurationNs kTwoMinutes = 120 * kNanosPerSecond;

Qty base(double units) {
  return qty_from_real(units, kQtyStep, Rounding::Nearest);
}

class FakeHost final : public AlgoHost {
 public:
  struct Submitted {
    Intent intent;
    IntentState state;
    TimestampNs at_ns = 0;
  };
  std::size_t submit(const Intent& intent, const AlgoMarket& market) override {
    Submitted s;
    s.intent = intent;
    s.state.qty = intent.qty;
    s.at_ns = market.now_ns;
    // A venue with nothing to take: the placer ends such an intent at once, having sent nothing.
    s.state.done = nothing_to_take;
    s.state.children = nothing_to_take ? 0 : 1;
    intents.push_back(s);
    return intents.size() - 1;
  }
  void cancel_intent(std::size_t id, TimestampNs) override { intents.at(id).state.done = true; }
  const IntentState& intent_state(std::size_t id) const override { return intents.at(id).state; }
  Qty intent_in_flight(std::size_t) const override { return Qty{}; }
  Qty executed() const override { return executed_base; }
  Qty in_flight() const override { return Qty{}; }
  void wake_at(TimestampNs at_ns) override { wakes.push_back(at_ns); }
  void journal(const std::string& state, const std::string& detail, TimestampNs) override {
    notes.push_back(state + ": " + detail);
  }
  // The venue fills every open intent in full (or ends those told to fill nothing).
  void fill_all(bool fill = true) {
    for (auto& s : intents) {
      if (s.state.done) continue;
      const Qty f = fill ? s.state.qty - s.state.filled : Qty{};
      s.state.filled += f;
      executed_base += f;
      s.state.done = true;
    }
  }
  Qty open() const {
    Qty o;
    for (const auto& s : intents)
      if (!s.state.done) o += s.state.qty - s.state.filled;
    return o;
  }
  // Ends open intents having filled `share` of each (the rest of an IOC sweep expired).
  void fill_part(double share) {
    for (auto& s : intents) {
      if (s.state.done) continue;
      const Qty f = qty_from_real(s.state.qty.to_double() * share, Qty::from_raw(10'000), Rounding::Down);
      s.state.filled += f;
      executed_base += f;
      s.state.done = true;
    }
  }
  bool nothing_to_take = false;
  std::vector<Submitted> intents;
  std::vector<TimestampNs> wakes;
  std::vector<std::string> notes;
  Qty executed_base;
};

struct Market {
  std::vector<VenueView> views;
  Market() {
    VenueView v;
    v.venue = VenueId("binance-spot");
    v.listing.tick_size = Price::from_raw(1'000'000);  // 0.01
    v.listing.lot_size = Qty::from_raw(10'000);        // 0.0001
    v.listing.min_notional = Amount::from_raw(500'000'000);
    v.bids.push_back({Price::from_raw(268'297'000'000), Qty::from_raw(1'000'000'000)});  // 2682.97 x 10
    v.asks.push_back({Price::from_raw(268'298'000'000), Qty::from_raw(1'000'000'000)});
    views.push_back(v);
  }
  AlgoMarket at(TimestampNs t) const { return algo_market(views, t); }
};

oms::ParentOrder parent(const std::string& algo, double qty, std::vector<oms::AlgoParam> params = {}) {
  oms::ParentOrder p;
  p.id = ParentId(1);
  p.algo = algo;
  p.side = Side::Buy;
  p.qty = base(qty);
  p.start_ns = kStart;
  p.end_ns = kStart + kTwoMinutes;
  p.params = std::move(params);
  return p;
}

std::unique_ptr<Algo> make(const oms::ParentOrder& p) {
  auto made = make_algo(p);
  EXPECT_TRUE(made.ok()) << (made.ok() ? "" : made.error().message);
  return std::move(made.value());
}

// Runs the algo wake by wake, the venue filling everything at once; returns (time, executed) after each wake.
std::vector<std::pair<TimestampNs, double>> run_filling(Algo& algo, FakeHost& host, const Market& m) {
  std::vector<std::pair<TimestampNs, double>> path;
  algo.on_start(host, m.at(kStart));
  std::size_t seen = 0;
  for (int guard = 0; guard < 1000 && !algo.done(); ++guard) {
    host.fill_all();
    algo.on_fill(host, m.at(host.wakes.empty() ? kStart : host.wakes.back()));
    if (algo.done() || host.wakes.size() == seen) break;
    const TimestampNs t = host.wakes.back();
    seen = host.wakes.size();
    algo.on_timer(host, m.at(t));
    path.emplace_back(t, (host.executed_base + host.open()).to_double());
  }
  return path;
}

TEST(Algo, TwapFollowsAnEvenScheduleAndNeverRunsAheadByMoreThanItsTolerance) {
  Market m;
  FakeHost host;
  auto algo = make(parent("twap", 120, {{"seed", "7"}}));
  const auto path = run_filling(*algo, host, m);
  ASSERT_GT(path.size(), 8u);
  for (const auto& [t, committed] : path) {
    const double share = std::min(1.0, static_cast<double>(t - kStart) / kTwoMinutes);
    // Committed (executed plus working) never beyond the schedule a slice ahead plus the 2% tolerance.
    const double slice_share = 0.2 * 12.0 / 120.0 * 1.2 + 1.0 / 12 * 1.2;
    EXPECT_LE(committed, 120 * std::min(1.0, share + slice_share) + 120 * 0.02 + 1e-6) << "seed 7, at " << t;
    EXPECT_GE(committed, 120 * share - 120 * 0.02 - 1e-6) << "seed 7, at " << t;
  }
  EXPECT_TRUE(algo->done());
  EXPECT_TRUE(algo->completed());
  EXPECT_EQ(host.executed_base, Qty::from_units(120));
}

TEST(Algo, TwapCatchesUpAggressivelyWhenBehindBeyondItsTolerance) {
  Market m;
  FakeHost host;
  auto algo = make(parent("twap", 120, {{"randomize", "0"}}));
  algo->on_start(host, m.at(kStart));
  ASSERT_EQ(host.intents.size(), 1u);
  EXPECT_EQ(host.intents[0].intent.urgency, Urgency::Passive);
  // Nothing fills for a minute: the slices end unfilled.
  host.fill_all(false);
  algo->on_timer(host, m.at(kStart + 60 * kNanosPerSecond));
  bool caught_up = false;
  for (const auto& s : host.intents)
    if (s.intent.urgency == Urgency::Aggressive) {
      caught_up = true;
      EXPECT_EQ(s.intent.qty, Qty::from_units(60));  // half the parent is due by now
    }
  EXPECT_TRUE(caught_up);
}

TEST(Algo, PovTargetsItsShareOfOthersVolumeOnly) {
  Market m;
  FakeHost host;
  // No floor (end_share 1): the volume alone.
  auto algo = make(parent("pov", 500, {{"pov_rate", "0.2"}, {"randomize", "0"}, {"end_share", "1"}}));
  algo->on_start(host, m.at(kStart));
  EXPECT_EQ(host.open(), Qty{});  // no volume yet, none forecast: nothing to do
  for (int i = 1; i <= 20; ++i) algo->on_trade(host, m.at(kStart + i * kNanosPerSecond), 10.0);
  host.fill_all();
  algo->on_timer(host, m.at(kStart + 20 * kNanosPerSecond));
  EXPECT_EQ(algo->others_volume(), Qty::from_units(200));
  // 20% of the 200 traded is due now (it was behind: caught up), and the next slice forecasts 10 a second.
  EXPECT_GE(host.executed_base + host.open(), Qty::from_units(40));
  EXPECT_LE(host.executed_base + host.open(), base(0.2 * (200 + 10 * 5 * 1.2) + 0.02 * 500));
}

TEST(Algo, PovWithAMaximumParticipationStartsOnTheVolumeItForecasts) {
  Market m;
  FakeHost host;
  auto algo =
      make(parent("pov", 500, {{"max_participation", "0.3"}, {"randomize", "0"}, {"end_share", "1"}}));
  History history;  // 10 base a second for the minute before the start
  for (int s = 60; s > 0; --s) history.emplace_back(kStart - s * kNanosPerSecond, 10.0);
  algo->on_history(history, {});
  algo->on_start(host, m.at(kStart));
  // 10% of the 50 expected over the first 5 s: the cap is 30% of what is expected, not of the nothing seen.
  ASSERT_EQ(host.intents.size(), 1u);
  EXPECT_EQ(host.intents[0].intent.qty, Qty::from_units(5));
}

TEST(Algo, PovOnThinVolumeKeepsToAFloorThatLeavesAtMostItsEndShareForTheFinalCross) {
  Market m;
  FakeHost host;
  auto algo = make(parent("pov", 500, {{"pov_rate", "0.1"}, {"randomize", "0"}, {"end_share", "0.2"}}));
  algo->on_start(host, m.at(kStart));
  // Others trade 1 base a second: 10% of that would leave nearly all of the 500 for the end.
  TimestampNs t = kStart;
  while (!host.wakes.empty() && host.wakes.back() > t && host.wakes.back() < kStart + kTwoMinutes) {
    for (TimestampNs s = t + kNanosPerSecond; s <= host.wakes.back(); s += kNanosPerSecond)
      algo->on_trade(host, m.at(s), 1.0);
    t = host.wakes.back();
    host.fill_all();
    algo->on_timer(host, m.at(t));
    // The straight line to 80% by the end, within the tolerance (2% of 500).
    const double floor = 500 * 0.8 * static_cast<double>(t - kStart) / kTwoMinutes;
    EXPECT_GE((host.executed_base + host.open()).to_double(), floor - 0.02 * 500 - 1e-9) << format_time(t);
  }
  host.fill_all();
  EXPECT_GE(host.executed_base.to_double(), 500 * 0.8 * 0.9) << "at most the end share, and a slice, left";
}

TEST(Algo, VwapIgnoresEveryPrintFromAfterItsStart) {
  Market m;
  FakeHost a, b;
  auto plain = make(parent("vwap", 100, {{"randomize", "0"}}));
  auto peeking = make(parent("vwap", 100, {{"randomize", "0"}}));
  History future = {{kStart + kNanosPerSecond, 1000}, {kStart + 50 * kNanosPerSecond, 5000}};
  peeking->on_history(future, {});
  plain->on_start(a, m.at(kStart));
  peeking->on_start(b, m.at(kStart));
  ASSERT_EQ(a.intents.size(), b.intents.size());
  EXPECT_EQ(a.intents[0].intent.qty, b.intents[0].intent.qty);
}

TEST(Algo, VwapFrontLoadsWhenTheVolumeBeforeItsStartWasFrontLoaded) {
  Market m;
  FakeHost flat_host, vwap_host;
  auto twap = make(parent("twap", 100, {{"randomize", "0"}}));
  auto vwap = make(parent("vwap", 100, {{"randomize", "0"}}));
  // The two minutes before the start: heavy volume in their first tenth.
  History history;
  for (int s = 0; s < 120; ++s)
    history.emplace_back(kStart - kTwoMinutes + s * kNanosPerSecond, s < 12 ? 100.0 : 1.0);
  vwap->on_history(history, {});
  twap->on_start(flat_host, m.at(kStart));
  vwap->on_start(vwap_host, m.at(kStart));
  EXPECT_GT(vwap_host.intents[0].intent.qty.to_double(), 3 * flat_host.intents[0].intent.qty.to_double());
}

// The kernel keeps the benchmark mid only where it changed (not at every market event): the mid at any
// moment is the last entry at or before it either way, so the volatility is read the same.
TEST(Algo, ArrivalPriceReadsTheSameVolatilityFromMidsKeptOnlyWhereTheyChanged) {
  Market m;
  History every_event, where_changed;  // the five minutes before the start, an event every 100 ms
  double mid = 2500;
  for (int k = 0; k < 3000; ++k) {
    if (k % 30 == 0) mid += (k / 30) % 3 == 0 ? -0.5 : 0.25 * ((k / 30) % 4);
    const TimestampNs t = kStart - 300 * kNanosPerSecond + k * 100'000'000LL;
    every_event.emplace_back(t, mid);
    if (where_changed.empty() || where_changed.back().second != mid) where_changed.emplace_back(t, mid);
  }
  ASSERT_LT(where_changed.size() * 10, every_event.size());
  auto model_note = [&](const History& mids) {
    FakeHost host;
    auto algo = make(parent("is", 100, {{"randomize", "0"}}));
    algo->on_history({}, mids);
    algo->on_start(host, m.at(kStart));
    for (const std::string& n : host.notes)
      if (n.rfind("model: ", 0) == 0) return n;
    return std::string("no model note");
  };
  const std::string dense = model_note(every_event);
  EXPECT_NE(dense.find("sigma "), std::string::npos) << dense;
  EXPECT_EQ(model_note(where_changed), dense);
  EXPECT_NE(model_note(History{}), dense);  // no history: no volatility read, a different model
}

TEST(Algo, AnIcebergShowsOneRandomisedSliceAtATime) {
  Market m;
  FakeHost host;
  auto algo = make(parent("iceberg", 50, {{"display", "5"}, {"seed", "3"}}));
  algo->on_start(host, m.at(kStart));
  for (int i = 0; i < 30 && !algo->done(); ++i) {
    ASSERT_EQ(host.open(), host.intents.back().intent.qty) << "seed 3: one slice open at a time";
    const Qty left = Qty::from_units(50) - host.executed_base;
    if (host.intents.back().intent.qty < left) {  // all but the last, which is what is left
      EXPECT_GE(host.intents.back().intent.qty, Qty::from_units(4));
    }
    EXPECT_LE(host.intents.back().intent.qty, Qty::from_units(6));
    host.fill_all();
    algo->on_fill(host, m.at(kStart + (i + 1) * kNanosPerSecond));
  }
  EXPECT_TRUE(algo->completed());
  EXPECT_EQ(host.executed_base, Qty::from_units(50));
  std::set<Qty> sizes;
  for (const auto& s : host.intents) sizes.insert(s.intent.qty);
  EXPECT_GT(sizes.size(), 3u);  // display sizes vary
}

TEST(Algo, APegRestsOnePeggedIntentImprovingByTheTicksAsked) {
  Market m;
  FakeHost host;
  auto algo = make(parent("peg", 20, {{"offset_ticks", "1"}}));
  algo->on_start(host, m.at(kStart));
  ASSERT_EQ(host.intents.size(), 1u);
  EXPECT_EQ(host.intents[0].intent.urgency, Urgency::Peg);
  EXPECT_EQ(host.intents[0].intent.offset_ticks, 1);
  EXPECT_EQ(host.intents[0].intent.deadline_ns, kStart + kTwoMinutes);  // finishes at the end by default
}

TEST(Algo, PauseCancelsItsIntentsAndResumeReplansOnTheSchedule) {
  Market m;
  FakeHost host;
  auto algo = make(parent("twap", 120, {{"randomize", "0"}}));
  algo->on_start(host, m.at(kStart));
  algo->pause(host, kStart + kNanosPerSecond);
  EXPECT_EQ(algo->phase(), AlgoPhase::Paused);
  EXPECT_EQ(host.open(), Qty{});
  algo->on_timer(host, m.at(kStart + 30 * kNanosPerSecond));
  EXPECT_EQ(host.open(), Qty{});  // paused: wakes do nothing
  algo->resume(host, m.at(kStart + 60 * kNanosPerSecond));
  EXPECT_EQ(algo->phase(), AlgoPhase::Working);
  EXPECT_GE(host.open(), base(60 - 120 * 0.02));  // what fell due while paused is caught up
}

TEST(Algo, APausedAlgoAmendedToALaterEndStillEndsAtTheNewEnd) {
  Market m;
  FakeHost host;
  auto algo = make(parent("twap", 120));
  algo->on_start(host, m.at(kStart));
  algo->pause(host, kStart + kNanosPerSecond);
  const TimestampNs later = kStart + 2 * kTwoMinutes;
  ASSERT_TRUE(
      algo->amend(host, m.at(kStart + 2 * kNanosPerSecond), std::nullopt, Price::unset(), later).ok());
  EXPECT_EQ(host.wakes.back(), later);  // a wake at the new end
  algo->on_timer(host, m.at(kStart + kTwoMinutes));
  EXPECT_FALSE(algo->done());  // the old end means nothing now
  algo->on_timer(host, m.at(later));
  EXPECT_TRUE(algo->done());
  EXPECT_NE(algo->done_text().find("paused at its end time"), std::string::npos) << algo->done_text();
}

TEST(Algo, PausedBeforeItsStartItStartsOnResume) {
  Market m;
  FakeHost host;
  auto algo = make(parent("twap", 120));
  algo->pause(host, kStart - kNanosPerSecond);
  algo->resume(host, m.at(kStart));
  EXPECT_EQ(algo->phase(), AlgoPhase::Working);
  bool started = false;
  for (const auto& n : host.notes) started = started || n.rfind("started", 0) == 0;
  EXPECT_TRUE(started);
  EXPECT_FALSE(
      algo->can_amend(host, m.at(kStart), std::nullopt, Price::unset(), 0).ok());  // nothing to amend
}

TEST(Algo, AmendRefusesAQuantityBelowWhatIsExecutedAndReplansOnNewTerms) {
  Market m;
  FakeHost host;
  auto algo = make(parent("twap", 120, {{"randomize", "0"}}));
  algo->on_start(host, m.at(kStart));
  host.fill_all();
  const Qty executed = host.executed_base;
  EXPECT_FALSE(
      algo->amend(host, m.at(kStart + kNanosPerSecond), base(executed.to_double() / 2), Price::unset(), 0)
          .ok());
  ASSERT_TRUE(algo->amend(host, m.at(kStart + kNanosPerSecond), Qty::from_units(240), Price::unset(),
                          kStart + 4 * kTwoMinutes)
                  .ok());
  EXPECT_EQ(algo->qty(), Qty::from_units(240));
  EXPECT_EQ(algo->params().end_ns, kStart + 4 * kTwoMinutes);
  ASSERT_TRUE(algo->amend(host, m.at(kStart + 2 * kNanosPerSecond), executed, Price::unset(), 0).ok());
  EXPECT_TRUE(algo->done());  // amended down to what it executed: complete
}

TEST(Algo, CancelEndsItAndSaysWhatIsLeft) {
  Market m;
  FakeHost host;
  auto algo = make(parent("twap", 120));
  algo->on_start(host, m.at(kStart));
  algo->cancel(host, kStart + kNanosPerSecond, "by the owner");
  EXPECT_TRUE(algo->done());
  EXPECT_FALSE(algo->completed());
  EXPECT_NE(algo->done_text().find("120 left"), std::string::npos) << algo->done_text();
  EXPECT_EQ(host.open(), Qty{});
}

TEST(Algo, AtItsEndItFinishesAggressivelyOrLeavesTheRestAsConfigured) {
  Market m;
  for (const char* behaviour : {"finish", "leave"}) {
    FakeHost host;
    auto algo = make(parent("twap", 120, {{"at_end", behaviour}}));
    algo->on_start(host, m.at(kStart));
    host.fill_all(false);
    algo->on_timer(host, m.at(kStart + kTwoMinutes));
    if (std::string(behaviour) == "finish") {
      ASSERT_FALSE(algo->done());
      ASSERT_EQ(host.intents.back().intent.urgency, Urgency::Aggressive);
      EXPECT_EQ(host.intents.back().intent.qty, Qty::from_units(120));
      host.fill_all();
      algo->on_fill(host, m.at(kStart + kTwoMinutes + kNanosPerMilli));
      EXPECT_TRUE(algo->completed());
    } else {
      EXPECT_TRUE(algo->done());
      EXPECT_FALSE(algo->completed());
      EXPECT_NE(algo->done_text().find("as asked"), std::string::npos);
    }
  }
}

TEST(Algo, ARemainderBelowEveryVenuesMinimumEndsTheOrderInsteadOfBeingRetried) {
  Market m;
  FakeHost host;
  auto algo = make(parent("twap", 1));
  algo->on_start(host, m.at(kStart));
  for (auto& s : host.intents) {
    s.state.filled = s.state.qty;
    s.state.done = true;
  }
  host.executed_base = base(1 - 0.001);  // 0.001 ETH is under the 5 USDT minimum
  algo->on_timer(host, m.at(kStart + kTwoMinutes));
  EXPECT_TRUE(algo->done());
  EXPECT_NE(algo->done_text().find("below what any venue takes"), std::string::npos) << algo->done_text();
}

TEST(Algo, ItsSavedStateResumesTheSameScheduleAfterARestart) {
  Market m;
  FakeHost a, b;
  auto original = make(parent("pov", 300, {{"seed", "11"}}));
  original->on_start(a, m.at(kStart));
  for (int i = 0; i < 10; ++i) original->on_trade(a, m.at(kStart + i * kNanosPerSecond), 7.0);
  const std::string saved = original->save();
  auto restarted = make(parent("pov", 300, {{"seed", "11"}}));
  ASSERT_TRUE(restarted->restore("due 3 by now" + std::string(Algo::kStateMarker) + saved).ok());
  ASSERT_TRUE(Algo::saved_state_in(a.notes.back()).has_value());
  EXPECT_FALSE(Algo::saved_state_in("place passive 0.5 at binance-spot").has_value());
  EXPECT_EQ(restarted->phase(), AlgoPhase::Working);
  EXPECT_EQ(restarted->others_volume(), Qty::from_units(70));
  const TimestampNs t = kStart + 15 * kNanosPerSecond;
  original->on_timer(a, m.at(t));
  restarted->on_timer(b, m.at(t));
  ASSERT_FALSE(b.intents.empty());
  EXPECT_EQ(a.intents.back().intent.qty, b.intents.back().intent.qty);
  EXPECT_FALSE(restarted->restore("phase=banana").ok());
}

// Regression: an edit meant for seek deleted the iceberg's restore of its display (the touch size when it
// first worked), so a restarted iceberg sized its slices on the touch at the restart instead.
TEST(Algo, ARestartedIcebergKeepsTheDisplayItChoseAtItsStart) {
  Market m;  // 10 at the touch
  FakeHost a, b;
  auto original = make(parent("iceberg", 100, {{"randomize", "0"}}));
  original->on_start(a, m.at(kStart));
  ASSERT_EQ(a.intents.size(), 1u);
  EXPECT_EQ(a.intents[0].intent.qty, base(10));
  auto restarted = make(parent("iceberg", 100, {{"randomize", "0"}}));
  ASSERT_TRUE(restarted->restore(original->save()).ok());
  m.views[0].bids[0].qty = base(3);  // the touch is thinner at the restart
  restarted->on_restart(b, m.at(kStart + 10 * kNanosPerSecond));
  ASSERT_EQ(b.intents.size(), 1u);
  EXPECT_EQ(b.intents[0].intent.qty, base(10));
}

TEST(Algo, ParametersAreCheckedAndUnknownOnesRefused) {
  EXPECT_FALSE(make_algo(parent("twap", 1, {{"speed", "fast"}})).ok());
  EXPECT_FALSE(make_algo(parent("pov", 1, {{"pov_rate", "1.5"}})).ok());
  EXPECT_FALSE(make_algo(parent("pov", 1, {{"pov_rate", "abc"}})).ok());
  EXPECT_FALSE(make_algo(parent("twap", 1, {{"urgency", "reckless"}})).ok());
  EXPECT_FALSE(
      make_algo(parent("twap", 1, {{"min_participation", "0.3"}, {"max_participation", "0.2"}})).ok());
  EXPECT_FALSE(make_algo(parent("nope", 1)).ok());
  EXPECT_TRUE(make_algo(parent("vwap", 1, {{"profile", "1,2,3"}, {"slice", "5s"}})).ok());
}

// seek: the book's opportunities, one venue at one second a step, its asks showing `ask` base at the touch.
struct SeekMarket : Market {
  explicit SeekMarket(double taker_fee_bps = 0, double maker_fee_bps = 0) {
    views[0].taker_fee_bps = taker_fee_bps;
    views[0].maker_fee_bps = maker_fee_bps;
  }
  AlgoMarket showing(double ask, TimestampNs t) {
    views[0].asks[0].qty = base(ask);
    return at(t);
  }
};

// The algo watches the touch show `ask` once a second for `seconds` seconds from the start.
void watch(Algo& algo, FakeHost& host, SeekMarket& m, double ask, int seconds) {
  for (int s = 1; s <= seconds; ++s) algo.on_market(host, m.showing(ask, kStart + s * kNanosPerSecond));
}

std::vector<const FakeHost::Submitted*> aggressive(const FakeHost& host) {
  std::vector<const FakeHost::Submitted*> out;
  for (const auto& s : host.intents)
    if (s.intent.urgency == Urgency::Aggressive) out.push_back(&s);
  return out;
}

TEST(Seek, RestsWhatIsLeftPeggedAndTakesWhenAVenueShowsFarMoreThanItsRecentSize) {
  SeekMarket m;
  FakeHost host;
  auto algo = make(parent("seek", 120, {{"seek_size", "3"}}));
  algo->on_start(host, m.at(kStart));
  ASSERT_EQ(host.intents.size(), 1u);
  EXPECT_EQ(host.intents[0].intent.urgency, Urgency::Peg);
  EXPECT_EQ(host.intents[0].intent.qty, base(120));
  EXPECT_EQ(host.intents[0].intent.deadline_ns, kStart + kTwoMinutes);
  watch(*algo, host, m, 10, 20);
  EXPECT_TRUE(aggressive(host).empty()) << "the usual size is no opportunity";
  // Five times the recent size: the resting child is pulled out of the way, then the take goes.
  algo->on_market(host, m.showing(50, kStart + 21 * kNanosPerSecond));
  EXPECT_TRUE(host.intents[0].state.done) << "pulled for the take";
  algo->on_market(host, m.showing(50, kStart + 21 * kNanosPerSecond + kNanosPerMilli));
  const auto takes = aggressive(host);
  ASSERT_EQ(takes.size(), 1u);
  EXPECT_EQ(takes[0]->intent.qty, base(50));
  EXPECT_EQ(takes[0]->intent.limit, m.views[0].asks[0].price);  // at the touch it saw, no deeper
  // The take filled: what is left rests again.
  host.fill_all();
  algo->on_fill(host, m.showing(10, kStart + 22 * kNanosPerSecond));
  ASSERT_FALSE(host.intents.back().state.done);
  EXPECT_EQ(host.intents.back().intent.urgency, Urgency::Peg);
  EXPECT_EQ(host.intents.back().intent.qty, base(70));
}

TEST(Seek, TakesNothingWhereTakingCostsMoreOverRestingThanItsMaximum) {
  SeekMarket m(/*taker_fee_bps=*/5, /*maker_fee_bps=*/2);  // 3 bps more to take than to rest
  FakeHost host;
  auto algo = make(parent("seek", 120, {{"seek_size", "3"}, {"seek_max_cost", "2"}}));
  algo->on_start(host, m.at(kStart));
  watch(*algo, host, m, 10, 20);
  algo->on_market(host, m.showing(100, kStart + 21 * kNanosPerSecond));
  algo->on_market(host, m.showing(100, kStart + 21 * kNanosPerSecond + kNanosPerMilli));
  EXPECT_TRUE(aggressive(host).empty());
  EXPECT_FALSE(host.intents[0].state.done) << "the resting child stays";
  // The same opportunity where the cost is allowed is taken.
  FakeHost host2;
  auto allowed = make(parent("seek", 120, {{"seek_size", "3"}, {"seek_max_cost", "4"}}));
  allowed->on_start(host2, m.at(kStart));
  watch(*allowed, host2, m, 10, 20);
  allowed->on_market(host2, m.showing(100, kStart + 21 * kNanosPerSecond));
  allowed->on_market(host2, m.showing(100, kStart + 21 * kNanosPerSecond + kNanosPerMilli));
  EXPECT_EQ(aggressive(host2).size(), 1u);
}

TEST(Seek, TakesNothingBeforeItKnowsAVenuesRecentSize) {
  SeekMarket m;
  FakeHost host;
  auto algo = make(parent("seek", 120, {{"seek_size", "3"}}));
  algo->on_start(host, m.at(kStart));
  watch(*algo, host, m, 10, 5);
  algo->on_market(host, m.showing(100, kStart + 6 * kNanosPerSecond));  // 5 s watched: under the warm-up
  algo->on_market(host, m.showing(100, kStart + 6 * kNanosPerSecond + kNanosPerMilli));
  EXPECT_TRUE(aggressive(host).empty());
}

TEST(Seek, TakesWhenTheSideItTakesIsAboutToBeTakenAway) {
  SeekMarket m;
  FakeHost host;
  auto algo =
      make(parent("seek", 120, {{"seek_size", "1000"}, {"seek_imbalance", "0.8"}, {"end_share", "1"}}));
  algo->on_start(host, m.at(kStart));
  watch(*algo, host, m, 10, 20);
  EXPECT_TRUE(aggressive(host).empty());
  m.views[0].bids[0].qty = base(200);  // bids 200 against asks 5: leaning 0.95 toward the asks going
  algo->on_market(host, m.showing(5, kStart + 21 * kNanosPerSecond));
  algo->on_market(host, m.showing(5, kStart + 21 * kNanosPerSecond + kNanosPerMilli));
  const auto takes = aggressive(host);
  ASSERT_EQ(takes.size(), 1u);
  EXPECT_EQ(takes[0]->intent.qty, base(5));
  // One take a second at most: the book gets time to show again.
  host.fill_all();
  algo->on_fill(host, m.showing(5, kStart + 21 * kNanosPerSecond + 2 * kNanosPerMilli));
  algo->on_market(host, m.showing(5, kStart + 21 * kNanosPerSecond + 3 * kNanosPerMilli));
  algo->on_market(host, m.showing(5, kStart + 21 * kNanosPerSecond + 4 * kNanosPerMilli));
  EXPECT_EQ(aggressive(host).size(), 1u);
}

TEST(Seek, TakesTheShortfallWhenBehindItsMinimumParticipation) {
  SeekMarket m;
  FakeHost host;
  auto algo = make(parent("seek", 120, {{"min_participation", "0.5"}}));
  algo->on_start(host, m.at(kStart));
  algo->on_trade(host, m.at(kStart + kNanosPerSecond), 40);  // others traded 40: 20 due, none executed
  algo->on_timer(host, m.at(host.wakes.back()));             // the rest is pulled for the catch-up
  algo->on_timer(host, m.at(host.wakes.back()));
  const auto takes = aggressive(host);
  ASSERT_EQ(takes.size(), 1u);
  EXPECT_EQ(takes[0]->intent.qty, base(20));
}

TEST(Seek, TakesWhatItIsBehindItsFloorSoAtMostItsEndShareIsLeftForTheEnd) {
  SeekMarket m;
  FakeHost host;
  auto algo = make(parent("seek", 120, {{"end_share", "0.5"}}));
  algo->on_start(host, m.at(kStart));
  // Nothing filled by 60 s: half of the way to 50% is due, 30, pulled from the resting child and taken.
  algo->on_timer(host, m.at(kStart + 60 * kNanosPerSecond));
  algo->on_timer(host, m.at(kStart + 60 * kNanosPerSecond + kNanosPerMilli + 5 * kNanosPerSecond));
  const auto takes = aggressive(host);
  ASSERT_EQ(takes.size(), 1u);
  EXPECT_NEAR(takes[0]->intent.qty.to_double(), 120 * 0.5 * 65.001 / 120, 1e-6);
}

TEST(Seek, RestsNoMoreThanItsMaximumParticipationOfTheVolumeExpected) {
  SeekMarket m;
  FakeHost host;
  auto algo = make(parent("seek", 120, {{"max_participation", "0.1"}, {"end_share", "1"}}));
  algo->on_start(host, m.at(kStart));
  EXPECT_TRUE(host.intents.empty()) << "no volume seen nor expected: nothing may rest";
  algo->on_trade(host, m.at(kStart + 20 * kNanosPerSecond), 100);
  algo->on_timer(host, m.at(kStart + 20 * kNanosPerSecond));
  ASSERT_EQ(host.intents.size(), 1u);
  // 10% of what others traded and of their pace over the next 5 s: 0.1 x (100 + 100 / 20 s x 5 s).
  EXPECT_EQ(host.intents[0].intent.qty, base(12.5));
}

TEST(Seek, ItsParametersAreChecked) {
  EXPECT_FALSE(make_algo(parent("seek", 1, {{"seek_size", "0.5"}})).ok());
  EXPECT_FALSE(make_algo(parent("seek", 1, {{"seek_imbalance", "1.5"}})).ok());
  EXPECT_FALSE(make_algo(parent("seek", 1, {{"seek_lookback", "0s"}})).ok());
  EXPECT_FALSE(make_algo(parent("seek", 1, {{"seek_max_cost", "nan"}})).ok());
  EXPECT_TRUE(make_algo(parent("seek", 1, {{"seek_imbalance", "off"}, {"seek_lookback", "1m"}})).ok());
}

// Almgren and Chriss (2000), their own example: X = 1e6, T = 5, N = 5, sigma = 0.95, epsilon = 0.0625,
// eta = 2.5e-6, gamma = 2.5e-7.
AcInputs paper(double lambda) {
  AcInputs in;
  in.X = 1e6;
  in.T = 5;
  in.N = 5;
  in.sigma = 0.95;
  in.epsilon = 0.0625;
  in.eta = 2.5e-6;
  in.gamma = 2.5e-7;
  in.lambda = lambda;
  return in;
}

TEST(AlmgrenChriss, WithoutRiskAversionItIsTheStraightLineWithThePapersCostAndVariance) {
  const AcSchedule s = almgren_chriss(paper(0));
  for (double n : s.trades) EXPECT_NEAR(n, 2e5, 1e-6);
  EXPECT_NEAR(s.expected_cost, 662'500, 1e-6);
  EXPECT_NEAR(std::sqrt(s.variance), 0.95 * std::sqrt(1.2e12), 1e-3);
  EXPECT_NEAR(std::sqrt(s.variance) / 1e6, 1.04, 0.005);
}

TEST(AlmgrenChriss, TheTrajectoryIsTheClosedFormAndMinimisesCostPlusRiskAversionTimesVariance) {
  const double lambda = 2e-6;
  const AcInputs in = paper(lambda);
  const AcSchedule s = almgren_chriss(in);
  // kappa from cosh(kappa tau) = 1 + tau^2 lambda sigma^2 / (2 eta_tilde), tau = 1.
  const double eta_tilde = 2.5e-6 - 2.5e-7 / 2;
  EXPECT_NEAR(std::cosh(s.kappa), 1 + lambda * 0.95 * 0.95 / (2 * eta_tilde), 1e-12);
  for (int j = 0; j <= 5; ++j)
    EXPECT_NEAR(s.holdings[j], 1e6 * std::sinh(s.kappa * (5 - j)) / std::sinh(s.kappa * 5), 1e-6);
  EXPECT_GT(s.trades.front(), s.trades.back());  // front-loaded
  // No small change of any holding lowers E + lambda V.
  const double best = s.expected_cost + lambda * s.variance;
  for (int j = 1; j < 5; ++j)
    for (double d : {-1000.0, 1000.0}) {
      std::vector<double> x = s.holdings;
      x[j] += d;
      double e = 0, v = 0;
      almgren_chriss_cost(in, x, e, v);
      EXPECT_GT(e + lambda * v, best) << "holding " << j << " moved by " << d;
    }
  // A very urgent trajectory stays finite (sinh would overflow past kappa T of about 710).
  EXPECT_NEAR(ac_remaining_share(10.0, 1000.0, 1.0), std::exp(-10.0), 1e-12);
  EXPECT_DOUBLE_EQ(ac_remaining_share(10.0, 1000.0, 1000.0), 0.0);
  // More risk aversion: less variance, more expected cost (the efficient frontier).
  const AcSchedule urgent = almgren_chriss(paper(2e-5));
  EXPECT_LT(urgent.variance, s.variance);
  EXPECT_GT(urgent.expected_cost, s.expected_cost);
}

TEST(MarketSweep, ASweepFilledInFullEndsCompletedAfterOneWave) {
  Market m;
  FakeHost host;
  auto algo = make(parent("market", 5));
  algo->on_start(host, m.at(kStart));
  ASSERT_EQ(host.intents.size(), 1u);
  EXPECT_EQ(host.intents[0].intent.urgency, Urgency::Aggressive);
  EXPECT_TRUE(host.intents[0].intent.arrive_together);
  EXPECT_EQ(host.intents[0].intent.qty, base(5));
  host.fill_all();
  algo->on_fill(host, m.at(kStart + kNanosPerMilli));
  EXPECT_TRUE(algo->done());
  EXPECT_TRUE(algo->completed());
}

TEST(MarketSweep, WhatAWaveLeavesGoesInAnotherUpToThreeWaves) {
  Market m;
  FakeHost host;
  auto algo = make(parent("market", 10));
  algo->on_start(host, m.at(kStart));
  for (int wave = 1; wave <= 3; ++wave) {
    ASSERT_EQ(host.intents.size(), static_cast<std::size_t>(wave));
    host.fill_part(0.5);
    algo->on_market(host, m.at(kStart + wave * kNanosPerMilli));
  }
  EXPECT_EQ(host.intents.size(), 3u) << "never a fourth wave";
  ASSERT_TRUE(algo->done());
  EXPECT_FALSE(algo->completed());
  EXPECT_EQ(algo->done_text(), "nothing more could be sent");
}

TEST(MarketSweep, ARemainderBelowWhatAnyVenueTakesEndsItCompletedSayingWhatWasLeft) {
  Market m;
  FakeHost host;
  auto algo = make(parent("market", 1));
  algo->on_start(host, m.at(kStart));
  host.intents[0].state.filled = base(0.9995);
  host.executed_base = base(0.9995);
  host.intents[0].state.done = true;
  algo->on_market(host, m.at(kStart + kNanosPerMilli));
  ASSERT_TRUE(algo->done());
  EXPECT_TRUE(algo->completed());  // the kernel ends the parent Filled: the parent lifecycle's remainder row
  EXPECT_EQ(algo->done_text(), "filled but for 0.0005, below what any venue takes");
}

// Regression: a wave that found nothing to take sent nothing, so no report ever came, and the sweep waited
// for its end time.
TEST(MarketSweep, AWaveThatFindsNothingToTakeEndsTheSweepAtOnce) {
  Market m;
  FakeHost host;
  host.nothing_to_take = true;
  auto algo = make(parent("market", 5));
  algo->on_start(host, m.at(kStart));
  ASSERT_TRUE(algo->done());
  EXPECT_FALSE(algo->completed());
  EXPECT_EQ(host.intents.size(), 1u);
  EXPECT_EQ(algo->done_text(), "nothing more could be sent");
}

TEST(MarketSweep, TakesNoParameters) {
  EXPECT_FALSE(make_algo(parent("market", 5, {{"slice", "10s"}})).ok());
}

}  // namespace
}  // namespace tranche::ems
