#include "md/lobster_reader.hpp"

#include <gtest/gtest.h>

#include "md/test_data.hpp"

#include <filesystem>
#include <fstream>

namespace tranche::md {
namespace {

using testing::px;

using LobsterFiles = testing::TempDirTest;

TEST_F(LobsterFiles, DecodesEveryMessageTypeIntoTheNormalizedEvents) {
  const std::string path = write("AMZN_2012-06-21_34200000_57600000_message_1.csv",
                                 "Time,Type,OrderId,Size,Price,Direction\n"
                                 "34200.01746,5,0,1,2238200,-1\n"
                                 "34200.18961,1,11885113,21,2238100,1\n"
                                 "34200.19023,4,11885113,21,2238100,1\n"
                                 "34201.5,2,16,50,2239500,-1\n"
                                 "34202,3,17,100,2239600,-1\n"
                                 "34203.000000001,7,0,0,-1,-1\n");
  auto reader = make_lobster_reader({path});
  const auto events = testing::read_all(*reader);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(reader->error_count(), 0u);
  EXPECT_EQ(reader->skipped().at("halt"), 1u);
  ASSERT_EQ(reader->streams().size(), 1u);
  EXPECT_EQ(reader->streams()[0].venue, "lobster");
  EXPECT_EQ(reader->streams()[0].symbol, "AMZN");

  // Hidden execution of a resting sell: a buyer-initiated trade.
  EXPECT_EQ(events[0].event.kind, EventKind::Trade);
  EXPECT_EQ(events[0].event.side, Side::Buy);
  EXPECT_EQ(events[0].event.price, px("223.82"));
  EXPECT_EQ(events[0].event.qty, Qty::from_units(1));
  EXPECT_EQ(events[0].event.last_seq, 1u);

  EXPECT_EQ(events[1].event.kind, EventKind::OrderAdd);
  EXPECT_EQ(events[1].event.side, Side::Buy);
  EXPECT_EQ(events[1].event.order_id, 11885113u);
  EXPECT_EQ(events[1].event.price, px("223.81"));
  EXPECT_EQ(events[1].event.qty, Qty::from_units(21));

  EXPECT_EQ(events[2].event.kind, EventKind::OrderFill);
  EXPECT_EQ(events[2].event.side, Side::Buy);  // the resting order's side
  EXPECT_EQ(events[2].event.order_id, 11885113u);

  EXPECT_EQ(events[3].event.kind, EventKind::OrderCancel);
  EXPECT_EQ(events[3].event.qty, Qty::from_units(50));
  EXPECT_EQ(events[3].event.side, Side::Sell);
  EXPECT_EQ(events[4].event.kind, EventKind::OrderCancel);
  EXPECT_EQ(events[4].event.qty, Qty::from_units(100));
  EXPECT_EQ(events[4].event.last_seq, 5u);
}

TEST_F(LobsterFiles, TimesMessagesInUtcFromNewYorkDaylightTime) {
  const std::string path =
      write("AMZN_2012-06-21_34200000_57600000_message_1.csv", "34200.017459617,1,1,1,100,1\n");
  auto reader = make_lobster_reader({path});
  Event event;
  ASSERT_TRUE(reader->next(event));
  // 9:30:00.017459617 EDT is 13:30:00.017459617 UTC.
  EXPECT_EQ(format_time(event.recv_ns), "2012-06-21T13:30:00.017459617Z");
  EXPECT_EQ(event.exch_ns, event.recv_ns);
}

TEST_F(LobsterFiles, TimesWinterMessagesFromNewYorkStandardTime) {
  EXPECT_EQ(format_time(new_york_midnight_ns(2012, 1, 3)), "2012-01-03T05:00:00.000000000Z");
  EXPECT_EQ(format_time(new_york_midnight_ns(2012, 3, 10)), "2012-03-10T05:00:00.000000000Z");
  EXPECT_EQ(format_time(new_york_midnight_ns(2012, 3, 12)), "2012-03-12T04:00:00.000000000Z");
  EXPECT_EQ(format_time(new_york_midnight_ns(2012, 11, 3)), "2012-11-03T04:00:00.000000000Z");
  EXPECT_EQ(format_time(new_york_midnight_ns(2012, 11, 5)), "2012-11-05T05:00:00.000000000Z");
  EXPECT_EQ(format_time(new_york_midnight_ns(2005, 4, 4)), "2005-04-04T04:00:00.000000000Z");
  EXPECT_EQ(format_time(new_york_midnight_ns(2005, 3, 20)), "2005-03-20T05:00:00.000000000Z");
}

TEST_F(LobsterFiles, ReportsMalformedLinesWithFileAndLineAndReadsTheRest) {
  const std::string path = write("MSFT_2012-06-21_34200000_57600000_message_1.csv",
                                 "Time,Type,OrderId,Size,Price,Direction\n"
                                 "34200.1,1,1,10,300000,1\n"
                                 "34200.2,1,2,10,300000\n"
                                 "34200.3,9,3,10,300000,1\n"
                                 "34200.4,1,4,ten,300000,1\n"
                                 "34200.5,1,5,10,300000,0\n"
                                 "34200.6,1,6,10,300000,-1\n");
  auto reader = make_lobster_reader({path});
  const auto events = testing::read_all(*reader);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event.order_id, 1u);
  EXPECT_EQ(events[1].event.order_id, 6u);
  EXPECT_EQ(events[1].event.side, Side::Sell);
  ASSERT_EQ(reader->error_count(), 4u);
  EXPECT_EQ(reader->errors()[0].file, path);
  EXPECT_EQ(reader->errors()[0].line, 3u);
  EXPECT_EQ(reader->errors()[1].line, 4u);
  EXPECT_EQ(reader->errors()[2].line, 5u);
  EXPECT_EQ(reader->errors()[3].line, 6u);
  EXPECT_NE(reader->errors()[2].message.find("Size"), std::string::npos) << reader->errors()[2].to_string();
  EXPECT_EQ(reader->streams()[0].symbol, "MSFT");
}

TEST_F(LobsterFiles, RefusesAFileWhoseNameCarriesNoDate) {
  const std::string path = write("messages.csv", "34200.1,1,1,10,300000,1\n");
  auto reader = make_lobster_reader({path});
  Event event;
  EXPECT_FALSE(reader->next(event));
  ASSERT_EQ(reader->error_count(), 1u);
  EXPECT_EQ(reader->errors()[0].file, path);
}

TEST_F(LobsterFiles, ReadsFilesInOrderOneStreamPerSymbol) {
  const std::string a = write("AMZN_2012-06-21_34200000_57600000_message_1.csv", "34200.1,1,1,10,300000,1\n");
  const std::string b = write("AMZN_2012-06-22_34200000_57600000_message_1.csv", "34200.1,1,2,10,300000,1\n");
  const std::string c = write("INTC_2012-06-21_34200000_57600000_message_1.csv", "34200.1,1,3,10,300000,1\n");
  auto reader = make_lobster_reader({a, b, c});
  const auto events = testing::read_all(*reader);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].event.recv_ns - events[0].event.recv_ns, 86400 * kNanosPerSecond);
  EXPECT_EQ(events[0].event.stream, events[1].event.stream);
  EXPECT_NE(events[0].event.stream, events[2].event.stream);
  EXPECT_EQ(reader->streams().size(), 2u);
}

TEST_F(LobsterFiles, ReadsTheBestLevelOfEachOrderbookRowAndEmptySides) {
  const std::string path = write("AMZN_2012-06-21_34200000_57600000_orderbook_2.csv",
                                 "BestAsk,BestAskVolume,BestBid,BestBidVolume\n"
                                 "2239500,100,2231800,100,2239600,5,2231700,7\n"
                                 "9999999999,0,-9999999999,0,9999999999,0,-9999999999,0\n");
  auto rows = read_lobster_orderbook(path);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].ask, px("223.95"));
  EXPECT_EQ((*rows)[0].ask_qty, Qty::from_units(100));
  EXPECT_EQ((*rows)[0].bid, px("223.18"));
  EXPECT_FALSE((*rows)[1].ask.is_set());
  EXPECT_FALSE((*rows)[1].bid.is_set());
  EXPECT_TRUE((*rows)[1].bid_qty.is_zero());
}

TEST_F(LobsterFiles, NamesTheLineOfAMalformedOrderbookRow) {
  const std::string path = write("AMZN_2012-06-21_34200000_57600000_orderbook_1.csv",
                                 "2239500,100,2231800,100\n"
                                 "2239500,100,2231800\n");
  auto rows = read_lobster_orderbook(path);
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(rows.error().message.find(path + ":2:"), std::string::npos) << rows.error().message;
}

TEST(LobsterFileName, TakesTheSymbolAndDateFromTheName) {
  LobsterFileName name;
  ASSERT_TRUE(parse_lobster_file_name("/data/lobster/AMZN_2012-06-21_34200000_57600000_message_1.csv", name));
  EXPECT_EQ(name.symbol, "AMZN");
  EXPECT_EQ(name.year, 2012);
  EXPECT_EQ(name.month, 6);
  EXPECT_EQ(name.day, 21);
  EXPECT_FALSE(parse_lobster_file_name("AMZN_20120621_message_1.csv", name));
  EXPECT_FALSE(parse_lobster_file_name("_2012-06-21_message_1.csv", name));
}

}  // namespace
}  // namespace tranche::md
