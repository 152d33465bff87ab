#pragma once
// Decoder for Binance websocket recordings: `<receive timestamp> <json>` lines, gzip or plain.
// Spot, USD-M and COIN-M: depth diffs, the REST snapshot, bookTicker and trade; markPrice lines are counted
// and skipped. Receive timestamps in nanoseconds (2024+ files) or microseconds (2023 .dat files) are both
// read.
//
// Sequencing follows ../shared/data/README.md: diffs are buffered until the snapshot line (written when it
// was received, after some diffs); diffs with u <= lastUpdateId are dropped; the first remaining diff is
// applied without a continuity check; every later diff must continue the previous one (spot U = previous u +
// 1, futures pu = previous u). A break is reported as a Gap event and the stream waits for a new snapshot:
// nothing is applied across a gap. Buffered diffs are emitted right after their snapshot, stamped with the
// snapshot's receive time (the moment the book they build could first be known) and flagged
// kFlagReplayedAfterSnapshot; their exchange time is kept.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "md/reader.hpp"

namespace tranche::md {

std::unique_ptr<EventReader> make_binance_reader(const std::vector<std::string>& files);
// True when a line looks like a Binance recording line (timestamp, space, JSON object).
bool looks_like_binance(std::string_view first_line);

}  // namespace tranche::md
