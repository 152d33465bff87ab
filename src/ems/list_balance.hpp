#pragma once
// Lists: parents executed as one (a basket, a pair). Each leg is a parent of its own, with its own algo; what
// makes them a list are its terms, carried in every leg's parameters (so they are journaled with it and a
// restart reads them back):
//   list=ID                  the list's id, the same for every leg
//   list_legs=N              how many legs it has (a leg not yet known counts as nothing executed)
//   list_max_imbalance=S     a pair (two legs): neither leg's executed share of its quantity may pass the
//                            other's by more than S (0 < S <= 1)
//   list_cash_limit=Q        a basket: the buy legs' executed value may not pass the sell legs' by more than
//                            Q, nor the other way (quote currency; each leg valued at its reference price)
// The kernel keeps one ListBalance a list. A leg's intent is clipped where it is submitted so that what the
// leg has committed (executed, plus what its open intents and children may still fill) never passes what the
// other side has executed by more than the limit: an executed imbalance beyond the limit cannot happen,
// whatever the algos do and whenever the venues fill. The leading leg is slowed by that clip; a pair's
// lagging leg is sped up by a catch-up the kernel sends for it once the other leads by more than half the
// limit.
//
// A leg's reference price is the benchmark mid when it started, journaled with it: cash at reference prices
// does not move with the market, so a limit on it is a limit on how far the list leans, and the real cash
// (executed notional) differs only by the legs' own slippage, reported beside it.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/fixed_point.hpp"
#include "core/ids.hpp"
#include "core/result.hpp"
#include "core/side.hpp"
#include "oms/records.hpp"

namespace tranche::ems {

inline constexpr const char* kListKey = "list";
inline constexpr const char* kListLegsKey = "list_legs";
inline constexpr const char* kListMaxImbalanceKey = "list_max_imbalance";
inline constexpr const char* kListCashLimitKey = "list_cash_limit";
// At most this many legs a list.
inline constexpr std::size_t kMaxListLegs = 100;

struct ListTerms {
  std::string id;
  std::size_t legs = 0;
  double max_imbalance = 0;             // a pair's limit, a share of each leg; 0: none
  Amount cash_limit = Amount::unset();  // a basket's limit, quote; unset: none
  bool operator==(const ListTerms&) const = default;
};

bool is_list_key(const std::string& key);
// The list terms in a parent's parameters; nullopt when it is no list's leg; an error for a term out of range
// (or given without `list`).
Result<std::optional<ListTerms>> list_terms(const std::vector<oms::AlgoParam>& params);
// A list's terms as every leg carries them (`max_imbalance`, `cash_limit`: as written; empty: none).
std::vector<oms::AlgoParam> list_params(const std::string& id, std::size_t legs,
                                        const std::string& max_imbalance, const std::string& cash_limit);
// The parameters without the list's terms: what its algo gets.
std::vector<oms::AlgoParam> without_list_terms(const std::vector<oms::AlgoParam>& params);
// Whether `legs` make a list its terms allow: the same terms on every leg, as many legs as it says, two legs
// for a pair, both sides for a cash limit, no instrument and side twice. Checked before any leg is accepted.
Status check_list(const std::vector<oms::ParentOrder>& legs);

class ListBalance {
 public:
  // What a leg has now: executed (the OMS's count) and committed (executed, plus what its open intents and
  // children may still fill).
  struct Progress {
    Qty executed;
    Qty committed;
  };
  using ReadFn = std::function<Progress(ParentId)>;

  ListBalance(ListTerms terms, ReadFn read) : terms_(std::move(terms)), read_(std::move(read)) {}

  const ListTerms& terms() const { return terms_; }
  void add_leg(ParentId id, Side side, Qty qty);
  bool has_leg(ParentId id) const { return find(id) != nullptr; }
  // The leg's reference price (the basket's valuation); a basket leg commits nothing before it has one.
  void set_reference(ParentId id, Price price);
  std::optional<Price> reference(ParentId id) const;
  // The leg ended having executed `executed`: what counts for it from now on, whatever the OMS forgets.
  void set_final(ParentId id, Qty executed);

  // The most base the leg may commit beyond what it has committed now (never negative). `why` (when room is
  // short of what the leg wants) says which limit binds.
  Qty room(ParentId id, std::string* why = nullptr) const;
  // Base a pair's lagging leg should take now to come level with the leading leg's executed share, when that
  // leads by more than half the limit (within its room, whatever it has resting); zero otherwise.
  Qty catch_up(ParentId id) const;

  // What the list leans now, executed: the largest difference between two legs' executed shares of their
  // quantities (a pair's), and the buy legs' value minus the sell legs' at reference prices (a basket's).
  double share_imbalance() const;
  double cash_imbalance() const;
  std::vector<ParentId> legs() const;

  // What the control did: intents clipped (or held back) by the limit, and catch-ups sent.
  void note_clip() { ++clips_; }
  void note_catch_up() { ++catch_ups_; }
  std::uint64_t clips() const { return clips_; }
  std::uint64_t catch_ups() const { return catch_ups_; }

 private:
  struct Leg {
    ParentId id;
    Side side = Side::Buy;
    Qty qty;
    Price reference = Price::unset();
    std::optional<Qty> final_executed;  // once it ended
  };
  Progress progress(const Leg& leg) const {
    return leg.final_executed ? Progress{*leg.final_executed, *leg.final_executed} : read_(leg.id);
  }
  const Leg* find(ParentId id) const;
  Leg* find(ParentId id);
  // A quantity's value at the leg's reference price.
  static Notional value(const Leg& leg, Qty qty) { return Notional::of(leg.reference, qty); }

  ListTerms terms_;
  ReadFn read_;
  std::vector<Leg> legs_;
  std::uint64_t clips_ = 0, catch_ups_ = 0;
};

}  // namespace tranche::ems
