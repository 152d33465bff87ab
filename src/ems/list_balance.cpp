#include "ems/list_balance.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>

namespace tranche::ems {

namespace {

const std::string* value_of(const std::vector<oms::AlgoParam>& params, const char* key) {
  for (const auto& p : params)
    if (p.key == key) return &p.value;
  return nullptr;
}

// Rounded down, and held within a quantity's range (a room beyond any quantity is no limit).
Qty::Raw floor_div(Int128 num, Int128 den) {
  Int128 q = num / den;
  if ((num % den != 0) && ((num < 0) != (den < 0))) --q;
  constexpr Int128 lo = std::numeric_limits<Qty::Raw>::min() / 2,
                   hi = std::numeric_limits<Qty::Raw>::max() / 2;
  return static_cast<Qty::Raw>(std::clamp(q, lo, hi));
}

}  // namespace

bool is_list_key(const std::string& key) {
  return key == kListKey || key == kListLegsKey || key == kListMaxImbalanceKey || key == kListCashLimitKey;
}

Result<std::optional<ListTerms>> list_terms(const std::vector<oms::AlgoParam>& params) {
  const std::string* id = value_of(params, kListKey);
  if (id == nullptr) {
    for (const auto& p : params)
      if (is_list_key(p.key)) return make_error(p.key + " is a list's term: it needs list=ID beside it");
    return std::optional<ListTerms>{};
  }
  ListTerms t;
  t.id = *id;
  if (t.id.empty() || t.id.size() > 64 || !std::all_of(t.id.begin(), t.id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      }))
    return make_error("list = '" + t.id + "': a list id is 1 to 64 letters, digits, '-', '_' or '.'");
  const std::string* legs = value_of(params, kListLegsKey);
  if (legs == nullptr) return make_error("list " + t.id + ": list_legs (how many legs) is not given");
  char* end = nullptr;
  const long n = std::strtol(legs->c_str(), &end, 10);
  if (legs->empty() || *end != '\0' || n < 2 || n > static_cast<long>(kMaxListLegs))
    return make_error("list_legs = '" + *legs + "' is not a whole number from 2 to " +
                      std::to_string(kMaxListLegs));
  t.legs = static_cast<std::size_t>(n);
  if (const std::string* s = value_of(params, kListMaxImbalanceKey)) {
    const double v = std::strtod(s->c_str(), &end);
    if (s->empty() || *end != '\0' || !std::isfinite(v) || v <= 0 || v > 1)
      return make_error("list_max_imbalance = '" + *s + "' is not a share above 0 and at most 1");
    if (t.legs != 2) return make_error("list_max_imbalance is a pair's: list_legs must be 2");
    t.max_imbalance = v;
  }
  if (const std::string* s = value_of(params, kListCashLimitKey)) {
    auto parsed = Amount::parse(*s);
    // Zero would hold both sides still for good: neither could take the first step.
    if (!parsed || !parsed->is_positive())
      return make_error("list_cash_limit = '" + *s + "' is not a decimal amount of the quote above 0");
    t.cash_limit = *parsed;
  }
  if (t.max_imbalance == 0 && !t.cash_limit.is_set())
    return make_error("list " + t.id +
                      " has no limit: list_max_imbalance (a pair) or list_cash_limit (a basket)");
  return std::optional<ListTerms>(std::move(t));
}

std::vector<oms::AlgoParam> list_params(const std::string& id, std::size_t legs,
                                        const std::string& max_imbalance, const std::string& cash_limit) {
  std::vector<oms::AlgoParam> out = {{kListKey, id}, {kListLegsKey, std::to_string(legs)}};
  if (!max_imbalance.empty()) out.push_back({kListMaxImbalanceKey, max_imbalance});
  if (!cash_limit.empty()) out.push_back({kListCashLimitKey, cash_limit});
  return out;
}

std::vector<oms::AlgoParam> without_list_terms(const std::vector<oms::AlgoParam>& params) {
  std::vector<oms::AlgoParam> out;
  out.reserve(params.size());
  for (const auto& p : params)
    if (!is_list_key(p.key)) out.push_back(p);
  return out;
}

Status check_list(const std::vector<oms::ParentOrder>& legs) {
  if (legs.empty()) return make_error("a list needs legs");
  std::optional<ListTerms> first;
  std::set<std::pair<std::string, int>> seen;
  bool buys = false, sells = false;
  for (std::size_t i = 0; i < legs.size(); ++i) {
    auto terms = list_terms(legs[i].params);
    if (!terms) return make_error("leg " + std::to_string(i + 1) + ": " + terms.error().message);
    if (!*terms) return make_error("leg " + std::to_string(i + 1) + " has no list terms");
    if (!first)
      first = **terms;
    else if (!(**terms == *first))
      return make_error("leg " + std::to_string(i + 1) + "'s list terms differ from leg 1's");
    if (!seen.insert({legs[i].instrument.str(), static_cast<int>(legs[i].side)}).second)
      return make_error("leg " + std::to_string(i + 1) + " repeats " + legs[i].instrument.str() +
                        " on the same side");
    (legs[i].side == Side::Buy ? buys : sells) = true;
    // A leg waits for the others at times; a sweep cannot wait.
    if (legs[i].algo == "market")
      return make_error(
          "leg " + std::to_string(i + 1) +
          ": the market sweep cannot be a list's leg (it cannot wait for the others); use a schedule");
  }
  if (legs.size() != first->legs)
    return make_error("the list has " + std::to_string(legs.size()) + " legs, not the " +
                      std::to_string(first->legs) + " its list_legs says");
  if (first->cash_limit.is_set() && !(buys && sells))
    return make_error("a cash-balance limit needs buy legs and sell legs");
  return {};
}

ListBalance::Leg* ListBalance::find(ParentId id) {
  for (Leg& l : legs_)
    if (l.id == id) return &l;
  return nullptr;
}
const ListBalance::Leg* ListBalance::find(ParentId id) const {
  for (const Leg& l : legs_)
    if (l.id == id) return &l;
  return nullptr;
}

void ListBalance::add_leg(ParentId id, Side side, Qty qty) {
  if (Leg* l = find(id)) {
    l->side = side;
    l->qty = qty;
    return;
  }
  legs_.push_back({id, side, qty, Price::unset(), std::nullopt});
}

void ListBalance::set_reference(ParentId id, Price price) {
  if (Leg* l = find(id)) l->reference = price;
}

std::optional<Price> ListBalance::reference(ParentId id) const {
  const Leg* l = find(id);
  if (l == nullptr || !l->reference.is_set()) return std::nullopt;
  return l->reference;
}

void ListBalance::set_final(ParentId id, Qty executed) {
  if (Leg* l = find(id)) l->final_executed = executed;
}

std::vector<ParentId> ListBalance::legs() const {
  std::vector<ParentId> out;
  for (const Leg& l : legs_) out.push_back(l.id);
  return out;
}

Qty ListBalance::room(ParentId id, std::string* why) const {
  const Leg* me = find(id);
  if (me == nullptr) return Qty{};
  const Progress mine = progress(*me);
  Qty::Raw allowed = (me->qty - mine.committed).raw();  // never more than the leg itself
  const char* binding = "its own quantity";
  if (terms_.max_imbalance > 0) {
    // Each other leg's executed share, plus the limit, of this leg's quantity.
    const auto limit_part =
        static_cast<Qty::Raw>(std::floor(terms_.max_imbalance * static_cast<double>(me->qty.raw())));
    // A leg not yet known has executed nothing.
    Qty::Raw cap = legs_.size() < terms_.legs ? limit_part : std::numeric_limits<Qty::Raw>::max();
    for (const Leg& other : legs_) {
      if (other.id == id || !other.qty.is_positive()) continue;
      const Qty::Raw share =
          floor_div(static_cast<Int128>(progress(other).executed.raw()) * me->qty.raw(), other.qty.raw());
      cap = std::min(cap, share + limit_part);
    }
    const Qty::Raw pair_room = cap - mine.committed.raw();
    if (pair_room < allowed) {
      allowed = pair_room;
      binding = "the pair's leg imbalance";
    }
  }
  if (terms_.cash_limit.is_set()) {
    if (!me->reference.is_set()) {
      if (why != nullptr) *why = "no reference price yet";
      return Qty{};
    }
    Notional opposite, same;
    for (const Leg& l : legs_) {
      if (!l.reference.is_set()) continue;
      const Progress p = progress(l);
      if (l.side == me->side)
        same += value(l, p.committed);
      else
        opposite += value(l, p.executed);
    }
    const Notional room_value =
        opposite + Notional::from_raw(static_cast<Int128>(terms_.cash_limit.raw()) * kFixedScale) - same;
    const Qty::Raw cash_room = floor_div(room_value.raw(), me->reference.raw());
    if (cash_room < allowed) {
      allowed = cash_room;
      binding = "the basket's cash balance";
    }
  }
  if (why != nullptr) *why = binding;
  return Qty::from_raw(std::max<Qty::Raw>(0, allowed));
}

Qty ListBalance::catch_up(ParentId id) const {
  if (terms_.max_imbalance <= 0) return Qty{};
  const Leg* me = find(id);
  if (me == nullptr || !me->qty.is_positive()) return Qty{};
  const Progress mine = progress(*me);
  Qty::Raw level = -1;  // the leading leg's executed share, of this leg's quantity
  for (const Leg& other : legs_) {
    if (other.id == id || !other.qty.is_positive()) continue;
    const Progress theirs = progress(other);
    level = std::max(level,
                     floor_div(static_cast<Int128>(theirs.executed.raw()) * me->qty.raw(), other.qty.raw()));
  }
  if (level < 0) return Qty{};
  const auto half =
      static_cast<Qty::Raw>(std::floor(terms_.max_imbalance / 2 * static_cast<double>(me->qty.raw())));
  if (level - mine.executed.raw() <= half) return Qty{};
  // What it has resting is not counted: resting did not keep it level, so the catch-up takes liquidity
  // (within its room, so what rests and the catch-up filling both still keep within the limit).
  return std::min(Qty::from_raw(level - mine.executed.raw()), room(id));
}

double ListBalance::share_imbalance() const {
  if (legs_.size() < 2) return 0;
  double hi = 0, lo = 0;
  bool first = true;
  for (const Leg& l : legs_) {
    if (!l.qty.is_positive()) continue;
    const double s = progress(l).executed.to_double() / l.qty.to_double();
    if (first) hi = lo = s;
    hi = std::max(hi, s);
    lo = std::min(lo, s);
    first = false;
  }
  return hi - lo;
}

double ListBalance::cash_imbalance() const {
  double buy = 0, sell = 0;
  for (const Leg& l : legs_) {
    if (!l.reference.is_set()) continue;
    const double v = value(l, progress(l).executed).to_double();
    (l.side == Side::Buy ? buy : sell) += v;
  }
  return buy - sell;
}

}  // namespace tranche::ems
