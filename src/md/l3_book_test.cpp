#include "md/l3_book.hpp"

#include <gtest/gtest.h>

#include <array>

namespace tranche::md {
namespace {

Price px(std::int64_t units) {
  return Price::from_units(units);
}
Qty qty(std::int64_t units) {
  return Qty::from_units(units);
}

Qty ahead_of(const L3Book& book, std::uint64_t id) {
  Qty ahead = Qty::unset();
  EXPECT_TRUE(book.qty_ahead(id, ahead)) << "order " << id;
  return ahead;
}

TEST(L3Book, AggregatesOrdersAtTheBestBidAndAsk) {
  L3Book book;
  ASSERT_EQ(book.add(1, Side::Buy, px(100), qty(5)), L3Status::Ok);
  ASSERT_EQ(book.add(2, Side::Buy, px(100), qty(3)), L3Status::Ok);
  ASSERT_EQ(book.add(3, Side::Buy, px(99), qty(7)), L3Status::Ok);
  ASSERT_EQ(book.add(4, Side::Sell, px(102), qty(2)), L3Status::Ok);
  ASSERT_EQ(book.add(5, Side::Sell, px(101), qty(4)), L3Status::Ok);

  EXPECT_EQ(book.best_bid().price, px(100));
  EXPECT_EQ(book.best_bid().qty, qty(8));
  EXPECT_EQ(book.best_bid().orders, 2u);
  EXPECT_EQ(book.best_ask().price, px(101));
  EXPECT_EQ(book.best_ask().qty, qty(4));
  EXPECT_EQ(book.best_ask().orders, 1u);
  EXPECT_FALSE(book.crossed());
  EXPECT_EQ(book.order_count(), 5u);
}

TEST(L3Book, ListsLevelsBestFirstOnBothSides) {
  L3Book book;
  for (std::uint64_t i = 0; i < 5; ++i) {
    ASSERT_EQ(book.add(10 + i, Side::Buy, px(100 - static_cast<std::int64_t>(i)), qty(1 + i)), L3Status::Ok);
    ASSERT_EQ(book.add(20 + i, Side::Sell, px(101 + static_cast<std::int64_t>(i)), qty(1 + i)), L3Status::Ok);
  }
  std::array<L3Level, 3> levels;
  ASSERT_EQ(book.depth(Side::Buy, levels), 3u);
  EXPECT_EQ(levels[0].price, px(100));
  EXPECT_EQ(levels[1].price, px(99));
  EXPECT_EQ(levels[2].price, px(98));
  EXPECT_EQ(levels[2].qty, qty(3));
  ASSERT_EQ(book.depth(Side::Sell, levels), 3u);
  EXPECT_EQ(levels[0].price, px(101));
  EXPECT_EQ(levels[2].price, px(103));

  std::array<L3Level, 8> all;
  EXPECT_EQ(book.depth(Side::Sell, all), 5u);
}

TEST(L3Book, ReportsAnEmptySideWithAnUnsetPrice) {
  L3Book book;
  EXPECT_FALSE(book.best_bid().price.is_set());
  EXPECT_TRUE(book.best_ask().qty.is_zero());
  EXPECT_FALSE(book.crossed());
}

TEST(L3Book, PlacesEachOrderBehindTheQuantityThatArrivedBeforeIt) {
  L3Book book;
  ASSERT_EQ(book.add(1, Side::Sell, px(50), qty(4)), L3Status::Ok);
  ASSERT_EQ(book.add(2, Side::Sell, px(50), qty(6)), L3Status::Ok);
  ASSERT_EQ(book.add(3, Side::Sell, px(50), qty(1)), L3Status::Ok);
  EXPECT_EQ(ahead_of(book, 1), qty(0));
  EXPECT_EQ(ahead_of(book, 2), qty(4));
  EXPECT_EQ(ahead_of(book, 3), qty(10));
  std::uint32_t orders = 99;
  ASSERT_TRUE(book.orders_ahead(3, orders));
  EXPECT_EQ(orders, 2u);
}

TEST(L3Book, KeepsQueuePositionWhenAnOrderAheadIsCancelled) {
  L3Book book;
  ASSERT_EQ(book.add(1, Side::Buy, px(10), qty(4)), L3Status::Ok);
  ASSERT_EQ(book.add(2, Side::Buy, px(10), qty(6)), L3Status::Ok);
  ASSERT_EQ(book.add(3, Side::Buy, px(10), qty(2)), L3Status::Ok);
  ASSERT_EQ(book.cancel(2, qty(6)), L3Status::Ok);
  EXPECT_FALSE(book.contains(2));
  EXPECT_EQ(ahead_of(book, 3), qty(4));
  EXPECT_EQ(book.best_bid().qty, qty(6));
  EXPECT_EQ(book.best_bid().orders, 2u);
}

TEST(L3Book, ShrinksAnOrderOnAPartialCancelAndKeepsItsPlace) {
  L3Book book;
  ASSERT_EQ(book.add(1, Side::Buy, px(10), qty(4)), L3Status::Ok);
  ASSERT_EQ(book.add(2, Side::Buy, px(10), qty(6)), L3Status::Ok);
  ASSERT_EQ(book.cancel(1, qty(3)), L3Status::Ok);
  L3Order order;
  ASSERT_TRUE(book.find(1, order));
  EXPECT_EQ(order.qty, qty(1));
  EXPECT_EQ(ahead_of(book, 2), qty(1));
  EXPECT_EQ(book.best_bid().qty, qty(7));
}

TEST(L3Book, ReducesTheFilledOrderAndRemovesItWhenFilledCompletely) {
  L3Book book;
  ASSERT_EQ(book.add(1, Side::Sell, px(10), qty(5)), L3Status::Ok);
  ASSERT_EQ(book.fill(1, qty(2)), L3Status::Ok);
  EXPECT_EQ(book.best_ask().qty, qty(3));
  ASSERT_EQ(book.fill(1, qty(3)), L3Status::Ok);
  EXPECT_FALSE(book.contains(1));
  EXPECT_FALSE(book.best_ask().price.is_set());
  EXPECT_EQ(book.level_count(Side::Sell), 0u);
}

TEST(L3Book, KeepsPriorityWhenAModifyOnlyLowersTheQuantity) {
  L3Book book;
  ASSERT_EQ(book.add(1, Side::Buy, px(10), qty(5)), L3Status::Ok);
  ASSERT_EQ(book.add(2, Side::Buy, px(10), qty(5)), L3Status::Ok);
  ASSERT_EQ(book.modify(1, px(10), qty(2)), L3Status::Ok);
  EXPECT_EQ(ahead_of(book, 1), qty(0));
  EXPECT_EQ(ahead_of(book, 2), qty(2));
  EXPECT_EQ(book.best_bid().qty, qty(7));
}

TEST(L3Book, SendsAnOrderToTheBackOfTheQueueWhenAModifyRaisesItsQuantity) {
  L3Book book;
  ASSERT_EQ(book.add(1, Side::Buy, px(10), qty(5)), L3Status::Ok);
  ASSERT_EQ(book.add(2, Side::Buy, px(10), qty(5)), L3Status::Ok);
  ASSERT_EQ(book.modify(1, px(10), qty(8)), L3Status::Ok);
  EXPECT_EQ(ahead_of(book, 2), qty(0));
  EXPECT_EQ(ahead_of(book, 1), qty(5));
  EXPECT_EQ(book.best_bid().qty, qty(13));
  EXPECT_EQ(book.best_bid().orders, 2u);
}

TEST(L3Book, MovesAnOrderToTheBackOfItsNewLevelWhenAModifyChangesThePrice) {
  L3Book book;
  ASSERT_EQ(book.add(1, Side::Sell, px(20), qty(5)), L3Status::Ok);
  ASSERT_EQ(book.add(2, Side::Sell, px(21), qty(3)), L3Status::Ok);
  ASSERT_EQ(book.modify(1, px(21), qty(5)), L3Status::Ok);
  EXPECT_EQ(book.level_count(Side::Sell), 1u);
  EXPECT_EQ(book.best_ask().price, px(21));
  EXPECT_EQ(book.best_ask().qty, qty(8));
  EXPECT_EQ(ahead_of(book, 1), qty(3));
  L3Order order;
  ASSERT_TRUE(book.find(1, order));
  EXPECT_EQ(order.side, Side::Sell);
  EXPECT_EQ(order.price, px(21));
}

TEST(L3Book, ReturnsUnknownOrderForACancelOfAnIdItDoesNotHold) {
  L3Book book;
  ASSERT_EQ(book.add(1, Side::Buy, px(10), qty(5)), L3Status::Ok);
  EXPECT_EQ(book.cancel(42, qty(1)), L3Status::UnknownOrder);
  EXPECT_EQ(book.fill(42, qty(1)), L3Status::UnknownOrder);
  EXPECT_EQ(book.modify(42, px(10), qty(1)), L3Status::UnknownOrder);
  EXPECT_EQ(book.count(L3Status::UnknownOrder), 3u);
  EXPECT_EQ(book.best_bid().qty, qty(5));
}

TEST(L3Book, RefusesASecondAddWithTheSameId) {
  L3Book book;
  ASSERT_EQ(book.add(1, Side::Buy, px(10), qty(5)), L3Status::Ok);
  EXPECT_EQ(book.add(1, Side::Sell, px(11), qty(5)), L3Status::DuplicateOrder);
  EXPECT_EQ(book.order_count(), 1u);
  EXPECT_EQ(book.level_count(Side::Sell), 0u);
}

TEST(L3Book, RemovesTheOrderWhenACancelExceedsItAndSaysSo) {
  L3Book book;
  ASSERT_EQ(book.add(1, Side::Buy, px(10), qty(5)), L3Status::Ok);
  EXPECT_EQ(book.cancel(1, qty(9)), L3Status::QtyExceedsOrder);
  EXPECT_TRUE(book.empty());
  EXPECT_EQ(book.level_count(Side::Buy), 0u);
}

TEST(L3Book, RejectsAnAddWithoutPriceOrPositiveQuantity) {
  L3Book book;
  EXPECT_EQ(book.add(1, Side::Buy, Price::unset(), qty(5)), L3Status::InvalidPrice);
  EXPECT_EQ(book.add(2, Side::Buy, px(10), qty(0)), L3Status::InvalidQty);
  EXPECT_TRUE(book.empty());
}

TEST(L3Book, SaysCrossedWhenTheBidReachesTheAsk) {
  L3Book book;
  ASSERT_EQ(book.add(1, Side::Buy, px(10), qty(1)), L3Status::Ok);
  ASSERT_EQ(book.add(2, Side::Sell, px(11), qty(1)), L3Status::Ok);
  EXPECT_FALSE(book.crossed());
  ASSERT_EQ(book.add(3, Side::Buy, px(11), qty(1)), L3Status::Ok);
  EXPECT_TRUE(book.crossed());
}

TEST(L3Book, EmptiesOnClearAndAcceptsTheSameIdsAgain) {
  L3Book book;
  ASSERT_EQ(book.add(1, Side::Buy, px(10), qty(1)), L3Status::Ok);
  ASSERT_EQ(book.add(2, Side::Sell, px(11), qty(1)), L3Status::Ok);
  book.clear();
  EXPECT_TRUE(book.empty());
  EXPECT_EQ(book.level_count(Side::Buy), 0u);
  EXPECT_EQ(book.add(1, Side::Buy, px(9), qty(3)), L3Status::Ok);
  EXPECT_EQ(book.best_bid().price, px(9));
}

TEST(L3Book, RemovesAWholeLevelAndKeepsTheOthers) {
  L3Book book;
  ASSERT_EQ(book.add(1, Side::Sell, px(10), qty(1)), L3Status::Ok);
  ASSERT_EQ(book.add(2, Side::Sell, px(10), qty(2)), L3Status::Ok);
  ASSERT_EQ(book.add(3, Side::Sell, px(11), qty(3)), L3Status::Ok);
  EXPECT_EQ(book.remove_level(Side::Sell, px(10)), 2u);
  EXPECT_EQ(book.remove_level(Side::Buy, px(10)), 0u);
  EXPECT_FALSE(book.contains(1));
  EXPECT_FALSE(book.contains(2));
  EXPECT_EQ(book.best_ask().price, px(11));
  EXPECT_EQ(book.order_count(), 1u);
}

TEST(L3Book, ReusesFreedNodesWithoutDisturbingOtherQueues) {
  L3Book book;
  for (std::uint64_t id = 1; id <= 100; ++id)
    ASSERT_EQ(book.add(id, id % 2 ? Side::Buy : Side::Sell, px(id % 2 ? 10 : 11), qty(1)), L3Status::Ok);
  for (std::uint64_t id = 1; id <= 100; id += 4) ASSERT_EQ(book.remove(id), L3Status::Ok);
  for (std::uint64_t id = 101; id <= 125; ++id)
    ASSERT_EQ(book.add(id, Side::Buy, px(10), qty(2)), L3Status::Ok);
  EXPECT_EQ(book.best_bid().orders, 50u);
  EXPECT_EQ(book.best_bid().qty, qty(25 + 50));
  EXPECT_EQ(book.best_ask().orders, 50u);
  EXPECT_EQ(ahead_of(book, 125), qty(25 + 48));
}

TEST(L3Book, AppliesEventsAndIgnoresTradesAndL2Kinds) {
  L3Book book;
  Event add;
  add.kind = EventKind::OrderAdd;
  add.side = Side::Sell;
  add.order_id = 7;
  add.price = px(30);
  add.qty = qty(4);
  EXPECT_EQ(book.apply(add), L3Status::Ok);

  Event trade = add;
  trade.kind = EventKind::Trade;
  EXPECT_EQ(book.apply(trade), L3Status::Ignored);

  Event fill = add;
  fill.kind = EventKind::OrderFill;
  fill.qty = qty(1);
  EXPECT_EQ(book.apply(fill), L3Status::Ok);
  EXPECT_EQ(book.best_ask().qty, qty(3));

  Event modify = add;
  modify.kind = EventKind::OrderModify;
  modify.price = px(31);
  modify.qty = qty(2);
  EXPECT_EQ(book.apply(modify), L3Status::Ok);
  EXPECT_EQ(book.best_ask().price, px(31));

  Event cancel = add;
  cancel.kind = EventKind::OrderCancel;
  cancel.qty = qty(2);
  EXPECT_EQ(book.apply(cancel), L3Status::Ok);
  EXPECT_TRUE(book.empty());

  Event clear;
  clear.kind = EventKind::BookClear;
  EXPECT_EQ(book.apply(add), L3Status::Ok);
  EXPECT_EQ(book.apply(clear), L3Status::Ok);
  EXPECT_TRUE(book.empty());
}

TEST(L3Book, LeavesOrdersAloneOnFillsWhenTheFeedReducesThemSeparately) {
  L3Book book(L3BookOptions{.fills_change_book = false});
  ASSERT_EQ(book.add(1, Side::Buy, px(10), qty(5)), L3Status::Ok);
  Event fill;
  fill.kind = EventKind::OrderFill;
  fill.order_id = 1;
  fill.qty = qty(2);
  EXPECT_EQ(book.apply(fill), L3Status::Ignored);
  EXPECT_EQ(book.best_bid().qty, qty(5));
}

}  // namespace
}  // namespace tranche::md
