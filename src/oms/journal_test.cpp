#include "oms/journal.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "oms/records.hpp"

namespace tranche::oms {
namespace {

namespace fs = std::filesystem;

Price px(std::int64_t raw) {
  return Price::from_raw(raw);
}
Qty qty(std::int64_t raw) {
  return Qty::from_raw(raw);
}

// ---- Equality: the name of the first field that differs, empty when the two are the same. ----

#define TRANCHE_SAME_FIELD(f) \
  if (!(a.f == b.f)) return #f

std::string diff(const ParentOrder& a, const ParentOrder& b) {
  TRANCHE_SAME_FIELD(id);
  TRANCHE_SAME_FIELD(account);
  TRANCHE_SAME_FIELD(instrument);
  TRANCHE_SAME_FIELD(side);
  TRANCHE_SAME_FIELD(qty);
  TRANCHE_SAME_FIELD(limit);
  TRANCHE_SAME_FIELD(algo);
  TRANCHE_SAME_FIELD(params.size());
  for (std::size_t i = 0; i < a.params.size(); ++i) {
    TRANCHE_SAME_FIELD(params[i].key);
    TRANCHE_SAME_FIELD(params[i].value);
  }
  TRANCHE_SAME_FIELD(strategy);
  TRANCHE_SAME_FIELD(time_in_force);
  TRANCHE_SAME_FIELD(start_ns);
  TRANCHE_SAME_FIELD(end_ns);
  return "";
}
std::string diff(const ParentRejected& a, const ParentRejected& b) {
  if (std::string d = diff(a.parent, b.parent); !d.empty()) return "parent." + d;
  TRANCHE_SAME_FIELD(reason_code);
  TRANCHE_SAME_FIELD(text);
  return "";
}
std::string diff(const ParentCancelRequest& a, const ParentCancelRequest& b) {
  TRANCHE_SAME_FIELD(id);
  TRANCHE_SAME_FIELD(reason);
  return "";
}
std::string diff(const ParentAmend& a, const ParentAmend& b) {
  TRANCHE_SAME_FIELD(id);
  TRANCHE_SAME_FIELD(new_qty);
  TRANCHE_SAME_FIELD(new_limit);
  TRANCHE_SAME_FIELD(new_end_ns);
  return "";
}
std::string diff(const ParentDone& a, const ParentDone& b) {
  TRANCHE_SAME_FIELD(id);
  TRANCHE_SAME_FIELD(state);
  TRANCHE_SAME_FIELD(text);
  return "";
}
std::string diff(const NewOrder& a, const NewOrder& b) {
  TRANCHE_SAME_FIELD(client_order_id);
  TRANCHE_SAME_FIELD(parent_id);
  TRANCHE_SAME_FIELD(venue);
  TRANCHE_SAME_FIELD(instrument);
  TRANCHE_SAME_FIELD(side);
  TRANCHE_SAME_FIELD(type);
  TRANCHE_SAME_FIELD(time_in_force);
  TRANCHE_SAME_FIELD(price);
  TRANCHE_SAME_FIELD(qty);
  TRANCHE_SAME_FIELD(sent_ns);
  return "";
}
std::string diff(const CancelOrder& a, const CancelOrder& b) {
  TRANCHE_SAME_FIELD(client_order_id);
  TRANCHE_SAME_FIELD(venue);
  TRANCHE_SAME_FIELD(instrument);
  TRANCHE_SAME_FIELD(sent_ns);
  return "";
}
std::string diff(const AmendOrder& a, const AmendOrder& b) {
  TRANCHE_SAME_FIELD(client_order_id);
  TRANCHE_SAME_FIELD(venue);
  TRANCHE_SAME_FIELD(instrument);
  TRANCHE_SAME_FIELD(new_price);
  TRANCHE_SAME_FIELD(new_qty);
  TRANCHE_SAME_FIELD(sent_ns);
  return "";
}
std::string diff(const OrderStatusQuery& a, const OrderStatusQuery& b) {
  TRANCHE_SAME_FIELD(client_order_id);
  TRANCHE_SAME_FIELD(venue);
  TRANCHE_SAME_FIELD(instrument);
  TRANCHE_SAME_FIELD(sent_ns);
  return "";
}
std::string diff(const ExecutionReport& a, const ExecutionReport& b) {
  TRANCHE_SAME_FIELD(client_order_id);
  TRANCHE_SAME_FIELD(venue_order_id);
  TRANCHE_SAME_FIELD(exec_id);
  TRANCHE_SAME_FIELD(venue);
  TRANCHE_SAME_FIELD(instrument);
  TRANCHE_SAME_FIELD(exec_type);
  TRANCHE_SAME_FIELD(status);
  TRANCHE_SAME_FIELD(side);
  TRANCHE_SAME_FIELD(order_price);
  TRANCHE_SAME_FIELD(order_qty);
  TRANCHE_SAME_FIELD(last_qty);
  TRANCHE_SAME_FIELD(last_price);
  TRANCHE_SAME_FIELD(cum_qty);
  TRANCHE_SAME_FIELD(leaves_qty);
  TRANCHE_SAME_FIELD(liquidity);
  TRANCHE_SAME_FIELD(fee.amount);
  TRANCHE_SAME_FIELD(fee.asset);
  TRANCHE_SAME_FIELD(reject_reason);
  TRANCHE_SAME_FIELD(text);
  TRANCHE_SAME_FIELD(venue_ns);
  TRANCHE_SAME_FIELD(received_ns);
  return "";
}
std::string diff(const VenueStatusReport& a, const VenueStatusReport& b) {
  TRANCHE_SAME_FIELD(venue);
  TRANCHE_SAME_FIELD(state);
  TRANCHE_SAME_FIELD(text);
  TRANCHE_SAME_FIELD(venue_ns);
  TRANCHE_SAME_FIELD(received_ns);
  return "";
}
std::string diff(const AlgoStateChange& a, const AlgoStateChange& b) {
  TRANCHE_SAME_FIELD(id);
  TRANCHE_SAME_FIELD(state);
  TRANCHE_SAME_FIELD(detail);
  return "";
}
std::string diff(const RiskDenial& a, const RiskDenial& b) {
  TRANCHE_SAME_FIELD(parent);
  TRANCHE_SAME_FIELD(child);
  TRANCHE_SAME_FIELD(venue);
  TRANCHE_SAME_FIELD(reason_code);
  TRANCHE_SAME_FIELD(text);
  return "";
}
std::string diff(const RecoveryNote& a, const RecoveryNote& b) {
  TRANCHE_SAME_FIELD(text);
  return "";
}
std::string diff(const KillSwitchChange& a, const KillSwitchChange& b) {
  TRANCHE_SAME_FIELD(scope);
  TRANCHE_SAME_FIELD(target);
  TRANCHE_SAME_FIELD(action);
  TRANCHE_SAME_FIELD(reason);
  return "";
}
#undef TRANCHE_SAME_FIELD

std::string diff(const RecordBody& a, const RecordBody& b) {
  if (a.index() != b.index()) {
    return std::string("record type: ") + to_string(record_type(a)) + " vs " + to_string(record_type(b));
  }
  return std::visit(
      [&b](const auto& left) {
        using T = std::decay_t<decltype(left)>;
        return diff(left, std::get<T>(b));
      },
      a);
}

// ---- One body of every kind, every field set away from its default. ----

ExecutionReport sample_execution(std::uint64_t n = 1) {
  ExecutionReport r;
  r.client_order_id = ClientOrderId(1000 + n);
  r.venue_order_id = VenueOrderId("8381982371" + std::to_string(n));
  r.exec_id = ExecId("T-" + std::to_string(77000 + n));
  r.venue = VenueId("binance-spot");
  r.instrument = InstrumentId("ETH-USDT");
  r.exec_type = ExecType::Trade;
  r.status = OrderStatus::PartiallyFilled;
  r.side = Side::Sell;
  r.order_price = px(268'380'000'000);
  r.order_qty = qty(150'000'000);
  r.last_qty = qty(50'000'000);
  r.last_price = px(268'379'000'000);
  r.cum_qty = qty(100'000'000);
  r.leaves_qty = qty(50'000'000);
  r.liquidity = Liquidity::Maker;
  r.fee = Fee{qty(-13'419), FixedString<15>("USDT")};
  r.reject_reason = RejectReason::RateLimited;
  r.text = FixedString<95>("partial fill");
  r.venue_ns = 1'723'161'300'000'000'000 + static_cast<TimestampNs>(n);
  r.received_ns = 1'723'161'300'000'400'000 + static_cast<TimestampNs>(n);
  return r;
}

ParentOrder sample_parent() {
  ParentOrder p;
  p.id = ParentId(42);
  p.account = AccountId("acct-main");
  p.instrument = InstrumentId("BTC-USDT");
  p.side = Side::Sell;
  p.qty = qty(250'000'000);
  p.limit = px(6'100'000'000'000);
  p.algo = "twap";
  p.params = {{"slices", "12"}, {"interval_ms", "5000"}, {"", ""}};
  p.strategy = "basis-unwind";
  p.time_in_force = TimeInForce::ImmediateOrCancel;
  p.start_ns = 1'723'161'300'000'000'000;
  p.end_ns = 1'723'164'900'000'000'000;
  return p;
}

std::vector<RecordBody> sample_bodies() {
  std::vector<RecordBody> bodies;
  bodies.emplace_back(sample_parent());
  bodies.emplace_back(ParentRejected{sample_parent(), "risk_max_notional", "notional 1.5e6 over 1e6"});
  bodies.emplace_back(ParentCancelRequest{ParentId(43), "strategy stop"});
  bodies.emplace_back(ParentAmend{ParentId(44), qty(-7), px(-1), 99});
  bodies.emplace_back(ParentDone{ParentId(45), ParentState::Expired, "end time reached"});
  NewOrder order;
  order.client_order_id = ClientOrderId(9'000'001);
  order.parent_id = ParentId(42);
  order.venue = VenueId("binance-coinm");
  order.instrument = InstrumentId("ETH-USDT");
  order.side = Side::Sell;
  order.type = OrderType::Market;
  order.time_in_force = TimeInForce::FillOrKill;
  order.price = px(123);
  order.qty = qty(456);
  order.sent_ns = 789;
  bodies.emplace_back(order);
  bodies.emplace_back(CancelOrder{ClientOrderId(9'000'002), VenueId("okx"), InstrumentId("SOL-USDT"), 11});
  bodies.emplace_back(
      AmendOrder{ClientOrderId(9'000'003), VenueId("bybit"), InstrumentId("XRP-USDT"), px(5), qty(6), 12});
  bodies.emplace_back(
      OrderStatusQuery{ClientOrderId(9'000'004), VenueId("kraken"), InstrumentId("BTC-USD"), 13});
  bodies.emplace_back(sample_execution());
  bodies.emplace_back(
      VenueStatusReport{VenueId("binance-spot"), VenueState::Halted, FixedString<95>("maintenance"), 14, 15});
  bodies.emplace_back(AlgoStateChange{ParentId(46), "paused", "spread too wide"});
  bodies.emplace_back(
      RiskDenial{ParentId(47), ClientOrderId(48), VenueId("deribit"), "risk_rate", "too fast"});
  bodies.emplace_back(RecoveryNote{"replayed 12 records after restart"});
  bodies.emplace_back(KillSwitchChange{KillScope::Venue, "binance-usdm", KillAction::Release, "venue back"});

  // The edges: strings at their capacity, the unset sentinel, negative and extreme values.
  ExecutionReport edge = sample_execution(2);
  edge.client_order_id = ClientOrderId(UINT64_MAX);
  edge.venue_order_id = VenueOrderId(std::string(48, 'v'));
  edge.exec_id = ExecId(std::string(48, 'e'));
  edge.venue = VenueId(std::string(31, 'n'));
  edge.instrument = InstrumentId(std::string(31, 'i'));
  edge.exec_type = ExecType::OrderStatus;
  edge.status = OrderStatus::Expired;
  edge.order_price = Price::unset();
  edge.last_price = Price::max();
  edge.fee = Fee{qty(INT64_MIN + 1), FixedString<15>(std::string(15, 'a'))};
  edge.liquidity = Liquidity::Taker;
  edge.reject_reason = RejectReason::Other;
  edge.text = FixedString<95>(std::string(95, 't'));
  edge.venue_ns = INT64_MIN;
  edge.received_ns = INT64_MAX;
  bodies.emplace_back(edge);
  ParentOrder long_strings = sample_parent();
  long_strings.algo = std::string(65'535, 'x');  // the most a string holds; more is a programming error
  long_strings.params.assign(300, AlgoParam{"k", "v"});
  bodies.emplace_back(long_strings);
  return bodies;
}

std::vector<std::uint8_t> encode(const RecordBody& body) {
  std::vector<std::uint8_t> out;
  encode_body(Record{0, 0, body}, out);
  return out;
}

TEST(RecordEncoding, every_body_alternative_has_a_sample) {
  std::set<std::size_t> seen;
  for (const auto& body : sample_bodies()) seen.insert(body.index());
  EXPECT_EQ(seen.size(), std::variant_size_v<RecordBody>);
}

TEST(RecordEncoding, every_body_round_trips_with_all_fields_set) {
  for (const auto& body : sample_bodies()) {
    const auto bytes = encode(body);
    auto decoded = decode_body(record_type(body), kRecordVersion, bytes);
    ASSERT_TRUE(decoded.ok()) << to_string(record_type(body)) << ": " << decoded.error().message;
    EXPECT_EQ(diff(body, *decoded), "") << to_string(record_type(body));
  }
}

TEST(RecordEncoding, record_types_follow_the_variant_order_and_have_names) {
  const RecordType expected[] = {
      RecordType::ParentAccepted, RecordType::ParentRejected, RecordType::ParentCancelRequested,
      RecordType::ParentAmended,  RecordType::ParentDone,     RecordType::ChildSent,
      RecordType::CancelSent,     RecordType::AmendSent,      RecordType::StatusQuerySent,
      RecordType::Execution,      RecordType::VenueStatus,    RecordType::AlgoState,
      RecordType::RiskDenial,     RecordType::Recovery,       RecordType::KillSwitch,
  };
  for (const auto& body : sample_bodies()) {
    EXPECT_EQ(record_type(body), expected[body.index()]);
    EXPECT_STRNE(to_string(record_type(body)), "?");
    EXPECT_EQ((Record{1, 2, body}.type()), record_type(body));
  }
  EXPECT_STREQ(to_string(RecordType::Execution), "Execution");
  EXPECT_STREQ(to_string(ParentState::PendingCancel), "pending_cancel");
  EXPECT_STREQ(to_string(static_cast<RecordType>(999)), "?");
}

TEST(RecordEncoding, layout_is_little_endian_fields_in_declaration_order) {
  const auto bytes = encode(ParentCancelRequest{ParentId(0x0102030405060708), "ab"});
  const std::vector<std::uint8_t> expected = {8, 7, 6, 5, 4, 3, 2, 1, 2, 0, 'a', 'b'};
  EXPECT_EQ(bytes, expected);
}

TEST(RecordEncoding, encoding_appends_to_what_is_already_in_the_buffer) {
  std::vector<std::uint8_t> out = {0xAA};
  encode_body(Record{0, 0, RecoveryNote{"x"}}, out);
  const std::vector<std::uint8_t> expected = {0xAA, 1, 0, 'x'};
  EXPECT_EQ(out, expected);
}

TEST(RecordEncoding, decoding_a_body_truncated_at_every_length_fails_naming_the_record_type) {
  for (const auto& body : sample_bodies()) {
    const auto bytes = encode(body);
    const std::string type = to_string(record_type(body));
    // The long-string sample is 67 kB: every length of the small ones, a stride through the large one.
    const std::size_t step = bytes.size() > 4096 ? 97 : 1;
    for (std::size_t n = 0; n < bytes.size(); n += step) {
      auto decoded = decode_body(record_type(body), kRecordVersion, std::span(bytes.data(), n));
      ASSERT_FALSE(decoded.ok()) << type << " decoded from " << n << " of " << bytes.size() << " bytes";
      const std::string& message = decoded.error().message;
      EXPECT_EQ(message.rfind(type + ": body truncated at byte ", 0), 0u) << message;
    }
  }
}

TEST(RecordEncoding, truncation_error_names_the_byte_and_the_field) {
  const auto bytes = encode(sample_execution());
  // client_order_id (8) + venue_order_id (2 + 11) + exec_id (2 + 7): venue's length starts at byte 30.
  auto decoded = decode_body(RecordType::Execution, kRecordVersion, std::span(bytes.data(), 31));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().message,
            "Execution: body truncated at byte 30 (reading venue, body is 31 bytes)");
}

TEST(RecordEncoding, trailing_bytes_after_the_last_field_fail) {
  for (const auto& body : sample_bodies()) {
    auto bytes = encode(body);
    bytes.push_back(0);
    auto decoded = decode_body(record_type(body), kRecordVersion, bytes);
    ASSERT_FALSE(decoded.ok()) << to_string(record_type(body));
    EXPECT_NE(decoded.error().message.find("1 trailing bytes"), std::string::npos) << decoded.error().message;
  }
}

TEST(RecordEncoding, a_version_outside_one_to_the_current_fails) {
  const auto bytes = encode(sample_execution());
  for (std::uint16_t version :
       {std::uint16_t{0}, static_cast<std::uint16_t>(kRecordVersion + 1), std::uint16_t{UINT16_MAX}}) {
    auto decoded = decode_body(RecordType::Execution, version, bytes);
    ASSERT_FALSE(decoded.ok()) << version;
    EXPECT_NE(decoded.error().message.find("Execution: layout version " + std::to_string(version)),
              std::string::npos)
        << decoded.error().message;
  }
}

TEST(RecordEncoding, an_unknown_record_type_fails) {
  const auto bytes = encode(sample_execution());
  auto decoded = decode_body(static_cast<RecordType>(99), kRecordVersion, bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().message, "unknown record type 99");
}

TEST(RecordEncoding, an_unknown_enum_value_fails) {
  auto bytes = encode(ParentDone{ParentId(1), ParentState::Filled, ""});
  bytes[8] = 6;  // after the u64 id: one past ParentState::Rejected
  auto decoded = decode_body(RecordType::ParentDone, kRecordVersion, bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().message, "ParentDone: unknown ParentState value 6 at byte 8 in state");

  auto exec = encode(sample_execution());
  // side follows client_order_id, venue_order_id, exec_id, venue, instrument, exec_type and status.
  const std::size_t side_at = 8 + (2 + 11) + (2 + 7) + (2 + 12) + (2 + 8) + 2;
  exec[side_at] = 2;
  decoded = decode_body(RecordType::Execution, kRecordVersion, exec);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().message,
            "Execution: unknown Side value 2 at byte " + std::to_string(side_at) + " in side");
}

TEST(RecordEncoding, a_string_longer_than_its_id_capacity_fails) {
  auto bytes = encode(CancelOrder{ClientOrderId(1), VenueId("okx"), InstrumentId("SOL-USDT"), 11});
  bytes[8] = 32;  // venue's length: one over VenueId's 31
  bytes[9] = 0;
  auto decoded = decode_body(RecordType::CancelSent, kRecordVersion, bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().message, "CancelSent: venue length 32 exceeds its capacity 31 at byte 8");
}

TEST(RecordEncoding, a_vector_count_beyond_the_body_fails_without_reading_past_it) {
  ParentOrder p = sample_parent();
  p.params.clear();
  p.strategy.clear();
  auto bytes = encode(p);
  // params' count sits after id, account, instrument, side, qty, limit, algo.
  const std::size_t count_at = 8 + (2 + 9) + (2 + 8) + 1 + 8 + 8 + (2 + 4);
  ASSERT_EQ(bytes[count_at], 0);
  bytes[count_at] = 0xFF;
  bytes[count_at + 1] = 0xFF;
  auto decoded = decode_body(RecordType::ParentAccepted, kRecordVersion, bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find("ParentAccepted: body truncated"), std::string::npos)
      << decoded.error().message;
  EXPECT_NE(decoded.error().message.find("params"), std::string::npos) << decoded.error().message;
}

TEST(RecordEncoding, an_error_inside_a_vector_element_names_the_element) {
  ParentOrder p = sample_parent();
  auto bytes = encode(p);
  const std::size_t params_at = 8 + (2 + 9) + (2 + 8) + 1 + 8 + 8 + (2 + 4);
  // Element 0 is {"slices", "12"}: 2 + 6 + 2 + 2 bytes; cut inside element 1's key.
  const std::size_t cut = params_at + 2 + 12 + 3;
  auto decoded = decode_body(RecordType::ParentAccepted, kRecordVersion, std::span(bytes.data(), cut));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find("params[1].key"), std::string::npos) << decoded.error().message;
}

// ---- Property: random execution reports round-trip. ----

template <std::size_t N>
std::string random_text() {
  const auto size = *rc::gen::inRange<std::size_t>(0, N + 1);
  return *rc::gen::container<std::string>(size, rc::gen::arbitrary<char>());
}

template <class E>
E random_enum(int count) {
  return static_cast<E>(*rc::gen::inRange(0, count));
}

RC_GTEST_PROP(RecordEncodingProperty, random_execution_reports_round_trip, ()) {
  ExecutionReport r;
  r.client_order_id = ClientOrderId(*rc::gen::arbitrary<std::uint64_t>());
  r.venue_order_id = VenueOrderId(random_text<48>());
  r.exec_id = ExecId(random_text<48>());
  r.venue = VenueId(random_text<31>());
  r.instrument = InstrumentId(random_text<31>());
  r.exec_type = random_enum<ExecType>(11);
  r.status = random_enum<OrderStatus>(10);
  r.side = random_enum<Side>(2);
  r.order_price = px(*rc::gen::arbitrary<std::int64_t>());
  r.order_qty = qty(*rc::gen::arbitrary<std::int64_t>());
  r.last_qty = qty(*rc::gen::arbitrary<std::int64_t>());
  r.last_price = px(*rc::gen::arbitrary<std::int64_t>());
  r.cum_qty = qty(*rc::gen::arbitrary<std::int64_t>());
  r.leaves_qty = qty(*rc::gen::arbitrary<std::int64_t>());
  r.liquidity = random_enum<Liquidity>(3);
  r.fee = Fee{qty(*rc::gen::arbitrary<std::int64_t>()), FixedString<15>(random_text<15>())};
  r.reject_reason = random_enum<RejectReason>(12);
  r.text = FixedString<95>(random_text<95>());
  r.venue_ns = *rc::gen::arbitrary<std::int64_t>();
  r.received_ns = *rc::gen::arbitrary<std::int64_t>();

  const auto bytes = encode(r);
  auto decoded = decode_body(RecordType::Execution, kRecordVersion, bytes);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(diff(RecordBody(r), *decoded) == "");
}

// ---- The journal file. ----

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("tranche_journal_" + std::to_string(::getpid()) + "_" +
                                        info->test_suite_name() + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string file(const std::string& name = "journal.db") const { return (dir_ / name).string(); }

  std::unique_ptr<Journal> open_ok(JournalOptions options = {}) {
    auto journal = Journal::open(file(), options);
    EXPECT_TRUE(journal.ok()) << journal.error().message;
    if (!journal.ok()) return nullptr;
    return std::move(journal).value();
  }

  static std::vector<Record> read_all(const Journal& journal, std::uint64_t from_seq = 1) {
    std::vector<Record> records;
    Status status = journal.replay(
        [&records](const Record& r) {
          records.push_back(r);
          return Status{};
        },
        from_seq);
    EXPECT_TRUE(status.ok()) << status.message();
    return records;
  }

  // Runs SQL on the file directly, as another tool would.
  void sql(const std::string& statement) const {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file().c_str(), &db), SQLITE_OK);
    char* message = nullptr;
    const int rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &message);
    const std::string text = message != nullptr ? message : "";
    sqlite3_free(message);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << text;
  }

  fs::path dir_;
};

TEST_F(JournalTest, committed_records_survive_closing_and_reopening_in_order_with_seqs_from_one) {
  std::vector<RecordBody> bodies = sample_bodies();
  bodies.pop_back();  // the 70 kB one: its own test below
  for (std::uint64_t i = 0; i < 50; ++i) bodies.emplace_back(sample_execution(i));
  {
    auto journal = open_ok();
    ASSERT_TRUE(journal);
    EXPECT_EQ(journal->last_seq(), 0u);
    for (std::size_t i = 0; i < bodies.size(); ++i) {
      auto seq = journal->append(static_cast<TimestampNs>(1000 + i), bodies[i]);
      ASSERT_TRUE(seq.ok()) << seq.error().message;
      EXPECT_EQ(*seq, i + 1);
    }
    EXPECT_EQ(journal->pending(), bodies.size());
    EXPECT_EQ(journal->durable_seq(), 0u);
    ASSERT_TRUE(journal->commit().ok());
    EXPECT_EQ(journal->pending(), 0u);
    EXPECT_EQ(journal->durable_seq(), bodies.size());
    EXPECT_EQ(journal->path(), file());
  }
  auto journal = open_ok();
  ASSERT_TRUE(journal);
  EXPECT_EQ(journal->durable_seq(), bodies.size());
  EXPECT_EQ(journal->last_seq(), bodies.size());
  auto count = journal->count();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, bodies.size());
  const auto records = read_all(*journal);
  ASSERT_EQ(records.size(), bodies.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].seq, i + 1);
    EXPECT_EQ(records[i].ts_ns, static_cast<TimestampNs>(1000 + i));
    EXPECT_EQ(diff(bodies[i], records[i].body), "") << "seq " << i + 1;
  }
}

TEST_F(JournalTest,
       records_appended_but_not_committed_are_gone_after_reopening_and_seqs_continue_from_durable) {
  {
    auto journal = open_ok();
    ASSERT_TRUE(journal);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(journal->append(i, sample_execution(i)).ok());
    ASSERT_TRUE(journal->commit().ok());
    for (int i = 3; i < 5; ++i) ASSERT_TRUE(journal->append(i, sample_execution(i)).ok());
    EXPECT_EQ(journal->last_seq(), 5u);
    EXPECT_EQ(journal->pending(), 2u);
  }  // destroyed without commit: as a crash
  auto journal = open_ok();
  ASSERT_TRUE(journal);
  EXPECT_EQ(journal->durable_seq(), 3u);
  EXPECT_EQ(read_all(*journal).size(), 3u);
  auto seq = journal->append(7, RecoveryNote{"restarted"});
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(*seq, 4u);
  ASSERT_TRUE(journal->commit().ok());
  const auto records = read_all(*journal);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records.back().type(), RecordType::Recovery);
}

TEST_F(JournalTest, replay_and_count_see_only_committed_records_while_appends_are_pending) {
  auto journal = open_ok();
  ASSERT_TRUE(journal);
  ASSERT_TRUE(journal->append(1, sample_execution(1)).ok());
  ASSERT_TRUE(journal->commit().ok());
  ASSERT_TRUE(journal->append(2, sample_execution(2)).ok());
  EXPECT_EQ(read_all(*journal).size(), 1u);
  EXPECT_EQ(*journal->count(), 1u);
  ASSERT_TRUE(journal->commit().ok());
  EXPECT_EQ(read_all(*journal).size(), 2u);
  EXPECT_EQ(*journal->count(), 2u);
}

TEST_F(JournalTest, commit_with_nothing_pending_is_a_no_op) {
  auto journal = open_ok();
  ASSERT_TRUE(journal);
  EXPECT_TRUE(journal->commit().ok());
  EXPECT_TRUE(journal->commit().ok());
  EXPECT_EQ(journal->durable_seq(), 0u);
  EXPECT_EQ(*journal->count(), 0u);
}

TEST_F(JournalTest, replay_starts_at_the_seq_asked_for) {
  auto journal = open_ok();
  ASSERT_TRUE(journal);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(journal->append(i, sample_execution(i)).ok());
  ASSERT_TRUE(journal->commit().ok());
  const auto records = read_all(*journal, 8);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records.front().seq, 8u);
  EXPECT_TRUE(read_all(*journal, 11).empty());
}

TEST_F(JournalTest, replay_stops_at_the_first_error_the_callback_returns) {
  auto journal = open_ok();
  ASSERT_TRUE(journal);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(journal->append(i, sample_execution(i)).ok());
  ASSERT_TRUE(journal->commit().ok());
  int calls = 0;
  Status status = journal->replay([&calls](const Record& r) -> Status {
    ++calls;
    if (r.seq == 2) return make_error("stop here");
    return {};
  });
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "stop here");
  EXPECT_EQ(calls, 2);
}

TEST_F(JournalTest, a_body_over_the_page_size_round_trips) {
  const RecordBody big = sample_bodies().back();
  {
    auto journal = open_ok();
    ASSERT_TRUE(journal);
    ASSERT_TRUE(journal->append(5, big).ok());
    ASSERT_TRUE(journal->commit().ok());
  }
  auto journal = open_ok();
  ASSERT_TRUE(journal);
  const auto records = read_all(*journal);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(diff(big, records[0].body), "");
}

TEST_F(JournalTest, replay_reports_a_gap_in_the_seqs) {
  {
    auto journal = open_ok();
    ASSERT_TRUE(journal);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(journal->append(i, sample_execution(i)).ok());
    ASSERT_TRUE(journal->commit().ok());
  }
  sql("DELETE FROM journal WHERE seq = 2");
  auto journal = open_ok();
  ASSERT_TRUE(journal);
  std::vector<std::uint64_t> seen;
  Status status = journal->replay([&seen](const Record& r) {
    seen.push_back(r.seq);
    return Status{};
  });
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("seq 2 is missing"), std::string::npos) << status.message();
  EXPECT_EQ(seen, std::vector<std::uint64_t>{1});
}

TEST_F(JournalTest, replay_reports_records_missing_at_the_end) {
  auto journal = open_ok();
  ASSERT_TRUE(journal);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(journal->append(i, sample_execution(i)).ok());
  ASSERT_TRUE(journal->commit().ok());
  sql("DELETE FROM journal WHERE seq >= 3");
  Status status = journal->replay([](const Record&) { return Status{}; });
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("seqs 3..4 are missing"), std::string::npos) << status.message();
}

TEST_F(JournalTest, replay_names_the_seq_of_a_record_that_does_not_decode) {
  {
    auto journal = open_ok();
    ASSERT_TRUE(journal);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(journal->append(i, sample_execution(i)).ok());
    ASSERT_TRUE(journal->commit().ok());
  }
  sql("UPDATE journal SET body = x'0102' WHERE seq = 2");
  auto journal = open_ok();
  ASSERT_TRUE(journal);
  Status status = journal->replay([](const Record&) { return Status{}; });
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("seq 2: Execution: body truncated at byte 0"), std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find(file()), std::string::npos) << status.message();
}

TEST_F(JournalTest, a_text_file_is_not_a_journal_and_is_left_untouched) {
  const std::string text = "symbol,price\nETHUSDT,2683.8\n";
  { std::ofstream(file()) << text; }
  auto journal = Journal::open(file());
  ASSERT_FALSE(journal.ok());
  EXPECT_NE(journal.error().message.find(file()), std::string::npos) << journal.error().message;
  EXPECT_NE(journal.error().message.find("not a Tranche journal"), std::string::npos)
      << journal.error().message;
  std::ifstream in(file());
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), text);
}

TEST_F(JournalTest, a_foreign_sqlite_database_is_not_a_journal) {
  sql("CREATE TABLE trades(id INTEGER PRIMARY KEY, price REAL)");
  auto journal = Journal::open(file());
  ASSERT_FALSE(journal.ok());
  const std::string& message = journal.error().message;
  EXPECT_NE(message.find(file()), std::string::npos) << message;
  EXPECT_NE(message.find("not a Tranche journal"), std::string::npos) << message;
  EXPECT_NE(message.find("trades"), std::string::npos) << message;
}

TEST_F(JournalTest, a_database_with_another_format_in_its_meta_table_is_not_a_journal) {
  sql("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
      "INSERT INTO meta VALUES ('format', 'something-else')");
  auto journal = Journal::open(file());
  ASSERT_FALSE(journal.ok());
  EXPECT_NE(journal.error().message.find("its format is 'something-else'"), std::string::npos)
      << journal.error().message;
}

TEST_F(JournalTest, a_journal_of_a_newer_format_version_is_refused) {
  { ASSERT_TRUE(open_ok()); }
  sql("UPDATE meta SET value = '2' WHERE key = 'format_version'");
  auto journal = Journal::open(file());
  ASSERT_FALSE(journal.ok());
  EXPECT_NE(journal.error().message.find(file()), std::string::npos) << journal.error().message;
  EXPECT_NE(journal.error().message.find("format_version 2 is newer"), std::string::npos)
      << journal.error().message;
}

TEST_F(JournalTest, a_new_journal_records_its_format_and_uses_write_ahead_logging) {
  { ASSERT_TRUE(open_ok()); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file().c_str(), &db), SQLITE_OK);
  std::vector<std::string> rows;
  const auto collect = [](void* out, int columns, char** values, char**) {
    std::string row;
    for (int i = 0; i < columns; ++i) row += std::string(i ? "=" : "") + (values[i] ? values[i] : "NULL");
    static_cast<std::vector<std::string>*>(out)->push_back(row);
    return 0;
  };
  ASSERT_EQ(sqlite3_exec(db, "SELECT key, value FROM meta ORDER BY key", collect, &rows, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA journal_mode", collect, &rows, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(rows, (std::vector<std::string>{"format=tranche-journal", "format_version=1", "wal"}));
}

TEST_F(JournalTest, opening_a_missing_file_read_only_or_without_create_fails_and_creates_nothing) {
  for (JournalOptions options : {JournalOptions{.create = true, .read_only = true},
                                 JournalOptions{.create = false, .read_only = false}}) {
    auto journal = Journal::open(file(), options);
    ASSERT_FALSE(journal.ok());
    EXPECT_NE(journal.error().message.find(file()), std::string::npos) << journal.error().message;
    EXPECT_NE(journal.error().message.find("no such file"), std::string::npos) << journal.error().message;
    EXPECT_FALSE(fs::exists(file()));
  }
}

TEST_F(JournalTest, a_read_only_journal_replays_but_refuses_appends) {
  {
    auto journal = open_ok();
    ASSERT_TRUE(journal);
    ASSERT_TRUE(journal->append(1, sample_execution(1)).ok());
    ASSERT_TRUE(journal->commit().ok());
  }
  auto journal = open_ok({.create = false, .read_only = true});
  ASSERT_TRUE(journal);
  EXPECT_EQ(read_all(*journal).size(), 1u);
  auto seq = journal->append(2, sample_execution(2));
  ASSERT_FALSE(seq.ok());
  EXPECT_NE(seq.error().message.find("read-only"), std::string::npos) << seq.error().message;
}

// The defect a hostile user found: a second `tranche serve --journal same.db` started, then stopped at its
// first order ("UNIQUE constraint failed: journal.seq") with its client never answered.
TEST_F(JournalTest, a_second_writer_is_refused_at_open_with_the_holders_pid_and_a_reader_is_not) {
  auto first = open_ok();
  ASSERT_TRUE(first);
  auto second = Journal::open(file());
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("in use: process " + std::to_string(::getpid())), std::string::npos)
      << second.error().message;
  auto reader = Journal::open(file(), {.create = false, .read_only = true});
  EXPECT_TRUE(reader.ok()) << reader.error().message;
  first.reset();  // the lock goes with the writer
  auto third = Journal::open(file());
  EXPECT_TRUE(third.ok()) << third.error().message;
}

// What a writer that died left behind: the database file and its write-ahead log, copied as they are.
class WriteAheadLogTest : public JournalTest {
 protected:
  // Three commits of 20 records each, left in the log (the writer is still open when it is copied).
  void leave_a_log() {
    auto journal = open_ok();
    ASSERT_TRUE(journal);
    for (int commit = 0; commit < 3; ++commit) {
      for (int i = 0; i < 20; ++i) ASSERT_TRUE(journal->append(commit * 20 + i, sample_execution(i)).ok());
      ASSERT_TRUE(journal->commit().ok());
    }
    for (const char* suffix : {"", "-wal"}) fs::copy_file(file() + suffix, file("copy.db") + suffix);
    ASSERT_GT(fs::file_size(file("copy.db") + "-wal"), 32u);
  }
  void flip_byte(std::uintmax_t at) {
    std::fstream wal(file("copy.db") + "-wal", std::ios::in | std::ios::out | std::ios::binary);
    wal.seekg(static_cast<std::streamoff>(at));
    char c = 0;
    wal.get(c);
    wal.seekp(static_cast<std::streamoff>(at));
    wal.put(static_cast<char>(c ^ 0x5a));
  }
  Result<std::unique_ptr<Journal>> open_copy(bool read_only) {
    return Journal::open(file("copy.db"), {.create = false, .read_only = read_only});
  }
};

TEST_F(WriteAheadLogTest, an_intact_log_copied_from_a_live_writer_replays_every_commit) {
  leave_a_log();
  auto copy = open_copy(true);
  ASSERT_TRUE(copy.ok()) << copy.error().message;
  EXPECT_EQ(read_all(**copy).size(), 60u);
}

// The defect a hostile user found: a damaged WAL made `journal verify` report "ok" on the records before the
// damage, silently dropping the tail.
TEST_F(WriteAheadLogTest, a_damaged_frame_with_commits_after_it_is_reported_for_readers_and_writers) {
  leave_a_log();
  flip_byte(32 + 24 + 100);  // inside the first frame's page
  for (bool read_only : {true, false}) {
    auto copy = open_copy(read_only);
    ASSERT_FALSE(copy.ok()) << "opened " << (read_only ? "read-only" : "for writing") << " with "
                            << read_all(**copy).size() << " records";
    EXPECT_NE(copy.error().message.find("write-ahead log"), std::string::npos) << copy.error().message;
    EXPECT_NE(copy.error().message.find("damaged"), std::string::npos) << copy.error().message;
  }
}

TEST_F(WriteAheadLogTest, a_torn_last_frame_is_a_commit_that_never_happened_and_opens) {
  leave_a_log();
  const auto size = fs::file_size(file("copy.db") + "-wal");
  fs::resize_file(file("copy.db") + "-wal", size - 100);  // a crash in the middle of the last write
  auto copy = open_copy(true);
  ASSERT_TRUE(copy.ok()) << copy.error().message;
  EXPECT_EQ(read_all(**copy).size(), 40u);
}

TEST_F(WriteAheadLogTest, a_damaged_header_that_would_hide_the_whole_log_is_reported) {
  leave_a_log();
  flip_byte(17);  // the first salt: SQLite would ignore every frame
  auto copy = open_copy(true);
  ASSERT_FALSE(copy.ok());
  EXPECT_NE(copy.error().message.find("damaged"), std::string::npos) << copy.error().message;
}

// The defect a hostile user found: `journal verify` could not check a read-only copy ("attempt to write a
// readonly database": SQLite could not make the shared-memory file beside it).
TEST_F(WriteAheadLogTest, a_copy_in_a_folder_nobody_may_write_reads_through_a_private_copy_log_and_all) {
  leave_a_log();
  const fs::path locked = dir_ / "locked";
  fs::create_directories(locked);
  for (const char* suffix : {"", "-wal"})
    fs::copy_file(file("copy.db") + suffix, (locked / "copy.db").string() + suffix);
  fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                              fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  for (const char* suffix : {"", "-wal"})
    fs::permissions((locked / "copy.db").string() + suffix,
                    fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  // Root writes anywhere: the read is made as nobody, as a user without rights to the folder would.
  const bool as_root = ::geteuid() == 0;
  if (as_root) {
    fs::permissions(dir_, fs::perms::others_exec, fs::perm_options::add);
    ASSERT_EQ(::seteuid(65534), 0);
  }
  std::size_t records = 0;
  std::string error;
  {
    auto copy = Journal::open((locked / "copy.db").string(), {.create = false, .read_only = true});
    if (copy.ok())
      records = read_all(**copy).size();
    else
      error = copy.error().message;
  }
  if (as_root) ASSERT_EQ(::seteuid(0), 0);
  fs::permissions(locked, fs::perms::owner_all);
  EXPECT_EQ(error, "");
  EXPECT_EQ(records, 60u);
  EXPECT_FALSE(fs::exists((locked / "copy.db").string() + "-shm"));
}

// ---- The writer thread (Journal::start_writer). ----

TEST_F(JournalTest, with_its_writer_thread_commits_become_durable_in_order_and_replay_reads_them) {
  std::atomic<int> woken = 0;
  {
    auto journal = open_ok();
    ASSERT_TRUE(journal);
    ASSERT_TRUE(journal->append(1, sample_execution(0)).ok());
    ASSERT_TRUE(journal->commit().ok());  // before the thread: written at once
    ASSERT_TRUE(journal->start_writer([&woken] { ++woken; }).ok());
    EXPECT_TRUE(journal->has_writer());
    for (std::uint64_t batch = 0; batch < 200; ++batch) {
      for (std::uint64_t i = 0; i < 5; ++i)
        ASSERT_TRUE(
            journal->append(static_cast<TimestampNs>(10 + batch * 5 + i), sample_execution(batch * 5 + i))
                .ok());
      ASSERT_TRUE(journal->commit().ok());
      EXPECT_LE(journal->durable_seq(), journal->last_seq());  // never ahead of what was appended
    }
    ASSERT_TRUE(journal->wait_durable().ok());
    EXPECT_EQ(journal->durable_seq(), 1001u);
    EXPECT_EQ(journal->pending(), 0u);
    EXPECT_GT(woken.load(), 0);
    // The owner's reads see what is durable, through their own connection.
    const auto records = read_all(*journal);
    ASSERT_EQ(records.size(), 1001u);
    for (std::size_t i = 0; i < records.size(); ++i) ASSERT_EQ(records[i].seq, i + 1);
    EXPECT_EQ(journal->count().value(), 1001u);
    // Fewer transactions than hand-offs would show group commit; at least one per batch it took.
    EXPECT_GE(journal->commit_latency().count(), 1u);
    EXPECT_LE(journal->commit_latency().count(), 201u);
  }
  auto reopened = open_ok();
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->durable_seq(), 1001u);
}

TEST_F(JournalTest,
       closing_with_its_writer_thread_writes_what_was_committed_and_drops_what_was_only_appended) {
  {
    auto journal = open_ok();
    ASSERT_TRUE(journal);
    ASSERT_TRUE(journal->start_writer().ok());
    for (std::uint64_t i = 0; i < 300; ++i) ASSERT_TRUE(journal->append(1, sample_execution(i)).ok());
    ASSERT_TRUE(journal->commit().ok());  // handed, and closed at once
    for (std::uint64_t i = 0; i < 7; ++i) ASSERT_TRUE(journal->append(2, sample_execution(300 + i)).ok());
  }
  auto reopened = open_ok();
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->durable_seq(), 300u);
  EXPECT_EQ(read_all(*reopened).size(), 300u);
}

TEST_F(JournalTest, a_read_only_journal_has_no_writer_thread) {
  {
    auto journal = open_ok();
    ASSERT_TRUE(journal);
  }
  JournalOptions read_only;
  read_only.read_only = true;
  auto journal = open_ok(read_only);
  ASSERT_TRUE(journal);
  const Status started = journal->start_writer();
  EXPECT_FALSE(started.ok());
  EXPECT_NE(started.message().find("read-only"), std::string::npos) << started.message();
}

}  // namespace
}  // namespace tranche::oms
