// Every maker fill of ours checked against the recorded prints, by a checker that shares nothing with the
// simulator: executions are run through the product (`tranche execute` on binance-spot: every algo, each
// side, two start times), and each resting child's fills are compared with the trades of the recording
// itself. A child's queue ahead is the recorded quantity displayed at its price when it reached the venue; it
// shrinks with every trade at that price and with every visible drop of the level (a cancel ahead of us, the
// most lenient reading); trades beyond it at its price, and trades through its price, are the evidence a fill
// needs. Maker quantity beyond that evidence had no trade behind it.
//
// The defect it pins (issue 22): when the recorded book moved onto a resting order's price without a trade,
// the simulator filled the order from that book, up to everything displayed there: 44% of all maker quantity
// (peg 80-93%) had no trade behind it. Under the default cross_fill (prints) that share must stay under 5%
// for every algo and side; under cross_fill = full the checker must still see the old defect.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "md/l2_book.hpp"
#include "md/reader.hpp"
#include "service/execute_command.hpp"

namespace tranche {
namespace {

struct MakerChild {
  Side side = Side::Buy;
  Price price;
  TimestampNs rested_ns = 0;
  std::vector<std::pair<TimestampNs, Qty>> fills;  // maker fills, by the time we heard of them
  // The checker's state.
  bool started = false;
  Qty ahead, evidence, filled, unsupported;
  std::size_t next_fill = 0;
};

struct Evidence {
  double maker_qty = 0;
  double unsupported_qty = 0;
  double share() const { return maker_qty > 0 ? unsupported_qty / maker_qty : 0; }
};

Qty parse_qty(double value) {
  return Qty::from_raw(std::llround(value * static_cast<double>(kFixedScale)));
}

// The maker children of one execution, from `tranche execute --json`.
std::vector<MakerChild> maker_children(const nlohmann::json& run, Side side) {
  std::map<std::uint64_t, MakerChild> by_id;
  for (const auto& c : run.at("children")) {
    if (c.at("venue") != "binance-spot" || c.at("price").get<std::string>().empty()) continue;
    MakerChild child;
    child.side = side;
    child.price = *Price::parse(c.at("price").get<std::string>());
    child.rested_ns = c.at("venue_ns").get<TimestampNs>();
    by_id[c.at("child_id").get<std::uint64_t>()] = child;
  }
  for (const auto& f : run.at("fills")) {
    if (f.at("liquidity") != "maker") continue;
    auto it = by_id.find(f.at("child_id").get<std::uint64_t>());
    if (it == by_id.end()) continue;
    it->second.fills.emplace_back(f.at("ts_ns").get<TimestampNs>(), parse_qty(f.at("qty").get<double>()));
  }
  std::vector<MakerChild> out;
  for (auto& [id, child] : by_id)
    if (!child.fills.empty() && child.rested_ns > 0) out.push_back(std::move(child));
  return out;
}

// Replays the recorded spot feed once and settles every child's fills against its evidence.
Evidence check(std::vector<MakerChild> children) {
  const std::string file = std::string(TRANCHE_SOURCE_DIR) + "/data/binance/spot/ethusdt_20240808.gz";
  auto reader = md::open_reader({file});
  EXPECT_TRUE(reader.ok()) << reader.error().message;
  Evidence out;
  if (!reader.ok()) return out;
  md::L2Book book(Price::from_raw(1'000'000));
  md::Event e;
  TimestampNs last_fill = 0;
  for (const auto& c : children)
    for (const auto& [t, q] : c.fills) {
      last_fill = std::max(last_fill, t);
      out.maker_qty += q.to_double();
    }
  auto settle_fills_until = [&](TimestampNs now) {
    for (auto& c : children)
      while (c.next_fill < c.fills.size() && c.fills[c.next_fill].first <= now) {
        c.filled += c.fills[c.next_fill].second;
        const Qty gap = c.filled - c.evidence;
        if (gap > c.unsupported) c.unsupported = gap;
        ++c.next_fill;
      }
  };
  while ((*reader)->next(e) && e.recv_ns <= last_fill + 1) {
    settle_fills_until(e.recv_ns - 1);
    for (auto& c : children)
      if (!c.started && e.recv_ns >= c.rested_ns) {
        c.started = true;
        c.ahead = book.qty_at(c.side, c.price);
      }
    if (e.kind == md::EventKind::BookSnapshot || e.kind == md::EventKind::BookDelta) {
      book.apply(e);
      for (auto& c : children)
        if (c.started) {
          const Qty level = book.qty_at(c.side, c.price);
          if (level < c.ahead) c.ahead = level;  // a visible drop: cancels ahead of us, at most
        }
    } else if (e.kind == md::EventKind::Trade) {
      for (auto& c : children) {
        if (!c.started) continue;
        const bool through = c.side == Side::Buy ? e.price < c.price : e.price > c.price;
        if (through) {
          c.evidence += e.qty;
        } else if (e.price == c.price) {
          if (c.ahead >= e.qty) {
            c.ahead -= e.qty;
          } else {
            c.evidence += e.qty - c.ahead;
            c.ahead = Qty{};
          }
        }
      }
    }
  }
  settle_fills_until(last_fill);
  for (const auto& c : children) out.unsupported_qty += c.unsupported.to_double();
  return out;
}

nlohmann::json execute(const std::string& algo, const std::string& side, const std::string& start,
                       const std::string& cross_fill) {
  service::ExecuteOptions o;
  o.side = side;
  o.qty = "60";
  o.algo = algo;
  o.start = start;
  o.venues = {"binance-spot"};
  o.cross_fill = cross_fill;
  o.json = true;
  o.progress = false;
  std::ostringstream out, err;
  const int rc = service::execute_command(o, out, err);
  EXPECT_EQ(rc, 0) << algo << " " << side << " at " << start << ": " << err.str();
  if (rc != 0) return {};
  return nlohmann::json::parse(out.str());
}

// The table for one fill model (empty: the default): per algo and side, over the two start times. With
// TRANCHE_FILL_EVIDENCE_ALL_MODELS set, the test prints it for none and full too (for the record, not
// asserted).
std::map<std::string, Evidence> evidence_table(const std::string& cross_fill) {
  std::map<std::string, Evidence> table;
  std::printf("cross_fill = %s\n%-8s %-5s %10s %14s %8s\n",
              cross_fill.empty() ? "prints (default)" : cross_fill.c_str(), "algo", "side", "maker ETH",
              "unsupported", "share");
  for (const std::string algo : {"twap", "peg", "iceberg", "vwap", "pov", "is"})
    for (const std::string side : {"buy", "sell"}) {
      Evidence& total = table[algo + " " + side];
      for (const std::string start : {"2024-08-08T23:55:00Z", "2024-08-08T23:57:00Z"}) {
        const nlohmann::json run = execute(algo, side, start, cross_fill);
        if (run.is_null()) continue;
        const Evidence e = check(maker_children(run, side == "buy" ? Side::Buy : Side::Sell));
        total.maker_qty += e.maker_qty;
        total.unsupported_qty += e.unsupported_qty;
      }
      std::printf("%-8s %-5s %10.3f %14.3f %7.1f%%\n", algo.c_str(), side.c_str(), total.maker_qty,
                  total.unsupported_qty, 100 * total.share());
    }
  return table;
}

TEST(PassiveFillEvidence, UnderTheDefaultFillModelAtMostFivePercentOfMakerQuantityLacksARecordedTrade) {
  for (const auto& [run, total] : evidence_table("")) {
    EXPECT_GT(total.maker_qty, 0) << run << ": no maker fill to check";
    EXPECT_LE(total.share(), 0.05) << run << ": " << total.unsupported_qty << " of " << total.maker_qty
                                   << " ETH of maker fills had no recorded trade behind them";
  }
  if (std::getenv("TRANCHE_FILL_EVIDENCE_ALL_MODELS") != nullptr) {
    evidence_table("none");
    evidence_table("full");
  }
}

// The checker sees the defect where it is: the optimistic model still fills pegs from a book that moved onto
// them without a trade.
TEST(PassiveFillEvidence, TheOptimisticFillModelStillFillsPegsWithNoTradeBehindThem) {
  Evidence total;
  for (const std::string side : {"buy", "sell"}) {
    const nlohmann::json run = execute("peg", side, "2024-08-08T23:55:00Z", "full");
    if (run.is_null()) continue;
    const Evidence e = check(maker_children(run, side == "buy" ? Side::Buy : Side::Sell));
    total.maker_qty += e.maker_qty;
    total.unsupported_qty += e.unsupported_qty;
  }
  std::printf("peg under cross_fill = full: %.3f of %.3f ETH unsupported (%.1f%%)\n", total.unsupported_qty,
              total.maker_qty, 100 * total.share());
  EXPECT_GT(total.share(), 0.2);
}

}  // namespace
}  // namespace tranche
