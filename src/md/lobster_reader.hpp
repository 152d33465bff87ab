#pragma once
// LOBSTER (NASDAQ TotalView-ITCH reconstructions) message files:
// `TICKER_YYYY-MM-DD_start_end_message_LEVEL.csv`, one message a row:
// `Time,Type,OrderId,Size,Price,Direction` (a header row is optional).
//
//  Time       seconds after midnight, New York time, with up to 9 decimals; the date comes from the file
//  name.
//             Both clocks of the event carry it (recv_ns = exch_ns): LOBSTER has one clock.
//  Type       1 new limit order      -> OrderAdd
//             2 partial cancel       -> OrderCancel, qty = the cancelled size
//             3 delete               -> OrderCancel, qty = the order's size (the whole order)
//             4 visible execution    -> OrderFill of the resting order; side = that order's side
//             5 hidden execution     -> Trade; aggressor = opposite of Direction (the hidden order rested)
//             6 cross trade          -> skipped, counted as "cross_trade" (auction prints carry no resting
//             order) 7 trading halt/resume  -> skipped, counted as "halt"
//  Price      dollars x 10,000.
//  Direction  1 buy order, -1 sell order.
// LOBSTER has no sequence numbers: last_seq is the message's row in its file (1 = first message), which pairs
// it with row last_seq of the orderbook file (the book after that message).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/fixed_point.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "md/reader.hpp"

namespace tranche::md {

std::unique_ptr<EventReader> make_lobster_reader(const std::vector<std::string>& files);

// What a LOBSTER file name says: "AMZN_2012-06-21_34200000_57600000_message_1.csv" -> AMZN, 2012-06-21.
struct LobsterFileName {
  std::string symbol;
  int year = 0;
  int month = 0;
  int day = 0;
};
bool parse_lobster_file_name(std::string_view path, LobsterFileName& out);

// Midnight of a New York calendar date, in ns since the epoch UTC (US daylight-saving rules of 1987-2006 and
// 2007 on: EDT is UTC-4, EST UTC-5). LOBSTER covers regular sessions, far from the 2 a.m. switch.
TimestampNs new_york_midnight_ns(int year, int month, int day);

// One row of a LOBSTER orderbook file, level 1 (the first four columns of any level). An empty side, which
// LOBSTER writes as the dummy price -9999999999 / 9999999999 with size 0, has an unset price and zero qty.
struct LobsterTop {
  Price ask = Price::unset();
  Qty ask_qty;
  Price bid = Price::unset();
  Qty bid_qty;
  friend bool operator==(const LobsterTop&, const LobsterTop&) = default;
};

// Every row of a `*_orderbook_LEVEL.csv` (row i is the book after message i); an error names the file and
// line.
Result<std::vector<LobsterTop>> read_lobster_orderbook(const std::string& path);

}  // namespace tranche::md
