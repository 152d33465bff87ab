// The FIX session rules every session shares (fix_session_settings.hpp) and the parent acceptor's reading of
// a raw message (FixParentReader), without a socket.
#include "gateway/fix_session_settings.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <utility>

#include "gateway/fix_parent_acceptor.hpp"
#include "gateway/test_fix_message.hpp"

namespace tranche::gateway {
namespace {

FIX::Message message_of_type(const char* type, bool poss_dup) {
  FIX::Message m;
  m.getHeader().setField(FIX::FIELD::MsgType, type);
  if (poss_dup) m.getHeader().setField(FIX::FIELD::PossDupFlag, "Y");
  return m;
}

TEST(GapFillStaleOrderRequests, AResentOrderRequestIsGapFilledAndEverythingElseIsResent) {
  for (const char* order_request : {"D", "F", "G", "H"}) {
    EXPECT_THROW(gap_fill_stale_order_requests(message_of_type(order_request, true)), FIX::DoNotSend)
        << order_request;
    EXPECT_NO_THROW(gap_fill_stale_order_requests(message_of_type(order_request, false))) << order_request;
  }
  for (const char* report : {"8", "9", "j"})
    EXPECT_NO_THROW(gap_fill_stale_order_requests(message_of_type(report, true))) << report;
}

// An acceptor's options for one client, TRANCHE to CLIENT1.
FixSessionOptions one_client_acceptor() {
  FixSessionOptions options;
  options.end = FixAcceptorEnd{9878};
  options.dictionary = "/dev/null";
  options.sessions.push_back({"TRANCHE", "CLIENT1"});
  return options;
}

TEST(FixSessionSettings, SequenceNumbersContinueAcrossLogonsUnlessAResetIsAskedFor) {
  FixSessionOptions options = one_client_acceptor();
  const auto kept = make_fix_session_settings(options);
  const FIX::Dictionary& d = kept->get();
  EXPECT_FALSE(d.getBool("ResetOnLogon"));
  EXPECT_FALSE(d.getBool("ResetOnDisconnect"));
  EXPECT_TRUE(d.getBool("PersistMessages"));
  options.reset_on_logon = true;
  EXPECT_TRUE(make_fix_session_settings(options)->get().getBool("ResetOnLogon"));
}

// Stores as QuickFIX left them a day ago: created yesterday, the numbers at 42 and 17.
class YesterdaysStores final : public FIX::MessageStoreFactory {
 public:
  FIX::MessageStore* create(const FIX::SessionID&) override {
    auto* store = new FIX::MemoryStore();
    store->setCreationTime(FIX::UtcTimeStamp(std::time(nullptr) - 24 * 3600));
    store->setNextSenderMsgSeqNum(42);
    store->setNextTargetMsgSeqNum(17);
    return store;
  }
  void destroy(FIX::MessageStore* store) override { delete store; }
};

// A session as QuickFIX makes one from our settings (heartbeat 0: an acceptor's), polled once at the wall
// clock's now; its next sender and target numbers.
std::pair<int, int> numbers_after_a_poll(FIX::MessageStoreFactory& stores, const FIX::Dictionary& settings) {
  const FIX::TimeRange hours(FIX::UtcTimeOnlyConvertor::convert(settings.getString("StartTime")),
                             FIX::UtcTimeOnlyConvertor::convert(settings.getString("EndTime")));
  FIX::NullApplication application;
  FIX::DataDictionaryProvider dictionaries;
  FIX::Session session(application, stores, FIX::SessionID("FIX.4.4", "TRANCHE", "CLIENT1"), dictionaries,
                       hours, 0, nullptr);
  session.next();
  return {session.getExpectedSenderNum(), session.getExpectedTargetNum()};
}

// Regression: QuickFIX 1.15 reset every session at 00:00 UTC (and a server restarted on a later day than its
// store was made), sending its sequence numbers back to 1; the soak found it, crossing midnight.
TEST(FixSessionSettings, ASessionKeepsItsSequenceNumbersWhenTheUtcDayChanges) {
  const auto settings = make_fix_session_settings(one_client_acceptor());
  YesterdaysStores quickfix_alone;
  EXPECT_EQ(numbers_after_a_poll(quickfix_alone, settings->get()), std::make_pair(1, 1));  // the defect
  const auto always_up = make_always_up_stores(std::make_unique<YesterdaysStores>());
  EXPECT_EQ(numbers_after_a_poll(*always_up, settings->get()), std::make_pair(42, 17));
}

TEST(FixStoreHasHistory, IsTrueOnlyOnceQuickFixHasWrittenASessionsSequenceNumbers) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("tranche_fix_store_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  EXPECT_FALSE(fix_store_has_history(dir.string()));  // no folder at all
  std::filesystem::create_directories(dir / "store");
  std::ofstream(dir / "store" / "FIX.4.4-TRANCHE-VENUE.body") << "";
  EXPECT_FALSE(fix_store_has_history(dir.string()));
  std::ofstream(dir / "store" / "FIX.4.4-TRANCHE-VENUE.seqnums") << "0000000012 : 0000000009";
  EXPECT_TRUE(fix_store_has_history(dir.string()));
  std::filesystem::remove_all(dir);
}

const char* kNewOrder =
    "35=D|49=CLIENT1|56=TRANCHE|34=2|52=20240808-23:56:05.000|11=p1|1=desk|55=ETH-USDT|54=1|38=1.5|40=2|"
    "44=2700|60=20240808-23:56:05.000|847=1000|7001=twap|848=urgency=passive|126=20240808-23:59:00.000|";

TEST(FixParentReader, ReadsANewOrderSingleIntoTheRequestTheAcceptorMakes) {
  auto reader = FixParentReader::open(TRANCHE_FIX_DICTIONARY);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  const auto r = (*reader)->read(testing::fix_framed(kNewOrder), "FIX.4.4:TRANCHE->CLIENT1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kind, ParentRequest::Kind::New);
  EXPECT_EQ(r->session, "FIX.4.4:TRANCHE->CLIENT1");
  EXPECT_EQ(r->cl_ord_id, "p1");
  EXPECT_EQ(r->account, "desk");
  EXPECT_EQ(r->symbol, "ETH-USDT");
  EXPECT_EQ(r->side, '1');
  EXPECT_EQ(r->ord_type, '2');
  EXPECT_EQ(r->qty, "1.5");
  EXPECT_EQ(r->price, "2700");
  EXPECT_EQ(r->algo, "twap");
  EXPECT_EQ(r->strategy_params, "urgency=passive");
  ASSERT_TRUE(r->expire_ns.has_value());
  EXPECT_TRUE(r->problem.empty());
}

constexpr const char* kNewOrderList =
    "35=E|49=CLIENT1|56=TRANCHE|34=3|52=20240808-23:56:05.000|66=basis1|394=3|765=0.05|68=2|73=2|"
    "11=a|7001=twap|67=1|55=ETH-USDT|54=1|60=20240808-23:56:05.000|38=2|40=1|126=20240808-23:59:00.000|"
    "11=b|67=2|55=ETH-USDT-PERP|54=2|60=20240808-23:56:05.000|38=2|40=2|44=2700|847=1000|"
    "848=slice=5s|";

TEST(FixParentReader, ReadsANewOrderListIntoOneRequestWithItsOrdersAndItsLimit) {
  auto reader = FixParentReader::open(TRANCHE_FIX_DICTIONARY);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  const auto r = (*reader)->read(testing::fix_framed(kNewOrderList), "FIX.4.4:TRANCHE->CLIENT1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kind, ParentRequest::Kind::NewList);
  EXPECT_EQ(r->list_id, "basis1");
  EXPECT_EQ(r->tot_no_orders, "2");
  EXPECT_EQ(r->one_sided_pct, "0.05");
  EXPECT_TRUE(r->one_sided_value.empty());
  ASSERT_EQ(r->orders.size(), 2u);
  EXPECT_EQ(r->orders[0].kind, ParentRequest::Kind::New);
  EXPECT_EQ(r->orders[0].session, "FIX.4.4:TRANCHE->CLIENT1");
  EXPECT_EQ(r->orders[0].cl_ord_id, "a");
  EXPECT_EQ(r->orders[0].algo, "twap");
  EXPECT_EQ(r->orders[0].side, '1');
  EXPECT_EQ(r->orders[0].ord_type, '1');
  EXPECT_TRUE(r->orders[0].expire_ns.has_value());
  EXPECT_EQ(r->orders[1].cl_ord_id, "b");
  EXPECT_EQ(r->orders[1].symbol, "ETH-USDT-PERP");
  EXPECT_EQ(r->orders[1].side, '2');
  EXPECT_EQ(r->orders[1].price, "2700");
  EXPECT_EQ(r->orders[1].target_strategy, "1000");
  EXPECT_EQ(r->orders[1].strategy_params, "slice=5s");
  EXPECT_TRUE(r->problem.empty());
}

TEST(FixParentReader, RefusesWhatTheSessionWouldRefuseSayingWhy) {
  auto reader = FixParentReader::open(TRANCHE_FIX_DICTIONARY);
  ASSERT_TRUE(reader.ok());
  std::string corrupt = testing::fix_framed(kNewOrder);
  corrupt[corrupt.size() - 2] = corrupt[corrupt.size() - 2] == '0' ? '1' : '0';  // the checksum's last digit
  for (const std::string& bad :
       {corrupt,
        testing::fix_framed(
            "35=D|49=CLIENT1|56=TRANCHE|34=2|52=20240808-23:56:05.000|11=p1|9999=x|55=ETH-USDT|"),
        testing::fix_framed("35=B|49=CLIENT1|56=TRANCHE|34=2|52=20240808-23:56:05.000|148=news|"),
        std::string("garbage")}) {
    const auto r = (*reader)->read(bad, "s");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("FIX"), std::string::npos) << r.error().message;
  }
  EXPECT_FALSE(FixParentReader::open("/nonexistent/FIX44.xml").ok());
}

}  // namespace
}  // namespace tranche::gateway
