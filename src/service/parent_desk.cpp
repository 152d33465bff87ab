#include "service/parent_desk.hpp"

#include "ems/list_balance.hpp"

#include <algorithm>
#include <cstdlib>
#include <iomanip>
#include <optional>
#include <set>
#include <sstream>

#include "ems/algo.hpp"
#include "ems/algo_evidence.hpp"

namespace tranche::service {

namespace {

// The FIX identity of a parent is journaled with it (ParentOrder::strategy = "fix SESSION CLORDID"), so a
// crash can never leave a parent without the ClOrdID its client knows; replaces and cancels add theirs.
constexpr const char* kFixReplace = "fix-replace";
constexpr const char* kFixCancel = "fix-cancel";

// OrdRejReason (103) and CxlRejReason (102) values of FIX 4.4.
constexpr int kRejUnknownSymbol = 1, kRejExchangeClosed = 2, kRejExceedsLimit = 3, kRejTooLate = 4,
              kRejDuplicate = 6, kRejUnsupported = 11, kRejIncorrectQty = 13, kRejOther = 99;
constexpr int kCxlTooLate = 0, kCxlUnknownOrder = 1, kCxlPending = 3, kCxlDuplicate = 6, kCxlOther = 99;

std::string identity_detail(const std::string& session, const std::string& cl_ord_id) {
  return "session=" + session + " cl_ord_id=" + cl_ord_id;
}

// TargetStrategyParameters (848): "key=value;key=value". False with the item that is not one.
bool strategy_params(const std::string& text, std::vector<oms::AlgoParam>& out, std::string& bad) {
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, ';')) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      bad = item;
      return false;
    }
    out.push_back({item.substr(0, eq), item.substr(eq + 1)});
  }
  return true;
}

std::string key_of(const std::string& session, const std::string& cl_ord_id) {
  return session + '\n' + cl_ord_id;
}

// The client's CompID in a QuickFIX session id ("FIX.4.4:TRANCHE->CLIENT1"): the account when none is sent.
std::string client_of(const std::string& session) {
  const auto arrow = session.rfind("->");
  return arrow == std::string::npos ? session : session.substr(arrow + 2);
}

// TargetStrategy (847) values: FIX's own three and the five Tranche's dictionary adds.
std::string algo_of_target_strategy(const std::string& value) {
  static const std::map<std::string, std::string> names = {
      {"1", "vwap"},       {"2", "pov"},    {"3", "is"},      {"1000", "twap"},
      {"1001", "iceberg"}, {"1002", "peg"}, {"1003", "seek"}, {"1004", "auto"}};
  auto it = names.find(value);
  return it == names.end() ? std::string() : it->second;
}

}  // namespace

ParentDesk::ParentDesk(const Config& config, ems::Kernel& kernel, oms::OrderManager& manager, AnswerFn answer,
                       std::string exec_id_prefix, std::function<TimestampNs()> clock)
    : config_(config),
      kernel_(kernel),
      manager_(manager),
      deliver_(std::move(answer)),
      exec_id_prefix_(std::move(exec_id_prefix)),
      clock_(std::move(clock)) {}

std::string ParentDesk::next_exec_id() const {
  return exec_id_prefix_ + "-" + std::to_string(++exec_seq_);
}

void ParentDesk::check(const Status& s) {
  // The kernel stops on the first error that makes going on unsafe; the desk's own journal writes share it.
  if (!s.ok()) kernel_.fail(s);
}

ParentDesk::Client* ParentDesk::find(const std::string& session, const std::string& cl_ord_id) {
  auto it = by_cl_ord_id_.find(key_of(session, cl_ord_id));
  return it == by_cl_ord_id_.end() ? nullptr : find(ParentId(it->second));
}

ParentDesk::Client* ParentDesk::find(ParentId id) {
  auto it = clients_.find(id.value());
  return it == clients_.end() ? nullptr : it->second.get();
}

std::optional<ParentDesk::Identity> ParentDesk::identity(ParentId parent) const {
  auto it = clients_.find(parent.value());
  if (it == clients_.end()) return std::nullopt;
  return Identity{it->second->session, it->second->cl_ord_id};
}

std::optional<ParentId> ParentDesk::parent_of(const std::string& session,
                                              const std::string& cl_ord_id) const {
  auto it = by_cl_ord_id_.find(key_of(session, cl_ord_id));
  if (it == by_cl_ord_id_.end()) return std::nullopt;
  return ParentId(it->second);
}

ParentDesk::Client& ParentDesk::keep(std::unique_ptr<Client> c) {
  Client& kept = *c;
  clients_[c->id.value()] = std::move(c);
  return kept;
}

void ParentDesk::index(Client& c, const std::string& cl_ord_id) {
  std::string key = key_of(c.session, cl_ord_id);
  by_cl_ord_id_[key] = c.id.value();
  c.keys.push_back(std::move(key));
}

void ParentDesk::release_forgotten() {
  const std::uint64_t forgotten = manager_.oms().forgotten().parents;
  if (forgotten == forgotten_seen_) return;
  forgotten_seen_ = forgotten;
  std::erase_if(ended_, [&](std::uint64_t id) {
    if (manager_.oms().parent(ParentId(id)) != nullptr) return false;
    if (auto it = clients_.find(id); it != clients_.end()) {
      for (const auto& key : it->second->keys) by_cl_ord_id_.erase(key);
      clients_.erase(it);
    }
    return true;
  });
}

// Answers go out, in order, once the journal has made durable what they say (with the journal's writer
// thread, some may wait for a later call).
void ParentDesk::after_commit(TimestampNs /*now_ns*/) {
  pending_.release(manager_.journal().durable_seq(), [&](const ParentAnswer& a) { deliver_(a); });
  release_forgotten();
}

// --- requests ---

void ParentDesk::on_request(const ParentRequest& request) {
  switch (request.kind) {
    case ParentRequest::Kind::New:
      on_new(request);
      break;
    case ParentRequest::Kind::Cancel:
      on_cancel(request);
      break;
    case ParentRequest::Kind::Replace:
      on_replace(request);
      break;
    case ParentRequest::Kind::Status:
      on_status(request);
      break;
    case ParentRequest::Kind::NewList:
      on_new_list(request);
      break;
  }
  kernel_.settle();
}

// An ExecutionReport about no parent of ours (one refused, or one never seen): the request's own fields.
ParentAnswer ParentDesk::without_parent(const ParentRequest& r, char exec_type,
                                        const std::string& text) const {
  ParentAnswer a;
  a.session = r.session;
  a.exec_type = exec_type;
  a.ord_status = '8';
  a.exec_id = next_exec_id();
  a.cl_ord_id = r.cl_ord_id;
  a.symbol = r.symbol;
  a.side = r.side == '2' ? '2' : '1';
  a.text = text;
  a.transact_ns = clock_();
  return a;
}

void ParentDesk::reject_new(const ParentRequest& r, int reason, const std::string& text,
                            const std::string& list_id) {
  ParentAnswer a = without_parent(r, '8', text);
  a.account = r.account;
  Qty q;
  if (Qty::parse(r.qty, q)) a.order_qty = q;
  a.ord_rej_reason = reason;
  a.list_id = list_id;
  answer(a);
}

bool ParentDesk::order_from(const ParentRequest& r, oms::ParentOrder& parent, int& reason,
                            std::string& text) const {
  auto refuse = [&](int why, const std::string& what) {
    reason = why;
    text = what;
    return false;
  };
  if (kernel_.market_closed())
    return refuse(kRejExchangeClosed, "the market is closed: the recorded data has ended");
  if (stopping_) return refuse(kRejExchangeClosed, "the server is shutting down");
  if (r.symbol.empty()) return refuse(kRejUnknownSymbol, "Symbol (55) is missing");
  const Instrument* instrument = config_.instrument(InstrumentId(r.symbol));
  if (instrument == nullptr || !InstrumentId::fits(r.symbol)) {
    std::string known;
    for (const auto& i : config_.instruments) known += (known.empty() ? "" : ", ") + i.id.str();
    return refuse(kRejUnknownSymbol, "unknown symbol '" + r.symbol + "' (known: " + known + ")");
  }
  if (r.side != '1' && r.side != '2') return refuse(kRejUnsupported, "Side (54) must be 1 (buy) or 2 (sell)");
  Qty qty;
  if (r.qty.empty()) return refuse(kRejIncorrectQty, "OrderQty (38) is missing");
  if (!Qty::parse(r.qty, qty)) return refuse(kRejIncorrectQty, "OrderQty '" + r.qty + "' is not a decimal");
  if (!qty.is_positive()) return refuse(kRejIncorrectQty, "OrderQty must be positive, not " + r.qty);
  if (auto sendable = config_.check_parent_qty(instrument->id, qty); !sendable)
    return refuse(kRejIncorrectQty, sendable.message());
  Price limit = Price::unset();
  if (r.ord_type == '2') {
    if (r.price.empty()) return refuse(kRejOther, "a limit order (OrdType 2) needs a Price (44)");
    if (!Price::parse(r.price, limit) || !limit.is_positive())
      return refuse(kRejOther, "Price '" + r.price + "' is not a positive decimal");
    if (limit.raw() % instrument->tick_size.raw() != 0)
      return refuse(kRejOther, "Price " + r.price + " is off the tick " + instrument->tick_size.to_string());
  } else if (r.ord_type == '1') {
    if (!r.price.empty()) return refuse(kRejOther, "a market order (OrdType 1) takes no Price");
  } else {
    return refuse(kRejUnsupported, std::string("OrdType '") + (r.ord_type ? std::string(1, r.ord_type) : "") +
                                       "' is not supported (1 market, 2 limit)");
  }
  // The algo: TrancheAlgo (7001) by name, else TargetStrategy (847), else the configured default.
  std::string algo = r.algo;
  if (algo.empty() && !r.target_strategy.empty()) {
    algo = algo_of_target_strategy(r.target_strategy);
    if (algo.empty())
      return refuse(kRejUnsupported, "TargetStrategy " + r.target_strategy + " is not one Tranche runs");
  }
  if (algo.empty()) algo = config_.server.default_algo;
  const std::vector<std::string> names = ems::algo_names();
  if (std::find(names.begin(), names.end(), algo) == names.end()) {
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    return refuse(kRejUnsupported, "unknown algo '" + algo + "' (known: " + known + ")");
  }
  std::vector<oms::AlgoParam> params;
  std::string bad;
  if (!strategy_params(r.strategy_params, params, bad))
    return refuse(kRejOther, "TargetStrategyParameters: '" + bad + "' is not key=value");
  for (const auto& p : params)
    if (ems::is_list_key(p.key))
      return refuse(kRejUnsupported, "TargetStrategyParameters: '" + p.key +
                                         "' is a list's term: a list comes as a NewOrderList (docs/fix.md)");
  if (!r.participation_rate.empty())
    params.push_back({algo == "pov" ? "pov_rate" : "max_participation", r.participation_rate});

  const TimestampNs t = clock_();
  const std::string account = r.account.empty() ? client_of(r.session) : r.account;
  if (!AccountId::fits(account)) return refuse(kRejOther, "Account '" + account + "' is too long");
  parent = oms::ParentOrder{};
  parent.account = AccountId(account);
  parent.instrument = instrument->id;
  parent.side = r.side == '1' ? Side::Buy : Side::Sell;
  parent.qty = qty;
  parent.limit = limit;
  parent.algo = algo;
  parent.params = params;
  parent.strategy = "fix " + r.session + " " + r.cl_ord_id;
  parent.start_ns = r.effective_ns && *r.effective_ns > t ? *r.effective_ns : t;
  parent.end_ns = r.expire_ns ? *r.expire_ns : parent.start_ns + config_.server.default_horizon_ns;
  if (parent.end_ns <= parent.start_ns)
    return refuse(kRejTooLate, "ExpireTime " + format_time(parent.end_ns) + clock_name() +
                                   " is not after the start " + format_time(parent.start_ns));
  if (auto s = ems::check_algo(parent); !s) return refuse(kRejUnsupported, s.message());
  return true;
}

void ParentDesk::on_new(const ParentRequest& r) {
  if (r.cl_ord_id.empty()) return reject_new(r, kRejOther, "ClOrdID (11) is missing");
  if (find(r.session, r.cl_ord_id) != nullptr)
    return reject_new(r, kRejDuplicate, "ClOrdID " + r.cl_ord_id + " is already in use on this session");
  if (!r.problem.empty()) return reject_new(r, kRejOther, r.problem);
  oms::ParentOrder parent;
  int reason = 0;
  std::string text;
  if (!order_from(r, parent, reason, text)) return reject_new(r, reason, text);
  auto accepted = kernel_.submit(parent);
  if (!accepted) return reject_new(r, kRejExceedsLimit, accepted.error().message);
  parent.id = *accepted;
  keep_accepted(r, parent, "");
}

void ParentDesk::on_new_list(const ParentRequest& r) {
  // Every order of the list is answered: all accepted, or each rejected with why the list was.
  auto reject_all = [&](int reason, const std::string& text) {
    const std::string why =
        "list " + (r.list_id.empty() ? std::string("without a ListID") : r.list_id) + ": " + text;
    if (r.orders.empty()) return reject_new(r, reason, why);
    for (const ParentRequest& order : r.orders) reject_new(order, reason, why, r.list_id);
  };
  if (r.list_id.empty()) return reject_all(kRejOther, "ListID (66) is missing");
  if (r.orders.empty()) return reject_all(kRejOther, "no orders (NoOrders, 73)");
  if (!r.tot_no_orders.empty() && std::strtoull(r.tot_no_orders.c_str(), nullptr, 10) != r.orders.size())
    return reject_all(kRejUnsupported, "TotNoOrders " + r.tot_no_orders + " but " +
                                           std::to_string(r.orders.size()) +
                                           " orders: a list comes in one message, not in fragments");
  if (!r.problem.empty()) return reject_all(kRejOther, r.problem);
  std::set<std::string> ids;
  for (const ParentRequest& order : r.orders) {
    if (order.cl_ord_id.empty()) return reject_all(kRejOther, "an order without its ClOrdID (11)");
    if (!ids.insert(order.cl_ord_id).second || find(r.session, order.cl_ord_id) != nullptr)
      return reject_all(kRejDuplicate, "ClOrdID " + order.cl_ord_id + " is already in use on this session");
  }
  // The list's limit, in FIX's own terms: how far one side's execution may run ahead of the other's.
  // AllowableOneSidednessPct is a FIX Percentage: 0.05 is 5%.
  std::string max_imbalance;
  if (!r.one_sided_pct.empty()) {
    double share = 0;
    std::size_t used = 0;
    try {
      share = std::stod(r.one_sided_pct, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != r.one_sided_pct.size() || !(share > 0 && share <= 1))
      return reject_all(kRejOther,
                        "AllowableOneSidednessPct '" + r.one_sided_pct +
                            "' is not a share above 0 and at most 1 (a FIX Percentage: 0.05 is 5%)");
    max_imbalance = r.one_sided_pct;
  }
  if (max_imbalance.empty() && r.one_sided_value.empty())
    return reject_all(kRejUnsupported,
                      "no limit: AllowableOneSidednessPct (765) for a pair's leg imbalance, or "
                      "AllowableOneSidednessValue (766) for a basket's cash balance");
  std::vector<oms::ParentOrder> legs(r.orders.size());
  const auto terms = ems::list_params(r.list_id, legs.size(), max_imbalance, r.one_sided_value);
  for (std::size_t i = 0; i < r.orders.size(); ++i) {
    int reason = 0;
    std::string text;
    if (!order_from(r.orders[i], legs[i], reason, text))
      return reject_all(reason,
                        "order " + std::to_string(i + 1) + " (" + r.orders[i].cl_ord_id + "): " + text);
    legs[i].params.insert(legs[i].params.end(), terms.begin(), terms.end());
  }
  if (auto checked = ems::list_terms(terms); !checked) return reject_all(kRejOther, checked.error().message);
  const ems::ListSubmission submitted = kernel_.submit_list(legs);
  for (std::size_t i = 0; i < legs.size(); ++i) {
    if (submitted.legs[i].value() != 0) {
      // Accepted; when the list was refused after it, it is being canceled, and the client hears that too.
      legs[i].id = submitted.legs[i];
      keep_accepted(r.orders[i], legs[i], r.list_id);
      continue;
    }
    reject_new(r.orders[i], kRejExceedsLimit, "list " + r.list_id + ": " + submitted.refused.message(),
               r.list_id);
  }
}

void ParentDesk::keep_accepted(const ParentRequest& r, const oms::ParentOrder& parent,
                               const std::string& list_id) {
  auto s = std::make_unique<Client>();
  s->session = r.session;
  s->cl_ord_id = r.cl_ord_id;
  s->account = r.account;
  s->id = parent.id;
  s->instrument = parent.instrument;
  s->side = parent.side;
  s->list_id = list_id;
  Client& served = keep(std::move(s));
  index(served, r.cl_ord_id);
  ParentAnswer accepted_answer = answer_for(served, '0');
  accepted_answer.text = parent.algo + " " + (parent.side == Side::Buy ? "buy " : "sell ") +
                         parent.qty.to_string() + " " + parent.instrument.str() + " from " +
                         format_time(parent.start_ns) + " to " + format_time(parent.end_ns) + clock_name() +
                         (list_id.empty() ? std::string() : ", a leg of list " + list_id);
  answer(accepted_answer);
}

void ParentDesk::cancel_reject(const ParentRequest& r, char response_to, int reason, const std::string& text,
                               const Client* s) {
  ParentAnswer a;
  if (s != nullptr) {
    a = answer_for(*s, '0');
    a.exec_id.clear();
  } else {
    a.session = r.session;
    a.ord_status = '8';  // unknown order: FIX says Rejected
    a.transact_ns = clock_();
  }
  a.cancel_reject = true;
  a.cl_ord_id = r.cl_ord_id;
  a.orig_cl_ord_id = r.orig_cl_ord_id;
  a.cxl_rej_response_to = response_to;
  a.cxl_rej_reason = reason;
  a.text = text;
  answer(a);
}

void ParentDesk::on_cancel(const ParentRequest& r) {
  Client* s = find(r.session, r.orig_cl_ord_id);
  if (s == nullptr)
    return cancel_reject(r, '1', kCxlUnknownOrder, "unknown order " + r.orig_cl_ord_id, nullptr);
  if (s->ended) return cancel_reject(r, '1', kCxlTooLate, "the order has ended", s);
  if (!s->cancel_cl_ord_id.empty())
    return cancel_reject(r, '1', kCxlPending, "a cancel is already under way", s);
  if (r.cl_ord_id.empty() || find(r.session, r.cl_ord_id) != nullptr)
    return cancel_reject(r, '1', kCxlDuplicate, "ClOrdID '" + r.cl_ord_id + "' is missing or already in use",
                         s);
  if (auto st = kernel_.cancel(s->id, "canceled by the client"); !st.ok())
    return cancel_reject(r, '1', st.message().rfind("a cancel", 0) == 0 ? kCxlPending : kCxlTooLate,
                         st.message(), s);
  index(*s, r.cl_ord_id);
  s->cancel_cl_ord_id = r.cl_ord_id;
  check(manager_.record_algo_state(s->id, kFixCancel, identity_detail(r.session, r.cl_ord_id), clock_()));
  check(manager_.flush());
  ParentAnswer a = answer_for(*s, '6');
  a.cl_ord_id = r.cl_ord_id;
  a.orig_cl_ord_id = s->cl_ord_id;
  answer(a);
}

void ParentDesk::on_replace(const ParentRequest& r) {
  Client* s = find(r.session, r.orig_cl_ord_id);
  if (s == nullptr)
    return cancel_reject(r, '2', kCxlUnknownOrder, "unknown order " + r.orig_cl_ord_id, nullptr);
  if (s->ended) return cancel_reject(r, '2', kCxlTooLate, "the order has ended", s);
  if (!s->cancel_cl_ord_id.empty()) return cancel_reject(r, '2', kCxlPending, "a cancel is pending", s);
  if (r.cl_ord_id.empty() || find(r.session, r.cl_ord_id) != nullptr)
    return cancel_reject(r, '2', kCxlDuplicate, "ClOrdID '" + r.cl_ord_id + "' is missing or already in use",
                         s);
  if (stopping_) return cancel_reject(r, '2', kCxlOther, "the server is shutting down", s);
  const ems::Algo* algo = kernel_.algo(s->id);
  if (algo == nullptr) return cancel_reject(r, '2', kCxlOther, "the order is being recovered", s);
  if (kernel_.market_closed() || algo->done())
    return cancel_reject(r, '2', kCxlTooLate, "too late: the order is already ending", s);
  if (!r.problem.empty()) return cancel_reject(r, '2', kCxlOther, r.problem, s);
  const oms::ParentRecord* p = manager_.oms().parent(s->id);
  if (!r.symbol.empty() && r.symbol != s->instrument.str())
    return cancel_reject(r, '2', kCxlOther, "the symbol cannot be changed by a replace", s);
  if (r.side != 0 && r.side != (s->side == Side::Buy ? '1' : '2'))
    return cancel_reject(r, '2', kCxlOther, "the side cannot be changed by a replace", s);
  if (!r.algo.empty() && r.algo != p->order.algo)
    return cancel_reject(r, '2', kCxlOther,
                         "the algo cannot be changed by a replace (cancel, then send a new order)", s);
  // What a replace cannot change may be repeated as it was (clients often resend the whole order).
  if (!r.target_strategy.empty() && r.algo.empty() &&
      algo_of_target_strategy(r.target_strategy) != p->order.algo)
    return cancel_reject(r, '2', kCxlOther, "the algo cannot be changed by a replace", s);
  auto has_param = [&](const std::string& key, const std::string& value) {
    for (const auto& have : p->order.params)
      if (have.key == key && have.value == value) return true;
    return false;
  };
  std::vector<oms::AlgoParam> repeated;
  std::string bad;
  if (!strategy_params(r.strategy_params, repeated, bad))
    return cancel_reject(r, '2', kCxlOther, "TargetStrategyParameters: '" + bad + "' is not key=value", s);
  for (const auto& [key, value] : repeated)
    if (!has_param(key, value))
      return cancel_reject(
          r, '2', kCxlOther,
          "the algo's parameters cannot be changed by a replace ('" + key + "=" + value + "')", s);
  if (!r.participation_rate.empty() &&
      !has_param(p->order.algo == "pov" ? "pov_rate" : "max_participation", r.participation_rate))
    return cancel_reject(r, '2', kCxlOther, "ParticipationRate cannot be changed by a replace", s);
  if (r.effective_ns && *r.effective_ns > clock_() && *r.effective_ns != p->order.start_ns)
    return cancel_reject(r, '2', kCxlOther, "the start (EffectiveTime) cannot be changed by a replace", s);
  if (r.ord_type == '1' && !r.price.empty())
    return cancel_reject(r, '2', kCxlOther, "a market order (OrdType 1) takes no Price", s);
  Qty qty = Qty::unset();
  if (!r.qty.empty()) {
    if (!Qty::parse(r.qty, qty) || !qty.is_positive())
      return cancel_reject(r, '2', kCxlOther, "OrderQty '" + r.qty + "' is not a positive decimal", s);
  }
  Price limit = Price::unset();
  if (r.ord_type == '1' && p->order.limit.is_set())
    return cancel_reject(r, '2', kCxlOther, "a limit cannot be removed by a replace", s);
  if (!r.price.empty()) {
    const Instrument* instrument = config_.instrument(s->instrument);
    if (!Price::parse(r.price, limit) || !limit.is_positive())
      return cancel_reject(r, '2', kCxlOther, "Price '" + r.price + "' is not a positive decimal", s);
    if (instrument != nullptr && limit.raw() % instrument->tick_size.raw() != 0)
      return cancel_reject(r, '2', kCxlOther,
                           "Price " + r.price + " is off the tick " + instrument->tick_size.to_string(), s);
  }
  const TimestampNs end = r.expire_ns.value_or(0);
  if (r.expire_ns && *r.expire_ns <= clock_())
    return cancel_reject(r, '2', kCxlTooLate, "ExpireTime is not in the future", s);
  if (auto st = kernel_.amend(s->id, qty, limit, end); !st.ok())
    return cancel_reject(r, '2', kCxlOther, st.message(), s);
  const std::string orig = s->cl_ord_id;
  index(*s, r.cl_ord_id);
  s->cl_ord_id = r.cl_ord_id;
  check(manager_.record_algo_state(s->id, kFixReplace, identity_detail(s->session, r.cl_ord_id), clock_()));
  check(manager_.flush());
  ParentAnswer a = answer_for(*s, '5');
  a.orig_cl_ord_id = orig;
  answer(a);
}

void ParentDesk::on_status(const ParentRequest& r) {
  Client* s = find(r.session, r.cl_ord_id);
  // Unknown here, or known still but forgotten by the OMS (the desk lets go at its next commit).
  if (s == nullptr || manager_.oms().parent(s->id) == nullptr) return status_from_journal(r);
  ParentAnswer a = answer_for(*s, 'I');
  a.cl_ord_id = r.cl_ord_id;
  answer(a);
}

// An ended parent past [oms] forget_ended_after is no longer in memory: its ClOrdID is looked up in the
// journal (the parent's FIX identity, then its records through the OMS's rules). It reads the journal
// through: a status of an old parent costs what the journal is long, a recent one's nothing.
void ParentDesk::status_from_journal(const ParentRequest& r) {
  const std::string tag = "fix " + r.session + " " + r.cl_ord_id;
  const std::string detail = identity_detail(r.session, r.cl_ord_id);
  // The parent's id, and where to read it back from: its acceptance when the ClOrdID is its first (a later
  // one of its chain, from a replace or cancel, reads from the start).
  std::optional<std::pair<std::uint64_t, std::uint64_t>> found;
  const Status scanned = manager_.journal().replay([&](const oms::Record& record) -> Status {
    if (const auto* p = std::get_if<oms::ParentOrder>(&record.body)) {
      if (p->strategy == tag) found.emplace(p->id.value(), record.seq);
    } else if (const auto* change = std::get_if<oms::AlgoStateChange>(&record.body)) {
      if ((change->state == kFixReplace || change->state == kFixCancel) && change->detail == detail)
        found.emplace(change->id.value(), 1);
    }
    return found ? make_error("found") : Status{};  // stops the scan at the first match
  });
  if (!scanned.ok() && !found) {
    check(scanned);
    return answer(without_parent(r, 'I', "the journal could not be read: " + scanned.message()));
  }
  if (!found) return answer(without_parent(r, 'I', "unknown order " + r.cl_ord_id));
  auto record = oms::parent_from_journal(config_, manager_.journal(), ParentId(found->first), found->second);
  if (!record || !record->has_value())
    return answer(without_parent(r, 'I',
                                 "order " + r.cl_ord_id + " could not be read back from the journal" +
                                     (record ? std::string() : ": " + record.error().message)));
  const oms::ParentRecord& p = **record;
  Client c;
  c.session = r.session;
  c.cl_ord_id = r.cl_ord_id;
  c.id = p.order.id;
  c.instrument = p.order.instrument;
  c.side = p.order.side;
  c.account = p.order.account.str() == client_of(r.session) ? "" : p.order.account.str();
  ParentAnswer a = answer_for(c, &p, 'I');
  a.cl_ord_id = r.cl_ord_id;
  answer(a);
}

// The parent as it stands, in an ExecutionReport of `exec_type`.
ParentAnswer ParentDesk::answer_for(const Client& s, char exec_type) const {
  return answer_for(s, manager_.oms().parent(s.id), exec_type);
}

ParentAnswer ParentDesk::answer_for(const Client& s, const oms::ParentRecord* p, char exec_type) const {
  ParentAnswer a;
  a.session = s.session;
  a.exec_type = exec_type;
  a.order_id = std::to_string(s.id.value());
  a.exec_id = next_exec_id();
  a.cl_ord_id = s.cl_ord_id;
  a.account = s.account;
  a.symbol = s.instrument.str();
  a.side = s.side == Side::Buy ? '1' : '2';
  a.list_id = s.list_id;
  a.transact_ns = clock_();
  if (p == nullptr) return a;
  a.order_qty = p->order.qty;
  a.limit = p->order.limit;
  a.cum_qty = p->executed;
  a.avg_px = p->average_price();
  const bool final = oms::is_final(p->state);
  a.leaves_qty = final ? Qty() : Qty::from_raw(std::max<std::int64_t>(0, (p->order.qty - p->executed).raw()));
  switch (p->state) {
    case oms::ParentState::Filled:
      a.ord_status = p->executed >= p->order.qty ? '2' : '3';
      break;
    case oms::ParentState::Canceled:
      a.ord_status = '4';
      break;
    case oms::ParentState::Expired:
      a.ord_status = 'C';
      break;
    case oms::ParentState::PendingCancel:
      a.ord_status = '6';
      break;
    default:
      a.ord_status = p->executed >= p->order.qty ? '2' : p->executed.is_positive() ? '1' : '0';
      break;
  }
  if (final) a.text = p->done_text;
  return a;
}

void ParentDesk::on_child_report(ParentId parent, const ExecutionReport& report, bool fresh_fill,
                                 double fill_base) {
  (void)fill_base;
  Client* c = find(parent);
  if (!fresh_fill || c == nullptr) return;
  Client& s = *c;
  const oms::ParentRecord* p = manager_.oms().parent(s.id);
  // After the final report a client hears of no more fills (the journal has every one).
  if (s.ended || p == nullptr || p->executed <= s.reported_cum) return;
  ParentAnswer a = answer_for(s, 'F');
  a.last_qty = p->executed - s.reported_cum;
  a.last_px = report.last_price;
  a.last_mkt = report.venue.str();
  s.reported_cum = p->executed;
  answer(a);
}

// The OMS has the parent's final state: the client hears it in FIX's words.
void ParentDesk::on_parent_ended(ParentId parent, TimestampNs now_ns) {
  (void)now_ns;
  Client* c = find(parent);
  if (c == nullptr || c->ended) return;
  Client& s = *c;
  s.ended = true;
  ended_.push_back(parent.value());
  const oms::ParentRecord* p = manager_.oms().parent(s.id);
  if (p == nullptr) return;
  switch (p->state) {
    case oms::ParentState::Filled:
      // Executed in full: the last fill's report said Filled. Short of it by less than any venue takes (the
      // parent lifecycle's RemainderUnsendable row): ExecType 3, done for the day, with what was left.
      if (p->executed < p->order.qty) answer(answer_for(s, '3'));
      if (!s.cancel_cl_ord_id.empty()) {
        // It filled before the client's cancel could take effect.
        ParentRequest cancel;
        cancel.session = s.session;
        cancel.cl_ord_id = s.cancel_cl_ord_id;
        cancel.orig_cl_ord_id = s.cl_ord_id;
        cancel_reject(cancel, '1', kCxlTooLate, "too late: it filled before the cancel took effect", &s);
      }
      break;
    case oms::ParentState::Canceled: {
      ParentAnswer a = answer_for(s, '4');
      if (!s.cancel_cl_ord_id.empty()) {
        a.orig_cl_ord_id = s.cl_ord_id;
        a.cl_ord_id = s.cancel_cl_ord_id;
      }
      answer(a);
      break;
    }
    default:
      answer(answer_for(s, 'C'));
      break;
  }
}

Status ParentDesk::recover(const oms::Journal& journal) {
  // Each parent's FIX identity (with its replaces and cancel), as the journal has it.
  std::map<std::uint64_t, std::vector<std::string>> replaces;
  std::map<std::uint64_t, std::string> cancels;
  auto id_of = [](const std::string& detail) -> std::optional<std::string> {
    const auto at = detail.rfind(" cl_ord_id=");
    if (detail.rfind("session=", 0) != 0 || at == std::string::npos) return std::nullopt;
    return detail.substr(at + 11);
  };
  auto replayed = journal.replay([&](const oms::Record& record) -> Status {
    const auto* change = std::get_if<oms::AlgoStateChange>(&record.body);
    if (change == nullptr) return {};
    if (change->state == kFixReplace) {
      if (auto c = id_of(change->detail)) replaces[change->id.value()].push_back(*c);
    } else if (change->state == kFixCancel) {
      if (auto c = id_of(change->detail)) cancels[change->id.value()] = *c;
    }
    return {};
  });
  if (!replayed.ok()) return replayed;
  for (const auto& [id, record] : manager_.oms().parents()) {
    if (oms::is_final(record.state)) continue;
    auto s = std::make_unique<Client>();
    // "fix SESSION CLORDID": a parent from another front door has no FIX identity; it is resumed all the
    // same.
    const std::string& tag = record.order.strategy;
    std::vector<std::string> ids;
    if (tag.rfind("fix ", 0) == 0 && tag.find(' ', 4) != std::string::npos) {
      const auto space = tag.find(' ', 4);
      s->session = tag.substr(4, space - 4);
      ids.push_back(tag.substr(space + 1));
    }
    for (const auto& c : replaces[id]) ids.push_back(c);
    if (!ids.empty()) s->cl_ord_id = ids.back();
    if (auto c = cancels.find(id); c != cancels.end()) {
      s->cancel_cl_ord_id = c->second;
      ids.push_back(c->second);
    }
    s->account = record.order.account.str() == client_of(s->session) ? "" : record.order.account.str();
    s->id = record.order.id;
    s->instrument = record.order.instrument;
    for (const auto& p : record.order.params)
      if (p.key == ems::kListKey) s->list_id = p.value;  // a leg's answers still carry its ListID
    s->side = record.order.side;
    s->reported_cum = record.executed;
    Client& kept = keep(std::move(s));
    for (const auto& c : ids) index(kept, c);
  }
  return {};
}

}  // namespace tranche::service
