#pragma once
// The journal's records: every command and event the OMS acts on, in the order it acted. The journal is the
// truth and the OMS state a projection of it: start-up and crash recovery replay the same records through the
// same code. Records are immutable and versioned (a record carries the layout version it was written with,
// and the decoder reads every version up to kRecordVersion), so old journals stay readable.
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "core/fixed_point.hpp"
#include "core/ids.hpp"
#include "core/order.hpp"
#include "core/result.hpp"
#include "core/side.hpp"
#include "core/time.hpp"

namespace tranche::oms {

enum class RecordType : std::uint16_t {
  ParentAccepted = 1,
  ParentRejected = 2,
  ParentCancelRequested = 3,
  ParentAmended = 4,
  ParentDone = 5,
  ChildSent = 10,
  CancelSent = 11,
  AmendSent = 12,
  StatusQuerySent = 13,
  Execution = 20,
  VenueStatus = 21,
  AlgoState = 30,
  RiskDenial = 31,
  KillSwitch = 32,
  Recovery = 40,
};
const char* to_string(RecordType type);

// The layout version this build writes.
inline constexpr std::uint16_t kRecordVersion = 1;

struct AlgoParam {
  std::string key;
  std::string value;
};

enum class ParentState : std::uint8_t {
  Working,        // accepted, executing
  PendingCancel,  // cancel requested: children being canceled
  Filled,         // executed in full
  Canceled,       // canceled with what it had executed
  Expired,        // its end time came, or its market closed, with what it had executed
  Rejected,       // never accepted
};
const char* to_string(ParentState state);
inline bool is_final(ParentState s) {
  return s == ParentState::Filled || s == ParentState::Canceled || s == ParentState::Expired ||
         s == ParentState::Rejected;
}

// A parent order as the strategy gave it. Quantities are in the instrument's base asset.
struct ParentOrder {
  ParentId id;
  AccountId account;
  InstrumentId instrument;
  Side side = Side::Buy;
  Qty qty;
  Price limit = Price::unset();  // unset: no limit
  std::string algo;              // "market", "twap", ...
  std::vector<AlgoParam> params;
  std::string strategy;  // the owner's tag
  TimeInForce time_in_force = TimeInForce::GoodTillCancel;
  TimestampNs start_ns = 0;
  TimestampNs end_ns = 0;  // 0: none
};

struct ParentRejected {
  ParentOrder parent;
  std::string reason_code;  // stable, e.g. "qty_not_positive", "risk_max_notional"
  std::string text;
};

struct ParentCancelRequest {
  ParentId id;
  std::string reason;
};

struct ParentAmend {
  ParentId id;
  Qty new_qty = Qty::unset();
  Price new_limit = Price::unset();
  TimestampNs new_end_ns = 0;  // 0: unchanged
};

struct ParentDone {
  ParentId id;
  ParentState state = ParentState::Filled;
  std::string text;
};

struct AlgoStateChange {
  ParentId id;
  std::string state;  // "started", "paused", ...
  std::string detail;
};

struct RiskDenial {
  ParentId parent;
  ClientOrderId child;  // 0 when the parent itself was denied
  VenueId venue;
  std::string reason_code;
  std::string text;
};

// The kill switch: engaged per account, per venue or globally; it cancels every open order in its scope and
// blocks new ones until an explicit release.
enum class KillScope : std::uint8_t { Global, Account, Venue };
enum class KillAction : std::uint8_t { Engage, Release };
const char* to_string(KillScope scope);
struct KillSwitchChange {
  KillScope scope = KillScope::Global;
  std::string target;  // the account or venue id; empty for global
  KillAction action = KillAction::Engage;
  std::string reason;
};

struct RecoveryNote {
  std::string text;
};

using RecordBody =
    std::variant<ParentOrder, ParentRejected, ParentCancelRequest, ParentAmend, ParentDone, NewOrder,
                 CancelOrder, AmendOrder, OrderStatusQuery, ExecutionReport, VenueStatusReport,
                 AlgoStateChange, RiskDenial, RecoveryNote, KillSwitchChange>;

// The record type of each body alternative, in variant order.
RecordType record_type(const RecordBody& body);

struct Record {
  std::uint64_t seq = 0;  // assigned by the journal, from 1, without gaps
  TimestampNs ts_ns = 0;  // when it happened on the run's clock (simulation: the receive clock)
  RecordBody body;
  RecordType type() const { return record_type(body); }
};

// Binary layout (Simple Binary Encoding in spirit): little-endian fixed-width fields in declaration order,
// strings as a u16 length and bytes, no padding. Appends the body of `record` to `out` (type, version and
// ts_ns are stored beside it by the journal).
void encode_body(const Record& record, std::vector<std::uint8_t>& out);
// The body alone, appended to `out` (what is already there is kept).
void encode_body(const RecordBody& body, std::vector<std::uint8_t>& out);
// Decodes a body written with layout `version` (1..kRecordVersion). Errors name what was malformed.
Result<RecordBody> decode_body(RecordType type, std::uint16_t version, std::span<const std::uint8_t> bytes);

}  // namespace tranche::oms
