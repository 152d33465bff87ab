#include "md/mbo_reader.hpp"

#include <gtest/gtest.h>

#include <zlib.h>
#include "md/test_data.hpp"

#include <filesystem>
#include <fstream>

#include "md/l3_book.hpp"

namespace tranche::md {
namespace {

using testing::px;

using MboFiles = testing::TempDirTest;

constexpr const char* kHeader =
    "ts_recv_ns,ts_event_ns,publisher_id,instrument_id,symbol,action,side,price_1e9,size,order_id,flags,"
    "channel_id,"
    "ts_in_delta_ns,sequence\n";

TEST_F(MboFiles, DecodesEveryActionWithBothClocksAndTheSequence) {
  const std::string path =
      write_gzip("esh4.mbo.csv.gz", std::string(kHeader) +
                                        "100,90,1,17077,ESH4,R,N,,0,0,8,0,0,1\n"
                                        "101,91,1,17077,ESH4,A,B,4799000000000,2,11,130,0,0,2\n"
                                        "102,92,1,17077,ESH4,A,A,4799250000000,3,12,130,0,0,3\n"
                                        "103,93,1,17077,ESH4,M,B,4799000000000,1,11,130,0,0,4\n"
                                        "104,94,1,17077,ESH4,T,B,4799250000000,1,13,0,0,0,5\n"
                                        "104,94,1,17077,ESH4,F,A,4799250000000,1,12,0,0,0,5\n"
                                        "105,94,1,17077,ESH4,C,A,4799250000000,1,12,130,0,0,6\n");
  auto reader = make_mbo_reader({path});
  const auto events = testing::read_all(*reader);
  ASSERT_EQ(events.size(), 7u);
  EXPECT_EQ(reader->error_count(), 0u);
  ASSERT_EQ(reader->streams().size(), 1u);
  EXPECT_EQ(reader->streams()[0].name(), "cme:ESH4");

  EXPECT_EQ(events[0].event.kind, EventKind::BookClear);
  EXPECT_FALSE(events[0].event.price.is_set());
  EXPECT_EQ(events[0].event.flags, 0);

  EXPECT_EQ(events[1].event.kind, EventKind::OrderAdd);
  EXPECT_EQ(events[1].event.side, Side::Buy);
  EXPECT_EQ(events[1].event.price, px("4799"));
  EXPECT_EQ(events[1].event.qty, Qty::from_units(2));
  EXPECT_EQ(events[1].event.order_id, 11u);
  EXPECT_EQ(events[1].event.recv_ns, 101);
  EXPECT_EQ(events[1].event.exch_ns, 91);
  EXPECT_EQ(events[1].event.last_seq, 2u);
  EXPECT_EQ(events[1].event.flags, kFlagLastInEvent);

  EXPECT_EQ(events[2].event.side, Side::Sell);
  EXPECT_EQ(events[2].event.price, px("4799.25"));
  EXPECT_EQ(events[3].event.kind, EventKind::OrderModify);
  EXPECT_EQ(events[4].event.kind, EventKind::Trade);
  EXPECT_EQ(events[4].event.side, Side::Buy);
  EXPECT_EQ(events[4].event.flags, 0);
  EXPECT_EQ(events[5].event.kind, EventKind::OrderFill);
  EXPECT_EQ(events[5].event.side, Side::Sell);
  EXPECT_EQ(events[6].event.kind, EventKind::OrderCancel);
  EXPECT_EQ(events[6].event.flags, kFlagLastInEvent);

  // The CME way: the fill only reports, the cancel that follows takes the quantity off.
  L3Book book(L3BookOptions{.fills_change_book = false});
  for (const auto& [event, bids, asks] : events) {
    const L3Status status = book.apply(event);
    EXPECT_TRUE(status == L3Status::Ok || status == L3Status::Ignored) << to_string(status);
  }
  EXPECT_EQ(book.best_bid().qty, Qty::from_units(1));
  EXPECT_EQ(book.best_ask().qty, Qty::from_units(2));
}

TEST_F(MboFiles, FindsColumnsByTheirHeaderNameInAnyOrder) {
  const std::string path =
      write("reordered.csv",
            "sequence,flags,order_id,size,price_1e9,side,action,symbol,extra,ts_event_ns,ts_recv_ns\n"
            "7,128,55,4,5155500000000,A,A,ESM4,x,1000,2000\n");
  auto reader = make_mbo_reader({path});
  const auto events = testing::read_all(*reader);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.kind, EventKind::OrderAdd);
  EXPECT_EQ(events[0].event.side, Side::Sell);
  EXPECT_EQ(events[0].event.price, px("5155.5"));
  EXPECT_EQ(events[0].event.qty, Qty::from_units(4));
  EXPECT_EQ(events[0].event.order_id, 55u);
  EXPECT_EQ(events[0].event.recv_ns, 2000);
  EXPECT_EQ(events[0].event.exch_ns, 1000);
  EXPECT_EQ(events[0].event.last_seq, 7u);
  EXPECT_EQ(events[0].event.flags, kFlagLastInEvent);
  EXPECT_EQ(reader->streams()[0].name(), "databento:ESM4");
}

TEST_F(MboFiles, FlagsTradesWithoutAnAggressorSide) {
  const std::string path = write("auction.csv", std::string(kHeader) +
                                                    "1,1,1,17077,ESH4,T,N,4800250000000,44,0,0,0,0,1\n"
                                                    "1,1,1,17077,ESH4,F,N,4800250000000,1,9,0,0,0,1\n"
                                                    "1,1,1,17077,ESH4,T,S,4800250000000,44,0,0,0,0,1\n");
  auto reader = make_mbo_reader({path});
  const auto events = testing::read_all(*reader);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event.kind, EventKind::Trade);
  EXPECT_TRUE(events[0].event.flags & kFlagSideUnknown);
  EXPECT_TRUE(events[1].event.flags & kFlagSideUnknown);
  ASSERT_EQ(reader->error_count(), 1u);
  EXPECT_EQ(reader->errors()[0].line, 4u);
  ASSERT_EQ(reader->notes().size(), 1u);
  EXPECT_NE(reader->notes()[0].find("2 records with side N"), std::string::npos) << reader->notes()[0];
}

TEST_F(MboFiles, ConvertsNanoPricesExactlyAndRefusesANinthDecimal) {
  Price price;
  ASSERT_TRUE(price_from_1e9(4799250000000, price));
  EXPECT_EQ(price, px("4799.25"));
  ASSERT_TRUE(price_from_1e9(-1250000000, price));
  EXPECT_EQ(price, px("-1.25"));
  ASSERT_TRUE(price_from_1e9(10, price));
  EXPECT_EQ(price, Price::from_raw(1));
  EXPECT_FALSE(price_from_1e9(4799250000001, price));
}

TEST_F(MboFiles, ReportsMalformedLinesWithFileAndLineAndReadsTheRest) {
  const std::string path = write("broken.csv", std::string(kHeader) +
                                                   "1,1,1,17077,ESH4,A,B,4799000000000,2,11,130,0,0,2\n"
                                                   "1,1,1,17077,ESH4,A,B,4799000000000,2,12,130,0,0\n"
                                                   "1,1,1,17077,ESH4,Q,B,4799000000000,2,13,130,0,0,4\n"
                                                   "1,1,1,17077,ESH4,A,X,4799000000000,2,14,130,0,0,5\n"
                                                   "1,1,1,17077,ESH4,A,B,4799000000001,2,15,130,0,0,6\n"
                                                   "1,1,1,17077,ESH4,A,B,,2,16,130,0,0,7\n"
                                                   "x,1,1,17077,ESH4,A,B,4799000000000,2,17,130,0,0,8\n"
                                                   "1,1,1,17077,ESH4,A,A,4800000000000,3,18,130,0,0,9\n");
  auto reader = make_mbo_reader({path});
  const auto events = testing::read_all(*reader);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event.order_id, 11u);
  EXPECT_EQ(events[1].event.order_id, 18u);
  ASSERT_EQ(reader->error_count(), 6u);
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(reader->errors()[i].file, path);
    EXPECT_EQ(reader->errors()[i].line, 3u + i) << reader->errors()[i].to_string();
  }
}

TEST_F(MboFiles, SkipsAFileWhoseHeaderLacksARequiredColumn) {
  const std::string bad =
      write("trades.csv", "ts_recv_ns,ts_event_ns,symbol,action,side,price_1e9,size\n1,1,ES,T,B,1,1\n");
  const std::string good =
      write("good.csv", std::string(kHeader) + "1,1,1,17077,ESH4,A,B,4799000000000,2,11,130,0,0,2\n");
  auto reader = make_mbo_reader({bad, good});
  const auto events = testing::read_all(*reader);
  ASSERT_EQ(events.size(), 1u);
  ASSERT_EQ(reader->error_count(), 1u);
  EXPECT_EQ(reader->errors()[0].file, bad);
  EXPECT_EQ(reader->errors()[0].line, 1u);
  EXPECT_NE(reader->errors()[0].message.find("order_id"), std::string::npos) << reader->errors()[0].message;
}

}  // namespace
}  // namespace tranche::md
