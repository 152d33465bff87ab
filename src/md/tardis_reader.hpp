#pragma once
// Tardis (tardis.dev) CSV decoder: the four market-data types, each file recognised by its header and its
// columns read by name. Timestamps in the files are microseconds: recv_ns = local_timestamp * 1000 (the
// recorder's clock), exch_ns = timestamp * 1000. One stream per (exchange, symbol): StreamInfo venue is the
// exchange column as Tardis names it ("binance-futures", "deribit"), symbol the symbol column.
//
// - incremental_book_L2 (`is_snapshot,side,price,amount`, side bid/ask): consecutive rows of one stream with
// one
//   local_timestamp and is_snapshot=false are one BookDelta (amount is the level's new absolute quantity, 0
//   deletes). A run of is_snapshot=true rows of one stream, at the start of a file or after that stream's
//   non-snapshot rows, is one BookSnapshot holding every level of the run, sorted best first (bids
//   descending, asks ascending; stable, so a price repeated in the run keeps its last row last). Groups are
//   buffered and emitted when the next row's key changes or the file ends; a group takes the timestamps of
//   its last row. Should another stream's rows interrupt a snapshot run, the rest of the run comes as a
//   BookDelta that adds its levels (the snapshot is not restarted).
// - book_snapshot_N (`asks[0].price,asks[0].amount,bids[0].price,...`): each row is one BookSnapshot of up to
// N levels
//   a side, in column order (level 0 first); a level whose two cells are both empty is absent.
// - trades (`id,side,price,amount`): one Trade per row, side = the aggressor. last_seq is the id when it is a
// number,
//   otherwise (BitMEX ids are UUIDs) the trade's 1-based ordinal among its stream's trade rows. Rows with
//   side `unknown` are not emitted (a made-up aggressor would mislead queue and fill models more than a
//   missing print misleads volume): they are counted in skipped()["trade with unknown aggressor"].
// - quotes (`ask_amount,ask_price,bid_price,bid_amount`): one Quote per row, bid in price/qty and ask in
//   price2/qty2; a side whose two cells are both empty is Price::unset() / Qty::unset().
//
// Every event is one whole Tardis row or group, so each carries kFlagLastInEvent. A malformed row (wrong
// column count, a value that does not parse, a bad side) is reported with its file and line and dropped; the
// rest of the file still reads. A file that cannot be opened or whose header is not one of the four types is
// reported at line 0 or 1 and skipped. Files are read one after another, each with its own header, of any of
// the four types. Note: Tardis `liquidations` files have the same header as `trades`; they would read as
// trades.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "md/reader.hpp"

namespace tranche::md {

// True when the line is the header of one of the four Tardis CSV types this decoder reads.
bool looks_like_tardis(std::string_view header_line);

std::unique_ptr<EventReader> make_tardis_reader(const std::vector<std::string>& files);

}  // namespace tranche::md
