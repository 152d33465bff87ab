#include "oms/records.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <concepts>
#include <cstring>
#include <iterator>
#include <limits>
#include <string_view>
#include <type_traits>
#include <utility>

namespace tranche::oms {

const char* to_string(RecordType type) {
  switch (type) {
    case RecordType::ParentAccepted:
      return "ParentAccepted";
    case RecordType::ParentRejected:
      return "ParentRejected";
    case RecordType::ParentCancelRequested:
      return "ParentCancelRequested";
    case RecordType::ParentAmended:
      return "ParentAmended";
    case RecordType::ParentDone:
      return "ParentDone";
    case RecordType::ChildSent:
      return "ChildSent";
    case RecordType::CancelSent:
      return "CancelSent";
    case RecordType::AmendSent:
      return "AmendSent";
    case RecordType::StatusQuerySent:
      return "StatusQuerySent";
    case RecordType::Execution:
      return "Execution";
    case RecordType::VenueStatus:
      return "VenueStatus";
    case RecordType::AlgoState:
      return "AlgoState";
    case RecordType::RiskDenial:
      return "RiskDenial";
    case RecordType::Recovery:
      return "Recovery";
    case RecordType::KillSwitch:
      return "KillSwitch";
  }
  return "?";
}

const char* to_string(KillScope scope) {
  switch (scope) {
    case KillScope::Global:
      return "global";
    case KillScope::Account:
      return "account";
    case KillScope::Venue:
      return "venue";
  }
  return "?";
}

const char* to_string(ParentState state) {
  switch (state) {
    case ParentState::Working:
      return "working";
    case ParentState::PendingCancel:
      return "pending_cancel";
    case ParentState::Filled:
      return "filled";
    case ParentState::Canceled:
      return "canceled";
    case ParentState::Expired:
      return "expired";
    case ParentState::Rejected:
      return "rejected";
  }
  return "?";
}

namespace {

// The record type of each RecordBody alternative, in variant order: the one table both directions use.
constexpr RecordType kBodyTypes[] = {
    RecordType::ParentAccepted, RecordType::ParentRejected, RecordType::ParentCancelRequested,
    RecordType::ParentAmended,  RecordType::ParentDone,     RecordType::ChildSent,
    RecordType::CancelSent,     RecordType::AmendSent,      RecordType::StatusQuerySent,
    RecordType::Execution,      RecordType::VenueStatus,    RecordType::AlgoState,
    RecordType::RiskDenial,     RecordType::Recovery,       RecordType::KillSwitch,
};
static_assert(std::size(kBodyTypes) == std::variant_size_v<RecordBody>,
              "one record type per body alternative");

// Every enum a record carries: its name for errors and its last enumerator. All are contiguous from 0, so a
// decoded value is valid when it is at most `last`. Adding an enumerator means updating `last` here.
template <class E>
struct EnumInfo;
template <>
struct EnumInfo<Side> {
  static constexpr const char* name = "Side";
  static constexpr Side last = Side::Sell;
};
template <>
struct EnumInfo<OrderType> {
  static constexpr const char* name = "OrderType";
  static constexpr OrderType last = OrderType::Market;
};
template <>
struct EnumInfo<TimeInForce> {
  static constexpr const char* name = "TimeInForce";
  static constexpr TimeInForce last = TimeInForce::PostOnly;
};
template <>
struct EnumInfo<OrderStatus> {
  static constexpr const char* name = "OrderStatus";
  static constexpr OrderStatus last = OrderStatus::Expired;
};
template <>
struct EnumInfo<ExecType> {
  static constexpr const char* name = "ExecType";
  static constexpr ExecType last = ExecType::OrderStatus;
};
template <>
struct EnumInfo<Liquidity> {
  static constexpr const char* name = "Liquidity";
  static constexpr Liquidity last = Liquidity::Taker;
};
template <>
struct EnumInfo<RejectReason> {
  static constexpr const char* name = "RejectReason";
  static constexpr RejectReason last = RejectReason::Other;
};
template <>
struct EnumInfo<VenueState> {
  static constexpr const char* name = "VenueState";
  static constexpr VenueState last = VenueState::Disconnected;
};
template <>
struct EnumInfo<ParentState> {
  static constexpr const char* name = "ParentState";
  static constexpr ParentState last = ParentState::Rejected;
};

template <>
struct EnumInfo<KillScope> {
  static constexpr const char* name = "KillScope";
  static constexpr KillScope last = KillScope::Venue;
};
template <>
struct EnumInfo<KillAction> {
  static constexpr const char* name = "KillAction";
  static constexpr KillAction last = KillAction::Release;
};

// `T` is `U` or `const U`: one field list serves the encoder (const) and the decoder (mutable).
template <class T, class U>
concept Is = std::same_as<std::remove_const_t<T>, U>;

// ---------------------------------------------------------------------------------------------------------------
// The layouts. Each record's fields in declaration order, written once and walked by both the Writer and the
// Reader, so the two cannot drift apart.
//
// Versioning (SBE's sinceVersion): every field below is in layout version 1. A later version appends its new
// fields after the existing ones, gated on the version being read or written:
//     if (io.version() >= 2) io(v.new_field, "new_field");
// The Writer always writes kRecordVersion; the Reader reads exactly the fields of the version the record was
// written with and leaves newer fields at their defaults, so journals written by older builds stay readable.
// A gated field inside a nested struct (ParentOrder inside ParentRejected) is fine too: both directions walk
// the same gates in the same order. Never reorder, retype or remove a field: add a version instead.
// ---------------------------------------------------------------------------------------------------------------

template <class IO, Is<AlgoParam> T>
void fields(IO& io, T& v) {
  io(v.key, "key");
  io(v.value, "value");
}

template <class IO, Is<Fee> T>
void fields(IO& io, T& v) {
  io(v.amount, "amount");
  io(v.asset, "asset");
}

template <class IO, Is<ParentOrder> T>
void fields(IO& io, T& v) {
  io(v.id, "id");
  io(v.account, "account");
  io(v.instrument, "instrument");
  io(v.side, "side");
  io(v.qty, "qty");
  io(v.limit, "limit");
  io(v.algo, "algo");
  io(v.params, "params");
  io(v.strategy, "strategy");
  io(v.time_in_force, "time_in_force");
  io(v.start_ns, "start_ns");
  io(v.end_ns, "end_ns");
}

template <class IO, Is<ParentRejected> T>
void fields(IO& io, T& v) {
  io(v.parent, "parent");
  io(v.reason_code, "reason_code");
  io(v.text, "text");
}

template <class IO, Is<ParentCancelRequest> T>
void fields(IO& io, T& v) {
  io(v.id, "id");
  io(v.reason, "reason");
}

template <class IO, Is<ParentAmend> T>
void fields(IO& io, T& v) {
  io(v.id, "id");
  io(v.new_qty, "new_qty");
  io(v.new_limit, "new_limit");
  io(v.new_end_ns, "new_end_ns");
}

template <class IO, Is<ParentDone> T>
void fields(IO& io, T& v) {
  io(v.id, "id");
  io(v.state, "state");
  io(v.text, "text");
}

template <class IO, Is<NewOrder> T>
void fields(IO& io, T& v) {
  io(v.client_order_id, "client_order_id");
  io(v.parent_id, "parent_id");
  io(v.venue, "venue");
  io(v.instrument, "instrument");
  io(v.side, "side");
  io(v.type, "type");
  io(v.time_in_force, "time_in_force");
  io(v.price, "price");
  io(v.qty, "qty");
  io(v.sent_ns, "sent_ns");
}

template <class IO, Is<CancelOrder> T>
void fields(IO& io, T& v) {
  io(v.client_order_id, "client_order_id");
  io(v.venue, "venue");
  io(v.instrument, "instrument");
  io(v.sent_ns, "sent_ns");
}

template <class IO, Is<AmendOrder> T>
void fields(IO& io, T& v) {
  io(v.client_order_id, "client_order_id");
  io(v.venue, "venue");
  io(v.instrument, "instrument");
  io(v.new_price, "new_price");
  io(v.new_qty, "new_qty");
  io(v.sent_ns, "sent_ns");
}

template <class IO, Is<OrderStatusQuery> T>
void fields(IO& io, T& v) {
  io(v.client_order_id, "client_order_id");
  io(v.venue, "venue");
  io(v.instrument, "instrument");
  io(v.sent_ns, "sent_ns");
}

template <class IO, Is<ExecutionReport> T>
void fields(IO& io, T& v) {
  io(v.client_order_id, "client_order_id");
  io(v.venue_order_id, "venue_order_id");
  io(v.exec_id, "exec_id");
  io(v.venue, "venue");
  io(v.instrument, "instrument");
  io(v.exec_type, "exec_type");
  io(v.status, "status");
  io(v.side, "side");
  io(v.order_price, "order_price");
  io(v.order_qty, "order_qty");
  io(v.last_qty, "last_qty");
  io(v.last_price, "last_price");
  io(v.cum_qty, "cum_qty");
  io(v.leaves_qty, "leaves_qty");
  io(v.liquidity, "liquidity");
  io(v.fee, "fee");
  io(v.reject_reason, "reject_reason");
  io(v.text, "text");
  io(v.venue_ns, "venue_ns");
  io(v.received_ns, "received_ns");
}

template <class IO, Is<VenueStatusReport> T>
void fields(IO& io, T& v) {
  io(v.venue, "venue");
  io(v.state, "state");
  io(v.text, "text");
  io(v.venue_ns, "venue_ns");
  io(v.received_ns, "received_ns");
}

template <class IO, Is<AlgoStateChange> T>
void fields(IO& io, T& v) {
  io(v.id, "id");
  io(v.state, "state");
  io(v.detail, "detail");
}

template <class IO, Is<RiskDenial> T>
void fields(IO& io, T& v) {
  io(v.parent, "parent");
  io(v.child, "child");
  io(v.venue, "venue");
  io(v.reason_code, "reason_code");
  io(v.text, "text");
}

template <class IO, Is<RecoveryNote> T>
void fields(IO& io, T& v) {
  io(v.text, "text");
}

template <class IO, Is<KillSwitchChange> T>
void fields(IO& io, T& v) {
  io(v.scope, "scope");
  io(v.target, "target");
  io(v.action, "action");
  io(v.reason, "reason");
}

// Whether `fields(io, T&)` exists: a nested struct rather than a primitive.
template <class IO, class T>
concept HasFields = requires(IO& io, T& v) {
  fields(io, v);
};

inline constexpr std::size_t kMaxLength = std::numeric_limits<std::uint16_t>::max();

template <std::unsigned_integral U>
U to_little_endian(U v) {
  if constexpr (std::endian::native == std::endian::big && sizeof(U) > 1) {
    U swapped = 0;
    for (std::size_t i = 0; i < sizeof(U); ++i)
      swapped |= static_cast<U>((v >> (8 * i)) & 0xFF) << (8 * (sizeof(U) - 1 - i));
    return swapped;
  } else {
    return v;
  }
}

// Appends fields to the output vector; allocates nothing else.
class Writer {
 public:
  explicit Writer(std::vector<std::uint8_t>& out) : out_(out) {}
  static constexpr std::uint16_t version() { return kRecordVersion; }

  template <class Tag>
  void operator()(const StrongId<Tag, std::uint64_t>& id, const char*) {
    put(id.value());
  }
  template <class Tag>
  void operator()(const Fixed<Tag>& value, const char*) {
    put(static_cast<std::uint64_t>(value.raw()));
  }
  void operator()(std::int64_t value, const char*) { put(static_cast<std::uint64_t>(value)); }
  template <class E>
  requires std::is_enum_v<E>
  void operator()(E value, const char*) { put(static_cast<std::underlying_type_t<E>>(value)); }
  template <class Tag, std::size_t N>
  void operator()(const StringId<Tag, N>& id, const char*) {
    bytes(id.view());
  }
  template <std::size_t N>
  void operator()(const FixedString<N>& text, const char*) {
    bytes(text.view());
  }
  void operator()(const std::string& text, const char*) { bytes(text); }
  template <class T>
  void operator()(const std::vector<T>& items, const char*) {
    // A count beyond u16 is a programming error (no record carries that many); release builds keep the first
    // 65535 so the record stays decodable.
    assert(items.size() <= kMaxLength && "record vector longer than 65535 elements");
    const std::size_t count = std::min(items.size(), kMaxLength);
    put(static_cast<std::uint16_t>(count));
    for (std::size_t i = 0; i < count; ++i) fields(*this, items[i]);
  }
  template <class T>
  requires HasFields<Writer, const T>
  void operator()(const T& nested, const char*) { fields(*this, nested); }

 private:
  template <std::unsigned_integral U>
  void put(U v) {
    v = to_little_endian(v);
    const std::size_t at = out_.size();
    out_.resize(at + sizeof(U));
    std::memcpy(out_.data() + at, &v, sizeof(U));
  }
  void bytes(std::string_view text) {
    // Strings over 65535 bytes are a programming error (ids are inline and short, texts are reasons and
    // notes); release builds keep the first 65535 bytes so the record stays decodable.
    assert(text.size() <= kMaxLength && "record string longer than 65535 bytes");
    const std::size_t n = std::min(text.size(), kMaxLength);
    put(static_cast<std::uint16_t>(n));
    if (n == 0) return;
    const std::size_t at = out_.size();
    out_.resize(at + n);
    std::memcpy(out_.data() + at, text.data(), n);
  }

  std::vector<std::uint8_t>& out_;
};

// Reads fields from the span, never past its end. The first problem stops it: every later read is a no-op and
// the problem is kept (as plain values, nothing allocated) until message() formats it.
class Reader {
 public:
  Reader(std::span<const std::uint8_t> bytes, std::uint16_t version) : bytes_(bytes), version_(version) {}
  std::uint16_t version() const { return version_; }
  bool ok() const { return problem_ == Problem::None; }

  template <class Tag>
  void operator()(StrongId<Tag, std::uint64_t>& id, const char* name) {
    std::uint64_t v = 0;
    if (get(v, name)) id = StrongId<Tag, std::uint64_t>(v);
  }
  template <class Tag>
  void operator()(Fixed<Tag>& value, const char* name) {
    std::uint64_t v = 0;
    if (get(v, name)) value = Fixed<Tag>::from_raw(static_cast<std::int64_t>(v));
  }
  void operator()(std::int64_t& value, const char* name) {
    std::uint64_t v = 0;
    if (get(v, name)) value = static_cast<std::int64_t>(v);
  }
  template <class E>
  requires std::is_enum_v<E>
  void operator()(E& value, const char* name) {
    using U = std::underlying_type_t<E>;
    const std::size_t at = pos_;
    U raw = 0;
    if (!get(raw, name)) return;
    if (raw > static_cast<U>(EnumInfo<E>::last)) {
      fail(Problem::BadEnum, at, name, raw, EnumInfo<E>::name);
      return;
    }
    value = static_cast<E>(raw);
  }
  template <class Tag, std::size_t N>
  void operator()(StringId<Tag, N>& id, const char* name) {
    std::string_view text;
    if (bytes(text, N, name)) id = StringId<Tag, N>(text);
  }
  template <std::size_t N>
  void operator()(FixedString<N>& value, const char* name) {
    std::string_view text;
    if (bytes(text, N, name)) value = FixedString<N>(text);
  }
  void operator()(std::string& value, const char* name) {
    std::string_view text;
    if (bytes(text, kMaxLength, name)) value.assign(text);
  }
  template <class T>
  void operator()(std::vector<T>& items, const char* name) {
    std::uint16_t count = 0;
    if (!get(count, name)) return;
    // Every element takes at least one byte, so a count beyond what is left is malformed: checked before
    // reserving, so a corrupt count cannot make the decoder allocate for elements that are not there.
    if (count > bytes_.size() - pos_) {
      fail(Problem::Truncated, pos_, name, count);
      return;
    }
    items.clear();
    items.reserve(count);
    const char* outer = outer_;
    outer_ = name;
    for (std::size_t i = 0; i < count && ok(); ++i) {
      index_ = static_cast<std::int64_t>(i);
      fields(*this, items.emplace_back());
    }
    index_ = -1;
    outer_ = outer;
  }
  template <class T>
  requires HasFields<Reader, T>
  void operator()(T& nested, const char* name) {
    const char* outer = outer_;
    outer_ = name;
    fields(*this, nested);
    outer_ = outer;
  }

  // After the last field: anything left over is an error too.
  void finish() {
    if (ok() && pos_ != bytes_.size()) fail(Problem::Trailing, pos_, nullptr, bytes_.size() - pos_);
  }

  std::string message(RecordType type) const {
    std::string m = to_string(type);
    m += ": ";
    const std::string where = " at byte " + std::to_string(at_);
    switch (problem_) {
      case Problem::None:
        m += "ok";
        break;
      case Problem::Truncated:
        m += "body truncated" + where + " (reading " + field() + ", body is " +
             std::to_string(bytes_.size()) + " bytes)";
        break;
      case Problem::BadEnum:
        m += "unknown " + std::string(enum_name_) + " value " + std::to_string(value_) + where + " in " +
             field();
        break;
      case Problem::TooLong:
        m += field() + " length " + std::to_string(value_) + " exceeds its capacity " +
             std::to_string(limit_) + where;
        break;
      case Problem::Trailing:
        m += std::to_string(value_) + " trailing bytes after the last field, which ends" + where;
        break;
    }
    return m;
  }

 private:
  enum class Problem : std::uint8_t { None, Truncated, BadEnum, TooLong, Trailing };

  template <std::unsigned_integral U>
  bool get(U& v, const char* name) {
    if (!ok()) return false;
    if (bytes_.size() - pos_ < sizeof(U)) {
      fail(Problem::Truncated, pos_, name, 0);
      return false;
    }
    std::memcpy(&v, bytes_.data() + pos_, sizeof(U));
    v = to_little_endian(v);
    pos_ += sizeof(U);
    return true;
  }
  bool bytes(std::string_view& text, std::size_t capacity, const char* name) {
    const std::size_t at = pos_;
    std::uint16_t n = 0;
    if (!get(n, name)) return false;
    if (n > capacity) {
      fail(Problem::TooLong, at, name, n);
      limit_ = capacity;  // fail() above recorded this problem: nothing had failed before (get() succeeded)
      return false;
    }
    if (bytes_.size() - pos_ < n) {
      fail(Problem::Truncated, pos_, name, n);
      return false;
    }
    text = std::string_view(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
    pos_ += n;
    return true;
  }
  void fail(Problem problem, std::size_t at, const char* name, std::uint64_t value,
            const char* enum_name = nullptr) {
    if (!ok()) return;
    problem_ = problem;
    at_ = at;
    name_ = name;
    failed_outer_ = outer_;
    failed_index_ = index_;
    value_ = value;
    enum_name_ = enum_name;
  }
  std::string field() const {
    std::string f;
    if (failed_outer_ != nullptr) {
      f += failed_outer_;
      if (failed_index_ >= 0) f += "[" + std::to_string(failed_index_) + "]";
      f += ".";
    }
    f += name_ != nullptr ? name_ : "?";
    return f;
  }

  std::span<const std::uint8_t> bytes_;
  std::uint16_t version_;
  std::size_t pos_ = 0;
  const char* outer_ = nullptr;  // the enclosing struct or vector being read, for error messages
  std::int64_t index_ = -1;      // the element of outer_ being read, -1 when outer_ is not a vector

  Problem problem_ = Problem::None;
  std::size_t at_ = 0;
  const char* name_ = nullptr;
  const char* failed_outer_ = nullptr;
  std::int64_t failed_index_ = -1;
  std::uint64_t value_ = 0;
  std::size_t limit_ = 0;
  const char* enum_name_ = nullptr;
};

template <class T>
Result<RecordBody> decode_as(RecordType type, std::uint16_t version, std::span<const std::uint8_t> bytes) {
  Result<RecordBody> out{RecordBody(std::in_place_type<T>)};
  Reader reader(bytes, version);
  fields(reader, std::get<T>(out.value()));
  reader.finish();
  if (!reader.ok()) return make_error(reader.message(type));
  return out;
}

template <std::size_t... I>
Result<RecordBody> decode_dispatch(RecordType type, std::uint16_t version,
                                   std::span<const std::uint8_t> bytes, std::index_sequence<I...>) {
  Result<RecordBody> out = make_error("unknown record type " + std::to_string(static_cast<unsigned>(type)));
  // Exactly one alternative matches a known type (kBodyTypes has no duplicates).
  (void)((kBodyTypes[I] == type
              ? (out = decode_as<std::variant_alternative_t<I, RecordBody>>(type, version, bytes), true)
              : false) ||
         ...);
  return out;
}

}  // namespace

RecordType record_type(const RecordBody& body) {
  return kBodyTypes[body.index()];
}

void encode_body(const Record& record, std::vector<std::uint8_t>& out) {
  encode_body(record.body, out);
}

void encode_body(const RecordBody& body, std::vector<std::uint8_t>& out) {
  Writer writer(out);
  std::visit([&writer](const auto& b) { fields(writer, b); }, body);
}

Result<RecordBody> decode_body(RecordType type, std::uint16_t version, std::span<const std::uint8_t> bytes) {
  if (version < 1 || version > kRecordVersion) {
    return make_error(std::string(to_string(type)) + ": layout version " + std::to_string(version) +
                      " is not one this build reads (1.." + std::to_string(kRecordVersion) + ")");
  }
  return decode_dispatch(type, version, bytes, std::make_index_sequence<std::variant_size_v<RecordBody>>{});
}

}  // namespace tranche::oms
