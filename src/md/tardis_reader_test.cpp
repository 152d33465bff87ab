#include "md/tardis_reader.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <zlib.h>
#include "md/test_data.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace tranche::md {
namespace {

using testing::px;
using testing::qty;

constexpr const char* kIncrementalHeader =
    "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n";
constexpr const char* kTradesHeader = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n";
constexpr const char* kQuotesHeader =
    "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount\n";
constexpr const char* kSnapshot2Header =
    "exchange,symbol,timestamp,local_timestamp,asks[0].price,asks[0].amount,bids[0].price,bids[0].amount,"
    "asks[1].price,asks[1].amount,bids[1].price,bids[1].amount\n";

class TardisReaderTest : public testing::TempDirTest {
 protected:
  // Reads every event of the files, keeping their levels.
  std::vector<OwnedEvent> read_all(const std::vector<std::string>& files) {
    reader_ = make_tardis_reader(files);
    std::vector<OwnedEvent> events;
    Event e;
    while (reader_->next(e)) events.emplace_back(e);
    return events;
  }
  std::string error_text() const {
    std::string text;
    for (const auto& e : reader_->errors()) text += e.to_string() + "\n";
    return text;
  }

  std::unique_ptr<EventReader> reader_;
};

TEST(TardisHeader, RecognisesTheFourTardisTypes) {
  EXPECT_TRUE(looks_like_tardis("exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount"));
  EXPECT_TRUE(looks_like_tardis("exchange,symbol,timestamp,local_timestamp,id,side,price,amount"));
  EXPECT_TRUE(looks_like_tardis(
      "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount"));
  EXPECT_TRUE(looks_like_tardis(
      "exchange,symbol,timestamp,local_timestamp,asks[0].price,asks[0].amount,bids[0].price,bids[0].amount"));
}

TEST(TardisHeader, RejectsOtherCsvHeaders) {
  EXPECT_FALSE(looks_like_tardis(""));
  EXPECT_FALSE(
      looks_like_tardis("symbol,timestamp,first_update_id,last_update_id,side,update_type,price,qty,pu"));
  EXPECT_FALSE(looks_like_tardis("exchange,symbol,timestamp,local_timestamp"));
  // A level without its amount column, an extra column, a repeated column.
  EXPECT_FALSE(looks_like_tardis(
      "exchange,symbol,timestamp,local_timestamp,asks[0].price,bids[0].price,bids[0].amount"));
  EXPECT_FALSE(looks_like_tardis("exchange,symbol,timestamp,local_timestamp,id,side,price,amount,extra"));
  EXPECT_FALSE(looks_like_tardis("exchange,symbol,timestamp,local_timestamp,id,side,price,price"));
  // Tardis derivative_ticker: not a type this decoder reads.
  EXPECT_FALSE(
      looks_like_tardis("exchange,symbol,timestamp,local_timestamp,funding_timestamp,funding_rate,predicted_"
                        "funding_rate,open_interest,"
                        "last_price,index_price,mark_price"));
}

TEST_F(TardisReaderTest, GroupsIncrementalRowsWithOneLocalTimestampIntoOneDelta) {
  const auto events = read_all({write("l2.csv", std::string(kIncrementalHeader) +
                                                    "deribit,BTC-PERPETUAL,1000,2000,false,bid,100.5,10\n"
                                                    "deribit,BTC-PERPETUAL,1001,2000,false,ask,101,0\n"
                                                    "deribit,BTC-PERPETUAL,1001,2000,false,bid,100,7\n"
                                                    "deribit,BTC-PERPETUAL,1003,2005,false,ask,101.5,3\n")});
  ASSERT_EQ(reader_->error_count(), 0u) << error_text();
  ASSERT_EQ(events.size(), 2u);
  const Event& first = events[0].event;
  EXPECT_EQ(first.kind, EventKind::BookDelta);
  EXPECT_EQ(first.flags, kFlagLastInEvent);
  EXPECT_EQ(first.recv_ns, 2'000'000);
  EXPECT_EQ(first.exch_ns, 1'001'000);  // the group's last row
  ASSERT_EQ(events[0].bids.size(), 2u);
  EXPECT_EQ(events[0].bids[0].price, px("100.5"));
  EXPECT_EQ(events[0].bids[0].qty, qty("10"));
  EXPECT_EQ(events[0].bids[1].price, px("100"));  // delta levels keep the file's order
  ASSERT_EQ(events[0].asks.size(), 1u);
  EXPECT_EQ(events[0].asks[0].price, px("101"));
  EXPECT_TRUE(events[0].asks[0].qty.is_zero());  // zero deletes the level
  // The last group is emitted at the end of the file.
  EXPECT_EQ(events[1].event.kind, EventKind::BookDelta);
  EXPECT_EQ(events[1].event.recv_ns, 2'005'000);
  EXPECT_TRUE(events[1].bids.empty());
  ASSERT_EQ(events[1].asks.size(), 1u);
  EXPECT_EQ(events[1].asks[0].qty, qty("3"));
}

TEST_F(TardisReaderTest, EmitsTheSnapshotRunAtTheStartOfAFileAsOneSnapshotSortedBestFirst) {
  const auto events = read_all({write("l2.csv", std::string(kIncrementalHeader) +
                                                    "deribit,BTC-PERPETUAL,1000,2000,true,ask,102,1\n"
                                                    "deribit,BTC-PERPETUAL,1000,2000,true,ask,101,2\n"
                                                    "deribit,BTC-PERPETUAL,1000,2000,true,bid,99,3\n"
                                                    "deribit,BTC-PERPETUAL,1000,2000,true,bid,100,4\n"
                                                    "deribit,BTC-PERPETUAL,1100,2100,false,bid,100,5\n")});
  ASSERT_EQ(reader_->error_count(), 0u) << error_text();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event.kind, EventKind::BookSnapshot);
  EXPECT_EQ(events[0].event.recv_ns, 2'000'000);
  ASSERT_EQ(events[0].bids.size(), 2u);
  ASSERT_EQ(events[0].asks.size(), 2u);
  EXPECT_EQ(events[0].bids[0].price, px("100"));
  EXPECT_EQ(events[0].bids[1].price, px("99"));
  EXPECT_EQ(events[0].asks[0].price, px("101"));
  EXPECT_EQ(events[0].asks[1].price, px("102"));
  EXPECT_EQ(events[1].event.kind, EventKind::BookDelta);
}

TEST_F(TardisReaderTest, MergesASnapshotRunSpanningSeveralLocalTimestampsIntoOneSnapshot) {
  const auto events = read_all(
      {write("l2.csv", std::string(kIncrementalHeader) + "deribit,BTC-PERPETUAL,1000,2000,true,ask,101,1\n"
                                                         "deribit,BTC-PERPETUAL,1000,2001,true,bid,100,2\n"
                                                         "deribit,BTC-PERPETUAL,1000,2002,true,bid,99,3\n")});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.kind, EventKind::BookSnapshot);
  EXPECT_EQ(events[0].event.recv_ns, 2'002'000);  // complete at its last row
  EXPECT_EQ(events[0].bids.size(), 2u);
  EXPECT_EQ(events[0].asks.size(), 1u);
}

TEST_F(TardisReaderTest, StartsANewSnapshotWhenSnapshotRowsFollowDeltas) {
  const auto events = read_all({write("l2.csv", std::string(kIncrementalHeader) +
                                                    "deribit,BTC-PERPETUAL,1000,2000,true,ask,101,1\n"
                                                    "deribit,BTC-PERPETUAL,1000,2000,true,bid,100,1\n"
                                                    "deribit,BTC-PERPETUAL,1100,2100,false,bid,100,2\n"
                                                    "deribit,BTC-PERPETUAL,1200,2200,true,ask,105,1\n"
                                                    "deribit,BTC-PERPETUAL,1200,2200,true,bid,104,1\n"
                                                    "deribit,BTC-PERPETUAL,1300,2300,false,ask,105,0\n")});
  ASSERT_EQ(reader_->error_count(), 0u) << error_text();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].event.kind, EventKind::BookSnapshot);
  EXPECT_EQ(events[1].event.kind, EventKind::BookDelta);
  EXPECT_EQ(events[2].event.kind, EventKind::BookSnapshot);
  EXPECT_EQ(events[2].event.recv_ns, 2'200'000);
  ASSERT_EQ(events[2].bids.size(), 1u);
  EXPECT_EQ(events[2].bids[0].price, px("104"));
  EXPECT_EQ(events[3].event.kind, EventKind::BookDelta);
}

TEST_F(TardisReaderTest, KeepsTheGroupsOfInterleavedSymbolsApart) {
  const auto events = read_all({write("l2.csv", std::string(kIncrementalHeader) +
                                                    "deribit,BTC-PERPETUAL,1000,2000,true,bid,100,1\n"
                                                    "deribit,ETH-PERPETUAL,1000,2000,true,bid,10,1\n"
                                                    "deribit,BTC-PERPETUAL,1000,2000,true,ask,101,1\n"
                                                    "deribit,ETH-PERPETUAL,1100,2100,false,bid,10,2\n")});
  ASSERT_EQ(reader_->error_count(), 0u) << error_text();
  ASSERT_EQ(reader_->streams().size(), 2u);
  EXPECT_EQ(reader_->streams()[0].name(), "deribit:BTC-PERPETUAL");
  EXPECT_EQ(reader_->streams()[1].name(), "deribit:ETH-PERPETUAL");
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].event.stream, 0);
  EXPECT_EQ(events[0].event.kind, EventKind::BookSnapshot);
  EXPECT_EQ(events[1].event.stream, 1);
  EXPECT_EQ(events[1].event.kind, EventKind::BookSnapshot);
  // The rest of BTC's interrupted snapshot run adds its level to the snapshot rather than replacing it.
  EXPECT_EQ(events[2].event.stream, 0);
  EXPECT_EQ(events[2].event.kind, EventKind::BookDelta);
  EXPECT_EQ(events[2].asks.size(), 1u);
  EXPECT_EQ(events[3].event.stream, 1);
  EXPECT_EQ(events[3].event.kind, EventKind::BookDelta);
}

TEST_F(TardisReaderTest, DropsAMalformedIncrementalRowWithoutSplittingItsGroup) {
  const auto events = read_all({write("l2.csv", std::string(kIncrementalHeader) +
                                                    "deribit,BTC-PERPETUAL,1000,2000,false,bid,100,1\n"
                                                    "deribit,BTC-PERPETUAL,1000,2000,false,middle,100,1\n"
                                                    "deribit,BTC-PERPETUAL,1000,2000,maybe,bid,100,1\n"
                                                    "deribit,BTC-PERPETUAL,1000,2000,false,bid,abc,1\n"
                                                    "deribit,BTC-PERPETUAL,1000,2000,false,bid,99,-1\n"
                                                    "deribit,BTC-PERPETUAL,1000,2000,false,ask,101,2\n")});
  EXPECT_EQ(reader_->error_count(), 4u) << error_text();
  ASSERT_EQ(reader_->errors().size(), 4u);
  EXPECT_EQ(reader_->errors()[0].line, 3u);
  EXPECT_NE(reader_->errors()[0].message.find("side"), std::string::npos);
  EXPECT_EQ(reader_->errors()[1].line, 4u);
  EXPECT_NE(reader_->errors()[1].message.find("is_snapshot"), std::string::npos);
  EXPECT_EQ(reader_->errors()[2].line, 5u);
  EXPECT_NE(reader_->errors()[2].message.find("'abc'"), std::string::npos);
  EXPECT_EQ(reader_->errors()[3].line, 6u);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].bids.size(), 1u);
  EXPECT_EQ(events[0].asks.size(), 1u);
}

TEST_F(TardisReaderTest, ReadsBookSnapshotColumnsByNameAndLeavesEmptyLevelsOut) {
  // Columns in an unusual order: the reader must go by name, not position.
  const auto events =
      read_all({write("snap.csv",
                      "bids[0].amount,bids[0].price,exchange,symbol,timestamp,local_timestamp,asks[1].price,"
                      "asks[1].amount,asks[0].amount,asks[0].price,bids[1].price,bids[1].amount\n"
                      "5,99.5,binance-futures,BTCUSDT,1000,2000,101,2,1,100.5,,\n"
                      "6,99.5,binance-futures,BTCUSDT,1001,2001,,,1,0.00001,99,7\n")});
  ASSERT_EQ(reader_->error_count(), 0u) << error_text();
  ASSERT_EQ(events.size(), 2u);
  const OwnedEvent& first = events[0];
  EXPECT_EQ(first.event.kind, EventKind::BookSnapshot);
  EXPECT_EQ(first.event.recv_ns, 2'000'000);
  EXPECT_EQ(first.event.exch_ns, 1'000'000);
  ASSERT_EQ(first.bids.size(), 1u);
  EXPECT_EQ(first.bids[0].price, px("99.5"));
  EXPECT_EQ(first.bids[0].qty, qty("5"));
  ASSERT_EQ(first.asks.size(), 2u);
  EXPECT_EQ(first.asks[0].price, px("100.5"));
  EXPECT_EQ(first.asks[1].price, px("101"));
  EXPECT_EQ(first.asks[1].qty, qty("2"));
  ASSERT_EQ(events[1].asks.size(), 1u);
  EXPECT_EQ(events[1].asks[0].price.raw(), 1000);  // 0.00001 exactly
  EXPECT_EQ(events[1].bids.size(), 2u);
}

TEST_F(TardisReaderTest, ReportsABookSnapshotLevelWithOnlyOneOfItsCells) {
  const auto events =
      read_all({write("snap.csv", std::string(kSnapshot2Header) +
                                      "binance-futures,BTCUSDT,1000,2000,101,1,100,1,102,,99,1\n"
                                      "binance-futures,BTCUSDT,1000,2000,101,1,100,1,102,1,99,1\n")});
  EXPECT_EQ(reader_->error_count(), 1u);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].asks.size(), 2u);
}

TEST_F(TardisReaderTest, TakesANumericTradeIdAsTheSequenceAndCountsTradesOtherwise) {
  const auto events =
      read_all({write("trades.csv", std::string(kTradesHeader) +
                                        "binance-futures,BTCUSDT,1000,2000,42377944,buy,9682,0.132\n"
                                        "bitmex,XBTUSD,1001,2001,ccc3c1fa-212c-e8b0,sell,8531.5,2152\n"
                                        "bitmex,XBTUSD,1002,2002,b46c84da-6942-b404,buy,8531.5,1\n")});
  ASSERT_EQ(reader_->error_count(), 0u) << error_text();
  ASSERT_EQ(events.size(), 3u);
  const Event& first = events[0].event;
  EXPECT_EQ(first.kind, EventKind::Trade);
  EXPECT_EQ(first.side, Side::Buy);
  EXPECT_EQ(first.last_seq, 42377944u);
  EXPECT_EQ(first.price, px("9682"));
  EXPECT_EQ(first.qty, qty("0.132"));
  EXPECT_EQ(first.recv_ns, 2'000'000);
  EXPECT_EQ(first.exch_ns, 1'000'000);
  EXPECT_EQ(events[1].event.side, Side::Sell);
  EXPECT_EQ(events[1].event.last_seq, 1u);
  EXPECT_EQ(events[1].event.stream, 1);
  EXPECT_EQ(events[2].event.last_seq, 2u);
  EXPECT_EQ(reader_->streams()[1].venue, "bitmex");
}

TEST_F(TardisReaderTest, SkipsAndCountsTradesWithAnUnknownAggressor) {
  const auto events =
      read_all({write("trades.csv", std::string(kTradesHeader) + "okex,BTC-USDT,1000,2000,a,unknown,100,1\n"
                                                                 "okex,BTC-USDT,1001,2001,b,buy,100,2\n"
                                                                 "okex,BTC-USDT,1002,2002,c,BUY?,100,2\n")});
  EXPECT_EQ(reader_->error_count(), 1u);  // the bad side
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.qty, qty("2"));
  EXPECT_EQ(events[0].event.last_seq, 2u);  // the skipped trade still counts as a row of the stream
  ASSERT_EQ(reader_->skipped().count("trade with unknown aggressor"), 1u);
  EXPECT_EQ(reader_->skipped().at("trade with unknown aggressor"), 1u);
}

TEST_F(TardisReaderTest, PutsTheBidInPriceAndTheAskInPrice2) {
  const auto events =
      read_all({write("quotes.csv", std::string(kQuotesHeader) +
                                        "binance-futures,BTCUSDT,1000,2000,0.84,9682,9681.92,0.67\n")});
  ASSERT_EQ(reader_->error_count(), 0u) << error_text();
  ASSERT_EQ(events.size(), 1u);
  const Event& q = events[0].event;
  EXPECT_EQ(q.kind, EventKind::Quote);
  EXPECT_EQ(q.price, px("9681.92"));
  EXPECT_EQ(q.qty, qty("0.67"));
  EXPECT_EQ(q.price2, px("9682"));
  EXPECT_EQ(q.qty2, qty("0.84"));
}

TEST_F(TardisReaderTest, LeavesAnEmptyQuoteSideUnset) {
  const auto events = read_all({write(
      "quotes.csv", std::string(kQuotesHeader) + "deribit,BTC-PERPETUAL,1000,2000,,,9681.92,0.67\n"
                                                 "deribit,BTC-PERPETUAL,1000,2000,5,9682,,\n"
                                                 "deribit,BTC-PERPETUAL,1000,2000,5,,9681.92,0.67\n")});
  EXPECT_EQ(reader_->error_count(), 1u);  // an ask amount without its price
  ASSERT_EQ(events.size(), 2u);
  EXPECT_FALSE(events[0].event.price2.is_set());
  EXPECT_FALSE(events[0].event.qty2.is_set());
  EXPECT_EQ(events[0].event.price, px("9681.92"));
  EXPECT_FALSE(events[1].event.price.is_set());
  EXPECT_EQ(events[1].event.price2, px("9682"));
}

TEST_F(TardisReaderTest, ReportsMalformedLinesWithTheirPlaceAndReadsTheRest) {
  const std::string path =
      write("quotes.csv", std::string(kQuotesHeader) +
                              "huobi-dm-swap,BTC-USD,1000,2000,5,8629.3,8629.2,806\n"
                              "huobi-dm-swap,BTC-USD,1000,2000,5,8629.3,8629.2\n"
                              "huobi-dm-swap,BTC-USD,1000,2000,5,8629.3,8629.2,806,1\n"
                              "huobi-dm-swap,BTC-USD,10x0,2000,5,8629.3,8629.2,806\n"
                              "huobi-dm-swap,BTC-USD,1000,,5,8629.3,8629.2,806\n"
                              "huobi-dm-swap,BTC-USD,1000,2000,5,1e3,8629.2,806\n"
                              "huobi-dm-swap,BTC-USD,1000,2000,5,8629.123456789,8629.2,806\n"
                              ",BTC-USD,1000,2000,5,8629.3,8629.2,806\n"
                              "\n"
                              "huobi-dm-swap,BTC-USD,1001,2001,5,8629.3,8629.2,806");  // no '\n'
  const auto events = read_all({path});
  EXPECT_EQ(reader_->error_count(), 7u) << error_text();
  ASSERT_EQ(reader_->errors().size(), 7u);
  for (std::size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(reader_->errors()[i].file, path);
    EXPECT_EQ(reader_->errors()[i].line, i + 3);
  }
  EXPECT_NE(reader_->errors()[0].message.find("expected 8 columns, found 7"), std::string::npos);
  EXPECT_EQ(reader_->skipped().at("blank line"), 1u);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].event.recv_ns, 2'001'000);
  EXPECT_EQ(reader_->lines_read(), 11u);  // the header, every row and the blank line
}

TEST_F(TardisReaderTest, ReadsSeveralFilesOfDifferentTypesOneAfterAnother) {
  const std::string trades =
      write("trades.csv", std::string(kTradesHeader) + "bitmex,XBTUSD,1000,2000,x,sell,1,1\n");
  const std::string l2 = write_gzip(
      "l2.csv.gz", std::string(kIncrementalHeader) + "deribit,BTC-PERPETUAL,1000,3000,false,bid,100,1\n");
  const std::string quotes =
      write("quotes.csv", std::string(kQuotesHeader) + "bitmex,XBTUSD,1000,4000,1,2,1,1\r\n");
  const auto events = read_all({trades, l2, quotes});
  ASSERT_EQ(reader_->error_count(), 0u) << error_text();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].event.kind, EventKind::Trade);
  EXPECT_EQ(events[1].event.kind, EventKind::BookDelta);  // flushed at the end of its (gzip) file
  EXPECT_EQ(events[2].event.kind, EventKind::Quote);
  EXPECT_EQ(events[2].event.qty, qty("1"));  // the '\r' is not part of the last cell
  EXPECT_EQ(events[0].event.stream, events[2].event.stream);
  EXPECT_EQ(reader_->streams().size(), 2u);
  EXPECT_EQ(reader_->format(), "tardis");
}

TEST_F(TardisReaderTest, StartsAFreshSnapshotInEachFile) {
  const std::string day1 =
      write("day1.csv", std::string(kIncrementalHeader) + "deribit,BTC-PERPETUAL,1000,2000,true,bid,100,1\n");
  const std::string day2 =
      write("day2.csv", std::string(kIncrementalHeader) + "deribit,BTC-PERPETUAL,1000,3000,true,bid,101,1\n");
  const auto events = read_all({day1, day2});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event.kind, EventKind::BookSnapshot);
  EXPECT_EQ(events[1].event.kind, EventKind::BookSnapshot);
}

TEST_F(TardisReaderTest, ReportsAnUnknownHeaderOrMissingFileAndReadsTheNextFile) {
  const std::string other = write("other.csv", "a,b,c\n1,2,3\n");
  const std::string empty = write("empty.csv", "");
  const std::string missing = (dir_ / "missing.csv").string();
  const std::string trades =
      write("trades.csv", std::string(kTradesHeader) + "bitmex,XBTUSD,1000,2000,x,sell,1,1\n");
  const auto events = read_all({other, missing, empty, trades});
  EXPECT_EQ(reader_->error_count(), 3u) << error_text();
  ASSERT_EQ(reader_->errors().size(), 3u);
  EXPECT_EQ(reader_->errors()[0].file, other);
  EXPECT_EQ(reader_->errors()[0].line, 1u);
  EXPECT_EQ(reader_->errors()[1].file, missing);
  EXPECT_EQ(reader_->errors()[2].file, empty);
  EXPECT_EQ(events.size(), 1u);
}

TEST_F(TardisReaderTest, ReadsNothingFromNoFiles) {
  const auto events = read_all({});
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(reader_->error_count(), 0u);
}

}  // namespace
}  // namespace tranche::md
