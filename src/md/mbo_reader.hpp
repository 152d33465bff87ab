#pragma once
// Order-by-order (MBO) records of Databento, re-encoded as CSV (plain or gzip) in
// ../shared/data/nautilus/databento/ derived-csv. Columns are found by their header name, so their order and
// any extra columns do not matter:
//   ts_recv_ns, ts_event_ns, symbol, action, side, price_1e9, size, order_id, flags, sequence (required),
//   publisher_id (optional: 1 = CME Globex MDP 3.0 names the venue "cme").
//
//  action  A -> OrderAdd, C -> OrderCancel (size = qty leaving the order), M -> OrderModify (new price and
//  size),
//          T -> Trade (side = aggressor), F -> OrderFill (side = the resting order's), R -> BookClear,
//          N (none) -> skipped, counted as "none".
//  side    B -> Side::Buy, A -> Side::Sell, N -> Side::Buy with kFlagSideUnknown set (trades of the opening
//          auction have no aggressor; the fills of that auction name no side either). Each file's count of
//          such records is also written to notes().
//  price   price_1e9 is the price x 1e9; Price keeps 8 decimals, so a price with a ninth decimal is an error.
//  Empty
//          (or Databento's undefined price, INT64_MAX) -> unset.
//  flags   bit 128 (F_LAST, last record of a venue event) -> kFlagLastInEvent.
//  clocks  recv_ns = ts_recv_ns, exch_ns = ts_event_ns; last_seq = sequence.
//
// On CME data every F record is followed, within the same venue event, by the C or M that takes the filled
// quantity off the order: build books from these records with L3BookOptions::fills_change_book = false.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/fixed_point.hpp"
#include "md/reader.hpp"

namespace tranche::md {

std::unique_ptr<EventReader> make_mbo_reader(const std::vector<std::string>& files);

// Databento's fixed-point price (1e-9 units) as a Price, exactly: false when it has a ninth decimal or
// overflows.
bool price_from_1e9(std::int64_t price_1e9, Price& out);

}  // namespace tranche::md
