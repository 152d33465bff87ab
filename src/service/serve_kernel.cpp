#include "service/serve_kernel.hpp"

#include <algorithm>
#include <optional>
#include <sstream>

#include "ems/algo.hpp"
#include "service/venue_views.hpp"

namespace tranche::service {

namespace {

constexpr std::uint64_t kWake = 1;   // a wake the algo asked for
constexpr std::uint64_t kGrace = 2;  // an algo still working this long after its end is canceled
constexpr DurationNs kGraceNs = 30 * kNanosPerSecond;
constexpr DurationNs kAvoidNs = 5 * kNanosPerSecond;
constexpr DurationNs kHistoryNs = 30 * 60 * kNanosPerSecond;  // what an algo starting now may look back on
constexpr std::size_t kViewDepth = 40;
constexpr std::uint64_t kForceEnd = 3;  // the data ended: the parent ends now, children closed or not
constexpr DurationNs kForceEndNs = 10 * kNanosPerSecond;
constexpr DurationNs kSweepNs = 100 * kNanosPerMilli;
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

// A refused cancel (the gate's cancel budget) is retried; anything else is an error.
bool refused_cancel(const Status& s) {
  return !s.ok() && s.message().rfind("risk denied", 0) == 0;
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

// TargetStrategy (847) values: FIX's own three and the three Tranche's dictionary adds.
std::string algo_of_target_strategy(const std::string& value) {
  static const std::map<std::string, std::string> names = {
      {"1", "vwap"}, {"2", "pov"}, {"3", "is"}, {"1000", "twap"}, {"1001", "iceberg"}, {"1002", "peg"}};
  auto it = names.find(value);
  return it == names.end() ? std::string() : it->second;
}

}  // namespace

ServeKernel::ServeKernel(const Config& config, sim::Simulator& sim, oms::OrderManager& manager,
                         risk::RiskGate& gate, AnswerFn answer, std::string exec_id_prefix)
    : config_(config),
      sim_(&sim),
      manager_(manager),
      gate_(gate),
      deliver_(std::move(answer)),
      exec_id_prefix_(std::move(exec_id_prefix)) {}

std::string ServeKernel::next_exec_id() const {
  return exec_id_prefix_ + "-" + std::to_string(++exec_seq_);
}

void ServeKernel::check(const Status& s) {
  if (!s.ok() && error_.ok()) error_ = s;
}

ServeKernel::Served* ServeKernel::find(const std::string& session, const std::string& cl_ord_id) {
  auto it = by_cl_ord_id_.find(key_of(session, cl_ord_id));
  return it == by_cl_ord_id_.end() ? nullptr : served_[it->second].get();
}

std::size_t ServeKernel::working() const {
  std::size_t n = 0;
  for (std::size_t slot : active_) n += served_[slot]->ended ? 0 : 1;
  return n;
}

// --- requests ---

void ServeKernel::on_request(const ParentRequest& request) {
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
  }
  after_event();
}

// An ExecutionReport about no parent of ours (one refused, or one never seen): the request's own fields.
ParentAnswer ServeKernel::without_parent(const ParentRequest& r, char exec_type,
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
  a.transact_ns = now();
  return a;
}

void ServeKernel::reject_new(const ParentRequest& r, int reason, const std::string& text) {
  ParentAnswer a = without_parent(r, '8', text);
  a.account = r.account;
  Qty q;
  if (Qty::parse(r.qty, q)) a.order_qty = q;
  a.ord_rej_reason = reason;
  answer_(a);
}

void ServeKernel::on_new(const ParentRequest& r) {
  if (r.cl_ord_id.empty()) return reject_new(r, kRejOther, "ClOrdID (11) is missing");
  if (find(r.session, r.cl_ord_id) != nullptr)
    return reject_new(r, kRejDuplicate, "ClOrdID " + r.cl_ord_id + " is already in use on this session");
  if (!r.problem.empty()) return reject_new(r, kRejOther, r.problem);
  if (market_closed_)
    return reject_new(r, kRejExchangeClosed, "the market is closed: the recorded data has ended");
  if (stopping_) return reject_new(r, kRejExchangeClosed, "the server is shutting down");
  if (r.symbol.empty()) return reject_new(r, kRejUnknownSymbol, "Symbol (55) is missing");
  const Instrument* instrument = config_.instrument(InstrumentId(r.symbol));
  if (instrument == nullptr || !InstrumentId::fits(r.symbol)) {
    std::string known;
    for (const auto& i : config_.instruments) known += (known.empty() ? "" : ", ") + i.id.str();
    return reject_new(r, kRejUnknownSymbol, "unknown symbol '" + r.symbol + "' (known: " + known + ")");
  }
  if (r.side != '1' && r.side != '2')
    return reject_new(r, kRejUnsupported, "Side (54) must be 1 (buy) or 2 (sell)");
  Qty qty;
  if (r.qty.empty()) return reject_new(r, kRejIncorrectQty, "OrderQty (38) is missing");
  if (!Qty::parse(r.qty, qty))
    return reject_new(r, kRejIncorrectQty, "OrderQty '" + r.qty + "' is not a decimal");
  if (!qty.is_positive()) return reject_new(r, kRejIncorrectQty, "OrderQty must be positive, not " + r.qty);
  if (auto sendable = config_.check_parent_qty(instrument->id, qty); !sendable)
    return reject_new(r, kRejIncorrectQty, sendable.message());
  Price limit = Price::unset();
  if (r.ord_type == '2') {
    if (r.price.empty()) return reject_new(r, kRejOther, "a limit order (OrdType 2) needs a Price (44)");
    if (!Price::parse(r.price, limit) || !limit.is_positive())
      return reject_new(r, kRejOther, "Price '" + r.price + "' is not a positive decimal");
    if (limit.raw() % instrument->tick_size.raw() != 0)
      return reject_new(r, kRejOther,
                        "Price " + r.price + " is off the tick " + instrument->tick_size.to_string());
  } else if (r.ord_type == '1') {
    if (!r.price.empty()) return reject_new(r, kRejOther, "a market order (OrdType 1) takes no Price");
  } else {
    return reject_new(r, kRejUnsupported,
                      std::string("OrdType '") + (r.ord_type ? std::string(1, r.ord_type) : "") +
                          "' is not supported (1 market, 2 limit)");
  }
  // The algo: TrancheAlgo (7001) by name, else TargetStrategy (847), else the configured default.
  std::string algo = r.algo;
  if (algo.empty() && !r.target_strategy.empty()) {
    algo = algo_of_target_strategy(r.target_strategy);
    if (algo.empty())
      return reject_new(r, kRejUnsupported,
                        "TargetStrategy " + r.target_strategy + " is not one Tranche runs");
  }
  if (algo.empty()) algo = config_.server.default_algo;
  const std::vector<std::string> names = ems::algo_names();
  if (std::find(names.begin(), names.end(), algo) == names.end()) {
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    return reject_new(r, kRejUnsupported, "unknown algo '" + algo + "' (known: " + known + ")");
  }
  std::vector<oms::AlgoParam> params;
  std::string bad;
  if (!strategy_params(r.strategy_params, params, bad))
    return reject_new(r, kRejOther, "TargetStrategyParameters: '" + bad + "' is not key=value");
  if (!r.participation_rate.empty())
    params.push_back({algo == "pov" ? "pov_rate" : "max_participation", r.participation_rate});

  const TimestampNs t = now();
  const std::string account = r.account.empty() ? client_of(r.session) : r.account;
  if (!AccountId::fits(account)) return reject_new(r, kRejOther, "Account '" + account + "' is too long");
  oms::ParentOrder parent;
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
    return reject_new(r, kRejTooLate,
                      "ExpireTime " + format_time(parent.end_ns) + " (replay clock) is not after the start " +
                          format_time(parent.start_ns));
  if (auto made = ems::make_algo(parent); !made) return reject_new(r, kRejUnsupported, made.error().message);
  auto accepted = manager_.accept_parent(parent, t);
  check(manager_.flush());
  if (!accepted) return reject_new(r, kRejExceedsLimit, accepted.error().message);
  parent.id = *accepted;

  auto s = std::make_unique<Served>();
  s->session = r.session;
  s->cl_ord_id = r.cl_ord_id;
  s->account = r.account;
  s->id = parent.id;
  s->instrument = parent.instrument;
  s->side = parent.side;
  const std::size_t slot = served_.size();
  by_cl_ord_id_[key_of(r.session, r.cl_ord_id)] = slot;
  by_parent_[parent.id.value()] = slot;
  served_.push_back(std::move(s));
  active_.push_back(slot);
  Served& served = *served_.back();
  ParentAnswer accepted_answer = answer_for(served, '0');
  accepted_answer.text = algo + " " + (parent.side == Side::Buy ? "buy " : "sell ") + qty.to_string() + " " +
                         instrument->id.str() + " from " + format_time(parent.start_ns) + " to " +
                         format_time(parent.end_ns) + " (replay clock)";
  answer_(accepted_answer);
  start_algo(served);
}

void ServeKernel::start_algo(Served& s) {
  const oms::ParentRecord* p = manager_.oms().parent(s.id);
  if (p == nullptr) return;
  auto made = ems::make_algo(p->order);
  if (!made) {
    s.started = true;
    begin_cancel(s, made.error().message);
    return;
  }
  InstrumentState& st = state_of(s.instrument);
  const std::size_t slot = by_parent_[s.id.value()];
  s.exec = std::make_unique<ems::ParentExecution>(
      manager_, *st.placer, std::move(made.value()), p->order,
      [this, slot](TimestampNs at) { sim_->set_timer(at, slot * 4 + kWake); });
  s.started = true;
  if (p->order.end_ns != 0) sim_->set_timer(p->order.end_ns + kGraceNs, slot * 4 + kGrace);
  if (!s.saved_state.empty()) {
    // After a restart: where the journal says the algo stood; the children the old process left were
    // canceled by the recovery (they are reconciled before this runs).
    if (auto restored = s.exec->algo().restore(s.saved_state); !restored) {
      // This parent cannot go on; the others can.
      s.exec.reset();
      begin_cancel(s, "its algo could not be resumed: " + restored.message());
      return;
    }
    for (const oms::ChildOrder* c : manager_.oms().children_of(s.id))
      if (c->open()) s.orphans.insert(c->order.client_order_id.value());
    s.sweep = !s.orphans.empty();
    sweep_cancels(s);
    if (s.canceling) {
      // A cancel the journal recorded is carried through.
      s.exec->algo().cancel(*s.exec, now(), s.cancel_reason);
      return;
    }
    s.exec->algo().on_restart(*s.exec, market_now(s.instrument));
    return;
  }
  std::vector<std::pair<TimestampNs, double>> prints(st.prints.begin(), st.prints.end());
  std::vector<std::pair<TimestampNs, double>> mids(st.mids.begin(), st.mids.end());
  s.exec->algo().on_history(prints, mids);
  s.exec->algo().on_start(*s.exec, market_now(s.instrument));
}

void ServeKernel::cancel_reject(const ParentRequest& r, char response_to, int reason, const std::string& text,
                                const Served* s) {
  ParentAnswer a;
  if (s != nullptr) {
    a = answer_for(*s, '0');
    a.exec_id.clear();
  } else {
    a.session = r.session;
    a.ord_status = '8';  // unknown order: FIX says Rejected
    a.transact_ns = now();
  }
  a.cancel_reject = true;
  a.cl_ord_id = r.cl_ord_id;
  a.orig_cl_ord_id = r.orig_cl_ord_id;
  a.cxl_rej_response_to = response_to;
  a.cxl_rej_reason = reason;
  a.text = text;
  answer_(a);
}

void ServeKernel::on_cancel(const ParentRequest& r) {
  Served* s = find(r.session, r.orig_cl_ord_id);
  if (s == nullptr)
    return cancel_reject(r, '1', kCxlUnknownOrder, "unknown order " + r.orig_cl_ord_id, nullptr);
  if (s->ended) return cancel_reject(r, '1', kCxlTooLate, "the order has ended", s);
  if (s->canceling) return cancel_reject(r, '1', kCxlPending, "a cancel is already under way", s);
  if (r.cl_ord_id.empty() || find(r.session, r.cl_ord_id) != nullptr)
    return cancel_reject(r, '1', kCxlDuplicate, "ClOrdID '" + r.cl_ord_id + "' is missing or already in use",
                         s);
  if (s->market_closed || (s->exec != nullptr && s->exec->algo().done()))
    return cancel_reject(r, '1', kCxlTooLate, "too late: the order is already ending", s);
  by_cl_ord_id_[key_of(r.session, r.cl_ord_id)] = by_parent_[s->id.value()];
  s->cancel_cl_ord_id = r.cl_ord_id;
  check(manager_.record_algo_state(s->id, kFixCancel, identity_detail(r.session, r.cl_ord_id), now()));
  begin_cancel(*s, "canceled by the client");
  check(manager_.flush());
  ParentAnswer a = answer_for(*s, '6');
  a.cl_ord_id = r.cl_ord_id;
  a.orig_cl_ord_id = s->cl_ord_id;
  answer_(a);
  maybe_finish(*s);
}

// The parent is canceled: recorded in the OMS, its algo stopped, and its open children canceled (retried
// until the gate lets each cancel through).
void ServeKernel::begin_cancel(Served& s, const std::string& why) {
  s.canceling = true;
  s.cancel_reason = why;
  const oms::ParentRecord* p = manager_.oms().parent(s.id);
  if (s.exec != nullptr && !s.exec->algo().done()) {
    if (auto st = s.exec->cancel(now(), why); !st.ok() && !refused_cancel(st)) check(st);
  } else if (p != nullptr && p->state == oms::ParentState::Working) {
    if (auto st = manager_.cancel_parent(s.id, why, now()); !st.ok() && !refused_cancel(st)) check(st);
  }
  s.sweep = true;
  s.next_sweep_ns = 0;
}

void ServeKernel::on_replace(const ParentRequest& r) {
  Served* s = find(r.session, r.orig_cl_ord_id);
  if (s == nullptr)
    return cancel_reject(r, '2', kCxlUnknownOrder, "unknown order " + r.orig_cl_ord_id, nullptr);
  if (s->ended) return cancel_reject(r, '2', kCxlTooLate, "the order has ended", s);
  if (!s->cancel_cl_ord_id.empty()) return cancel_reject(r, '2', kCxlPending, "a cancel is pending", s);
  if (r.cl_ord_id.empty() || find(r.session, r.cl_ord_id) != nullptr)
    return cancel_reject(r, '2', kCxlDuplicate, "ClOrdID '" + r.cl_ord_id + "' is missing or already in use",
                         s);
  if (stopping_) return cancel_reject(r, '2', kCxlOther, "the server is shutting down", s);
  if (s->exec == nullptr) return cancel_reject(r, '2', kCxlOther, "the order is being recovered", s);
  if (s->market_closed || s->exec->algo().done())
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
  if (r.effective_ns && *r.effective_ns > now() && *r.effective_ns != p->order.start_ns)
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
  if (r.expire_ns && *r.expire_ns <= now())
    return cancel_reject(r, '2', kCxlTooLate, "ExpireTime is not in the future", s);
  if (auto st = s->exec->amend(market_now(s->instrument), qty, limit, end); !st.ok()) {
    check(manager_.flush());
    return cancel_reject(r, '2', kCxlOther, st.message(), s);
  }
  if (end != 0) sim_->set_timer(end + kGraceNs, by_parent_[s->id.value()] * 4 + kGrace);
  const std::string orig = s->cl_ord_id;
  by_cl_ord_id_[key_of(r.session, r.cl_ord_id)] = by_parent_[s->id.value()];
  s->cl_ord_id = r.cl_ord_id;
  check(manager_.record_algo_state(s->id, kFixReplace, identity_detail(s->session, r.cl_ord_id), now()));
  check(manager_.flush());
  ParentAnswer a = answer_for(*s, '5');
  a.orig_cl_ord_id = orig;
  answer_(a);
  maybe_finish(*s);
}

void ServeKernel::on_status(const ParentRequest& r) {
  Served* s = find(r.session, r.cl_ord_id);
  if (s == nullptr) return answer_(without_parent(r, 'I', "unknown order " + r.cl_ord_id));
  ParentAnswer a = answer_for(*s, 'I');
  a.cl_ord_id = r.cl_ord_id;
  answer_(a);
}

// The parent as it stands, in an ExecutionReport of `exec_type`.
ParentAnswer ServeKernel::answer_for(const Served& s, char exec_type) const {
  const oms::ParentRecord* p = manager_.oms().parent(s.id);
  ParentAnswer a;
  a.session = s.session;
  a.exec_type = exec_type;
  a.order_id = std::to_string(s.id.value());
  a.exec_id = next_exec_id();
  a.cl_ord_id = s.cl_ord_id;
  a.account = s.account;
  a.symbol = s.instrument.str();
  a.side = s.side == Side::Buy ? '1' : '2';
  a.transact_ns = sim_->now();
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

// --- the market, reports and timers ---

ServeKernel::InstrumentState& ServeKernel::state_of(const InstrumentId& instrument) {
  InstrumentState& st = instruments_[instrument.str()];
  if (!st.placer) {
    ems::PlacerParams params;
    params.flush = false;  // one flush per event, after every parent has acted
    st.placer = std::make_unique<ems::Placer>(config_, manager_, params);
  }
  return st;
}

std::vector<ems::VenueView> ServeKernel::views(const InstrumentId& instrument, int only_venue) const {
  VenueViewOptions options;
  options.only_venue = only_venue;
  options.depth = kViewDepth;
  for (const auto& [venue, until] : avoid_until_)
    if (until > sim_->now()) options.avoid.push_back(venue);
  options.max_data_age_ns = config_.risk.max_market_data_age_ns;
  options.gate = &gate_;
  return venue_views(*sim_, instrument, sim_->now(), options);
}

// The views as they stand, kept (the algo's market points at them): one venue's rebuilt on its own event,
// every venue at least each 100 ms and after our own reports.
ems::AlgoMarket ServeKernel::market_now(const InstrumentId& instrument, int changed_venue) {
  InstrumentState& st = state_of(instrument);
  const TimestampNs t = now();
  if (changed_venue < 0 || st.views.empty() || t - st.views_full_ns >= 100 * kNanosPerMilli) {
    st.views = views(instrument);
    st.views_full_ns = t;
  } else {
    for (auto& fresh : views(instrument, changed_venue))
      for (auto& cached : st.views)
        if (cached.venue == fresh.venue) cached = std::move(fresh);
  }
  return ems::algo_market(st.views, t);
}

void ServeKernel::record_mid(InstrumentState& st, const InstrumentId& instrument, TimestampNs now_ns) {
  const int v = sim_->venue_index(VenueId(config_.primary_venue));
  if (v < 0) return;
  const int m = sim_->venue(static_cast<std::size_t>(v)).market_of(instrument);
  if (m < 0) return;
  const sim::SimMarket& market = sim_->venue(static_cast<std::size_t>(v)).market(static_cast<std::size_t>(m));
  const Price b = market.best(Side::Buy), a = market.best(Side::Sell);
  if (!b.is_set() || !a.is_set()) return;
  st.mids.emplace_back(now_ns, (b.to_double() + a.to_double()) / 2);
  while (!st.mids.empty() && st.mids.front().first < now_ns - kHistoryNs) st.mids.pop_front();
}

void ServeKernel::on_market_data(const sim::MarketDataRef& ref, const md::Event& event) {
  const sim::SimMarket& market = sim_->venue(ref.venue).market(ref.market);
  const TimestampNs t = now();
  gate_.on_quote(ref.venue_id, ref.instrument, market.best(Side::Buy), market.best(Side::Sell), t);
  InstrumentState& st = state_of(ref.instrument);
  const bool print = event.kind == md::EventKind::Trade && !(event.flags & md::kFlagSimulated);
  double base = 0;
  if (print) {
    base = event.qty.to_double();
    const double price = event.price.to_double();
    if (market.listing().inverse && price > 0)
      base = base * market.listing().contract_size.to_double() / price;
    st.prints.emplace_back(t, base);
    while (!st.prints.empty() && st.prints.front().first < t - kHistoryNs) st.prints.pop_front();
  }
  if (static_cast<int>(ref.venue) == sim_->venue_index(VenueId(config_.primary_venue)))
    record_mid(st, ref.instrument, t);
  bool any = false, waiting = false;
  for (std::size_t slot : active_) {
    const auto& s = served_[slot];
    any = any || (s->started && !s->ended && s->instrument == ref.instrument);
    waiting = waiting || (!s->started && !s->ended);
  }
  if (!any) {
    if (waiting) after_event();  // a recovered parent starts on the first event after the reconciliation
    return;
  }
  const ems::AlgoMarket m = market_now(ref.instrument, static_cast<int>(ref.venue));
  st.placer->on_market(st.views, t, &ref.venue_id);
  if (print) st.placer->on_trade(ref.venue_id, event.side, event.price, base, t);
  for (std::size_t slot : active_) {
    const auto& s = served_[slot];
    if (!s->started || s->ended || s->instrument != ref.instrument || s->exec == nullptr) continue;
    if (print)
      s->exec->algo().on_trade(*s->exec, m, base);
    else
      s->exec->algo().on_market(*s->exec, m);
  }
  after_event();
}

void ServeKernel::on_execution_report(const ExecutionReport& report) {
  manager_.on_execution_report(report);
  check(manager_.event_error());
  if (report.exec_type == ExecType::Rejected && report.reject_reason != RejectReason::RiskDenied &&
      report.reject_reason != RejectReason::PostOnlyWouldCross)
    avoid_until_[report.venue.str()] = report.received_ns + kAvoidNs;
  const oms::ChildOrder* child = manager_.oms().child(report.client_order_id);
  if (child == nullptr) return after_event();
  auto it = by_parent_.find(child->order.parent_id.value());
  if (it == by_parent_.end()) return after_event();
  Served& s = *served_[it->second];
  const bool fresh_fill = report.exec_type == ExecType::Trade &&
                          seen_exec_.insert(report.venue.str() + "/" + report.exec_id.str()).second;
  InstrumentState& st = state_of(s.instrument);
  st.placer->on_report(report);
  if (fresh_fill) report_fills(s, report);
  if (s.exec != nullptr && !s.ended) {
    const ems::AlgoMarket m = market_now(s.instrument);
    if (report.exec_type == ExecType::Trade)
      s.exec->algo().on_fill(*s.exec, m);
    else
      s.exec->algo().on_market(*s.exec, m);
  }
  after_event();
}

void ServeKernel::on_venue_status(const VenueStatusReport& status) {
  manager_.on_venue_status(status);
  check(manager_.event_error());
  after_event();
}

void ServeKernel::report_fills(Served& s, const ExecutionReport& report) {
  const oms::ParentRecord* p = manager_.oms().parent(s.id);
  // After the final report a client hears of no more fills (the journal has every one).
  if (s.ended || p == nullptr || p->executed <= s.reported_cum) return;
  ParentAnswer a = answer_for(s, 'F');
  a.last_qty = p->executed - s.reported_cum;
  a.last_px = report.last_price;
  a.last_mkt = report.venue.str();
  s.reported_cum = p->executed;
  answer_(a);
}

void ServeKernel::on_timer(std::uint64_t id, TimestampNs now_ns) {
  const std::size_t slot = id / 4;
  if (slot >= served_.size()) return;
  Served& s = *served_[slot];
  if (s.ended) return;
  if (id % 4 == kForceEnd) {
    // The venues closed with the data; children they never answered for are left open in the OMS.
    const oms::ParentRecord* p = manager_.oms().parent(s.id);
    std::ostringstream text;
    text << "the recorded data ended with " << (p ? p->executed.to_string() : std::string("0"))
         << " executed; the venues are closed and never answered for its last children";
    finish(s, oms::ParentState::Expired, text.str());
    return after_event();
  }
  if (s.exec == nullptr) return;
  if (id % 4 == kWake) s.exec->algo().on_timer(*s.exec, market_now(s.instrument));
  if (id % 4 == kGrace && !s.exec->algo().done()) {
    const oms::ParentRecord* p = manager_.oms().parent(s.id);
    if (p != nullptr && now_ns >= p->order.end_ns + kGraceNs)
      s.exec->algo().cancel(
          *s.exec, now_ns,
          "still working " + std::to_string(kGraceNs / kNanosPerSecond) + " s after its end time");
  }
  after_event();
}

// After each event: the journal committed and requests sent (one flush for every parent), then each parent
// that has finished says so.
void ServeKernel::after_event() {
  check(manager_.flush());
  for (std::size_t slot : active_) {
    Served* s = served_[slot].get();
    if (s->ended) continue;
    if (!s->started && !manager_.reconciling()) start_algo(*s);
    if (s->exec != nullptr) check(s->exec->check_journal());
    if (s->sweep) sweep_cancels(*s);
    maybe_finish(*s);
  }
  // Ended parents leave the list every event walks (they stay known by their ClOrdIDs).
  active_.erase(
      std::remove_if(active_.begin(), active_.end(), [&](std::size_t slot) { return served_[slot]->ended; }),
      active_.end());
  const Status committed = manager_.flush();
  check(committed);
  if (!committed.ok() || !error_.ok()) return;  // what could not be made durable is never told
  std::vector<ParentAnswer> answers;
  answers.swap(pending_answers_);
  for (const auto& a : answers) deliver_(a);
}
void ServeKernel::sweep_cancels(Served& s) {
  if (now() < s.next_sweep_ns) return;
  const bool everything = s.canceling || s.market_closed || s.exec == nullptr || s.exec->algo().done();
  bool open_left = false;
  for (const oms::ChildOrder* c : manager_.oms().children_of(s.id)) {
    if (!c->open()) continue;
    const bool orphan = s.orphans.count(c->order.client_order_id.value()) != 0;
    if (!everything && !orphan) continue;
    open_left = true;
    if (c->status == OrderStatus::PendingCancel) continue;
    if (auto st = manager_.cancel_child(c->order.client_order_id, now()); !st.ok() && !refused_cancel(st))
      check(st);
  }
  s.sweep = open_left;
  s.next_sweep_ns = now() + kSweepNs;
}

void ServeKernel::maybe_finish(Served& s) {
  if (s.ended || !s.started) return;
  const bool algo_done = s.exec == nullptr || s.exec->algo().done();
  for (const oms::ChildOrder* c : manager_.oms().children_of(s.id))
    if (c->open()) {
      if (algo_done && !s.sweep) s.sweep = true;  // what the placer could not cancel is retried here
      return;
    }
  if (!algo_done) return;
  const oms::ParentRecord* p = manager_.oms().parent(s.id);
  if (p == nullptr) return;
  if (p->executed >= p->order.qty || (s.exec != nullptr && s.exec->algo().completed()))
    return finish(s, oms::ParentState::Filled, s.exec != nullptr ? s.exec->algo().done_text() : "filled");
  if (s.canceling) {
    // A restored algo that was done already has no words of its own: the cancel's reason says it.
    const bool own = s.exec != nullptr && !s.exec->algo().done_text().empty();
    std::ostringstream text;
    text << "canceled (" << s.cancel_reason << "): " << p->executed.to_string() << " executed";
    return finish(s, oms::ParentState::Canceled, own ? s.exec->algo().done_text() : text.str());
  }
  if (s.market_closed) {
    std::ostringstream text;
    text << "the recorded data ended with " << p->executed.to_string() << " executed; the venues are closed";
    return finish(s, oms::ParentState::Expired, text.str());
  }
  finish(s, oms::ParentState::Expired, s.exec->algo().done_text());
}

void ServeKernel::finish(Served& s, oms::ParentState state, const std::string& text) {
  if (s.ended) return;
  check(manager_.finish_parent(s.id, state, text, now()));
  check(manager_.flush());
  s.ended = true;
  const oms::ParentRecord* p = manager_.oms().parent(s.id);
  if (p == nullptr) return;
  switch (p->state) {
    case oms::ParentState::Filled:
      // Executed in full: the last fill's report said Filled. Short of it by less than any venue takes: done.
      if (p->executed < p->order.qty) answer_(answer_for(s, '3'));
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
      answer_(a);
      break;
    }
    default:
      answer_(answer_for(s, 'C'));
      break;
  }
}

void ServeKernel::data_ended(TimestampNs now_ns) {
  if (market_closed_) return;
  market_closed_ = true;
  for (std::size_t slot : active_) {
    Served& s = *served_[slot];
    if (s.ended) continue;
    s.market_closed = true;
    s.started = true;  // a parent still waiting for its recovery will not start now
    if (s.exec != nullptr && !s.exec->algo().done())
      s.exec->algo().cancel(*s.exec, now_ns, "the recorded data ended");
    s.sweep = true;
    s.next_sweep_ns = 0;
    sim_->set_timer(now_ns + kForceEndNs, slot * 4 + kForceEnd);
  }
  after_event();
}

void ServeKernel::reopen(sim::Simulator& sim) {
  sim_ = &sim;
  market_closed_ = false;
  for (auto& [name, st] : instruments_) {
    st.views.clear();
    st.views_full_ns = 0;
  }
}

void ServeKernel::cancel_all(TimestampNs now_ns, const std::string& why) {
  (void)now_ns;
  for (std::size_t slot : active_) {
    Served* s = served_[slot].get();
    if (s->ended || s->canceling) continue;
    s->started = true;  // a parent still waiting for its recovery is canceled without starting
    begin_cancel(*s, why);
  }
  after_event();
}

std::size_t ServeKernel::close_children_of_restarted_venues(const std::set<std::string>& outliving) {
  std::vector<ExecutionReport> closing;
  for (const oms::ChildOrder* c : manager_.oms().open_children()) {
    if (outliving.count(c->order.venue.str()) != 0) continue;  // reconciled with the venue instead
    ExecutionReport r;
    r.client_order_id = c->order.client_order_id;
    r.exec_id = ExecId("restart-" + std::to_string(c->order.client_order_id.value()));
    r.venue = c->order.venue;
    r.instrument = c->order.instrument;
    r.exec_type = ExecType::Canceled;
    r.status = OrderStatus::Canceled;
    r.side = c->order.side;
    r.order_price = c->order.price;
    r.order_qty = c->order.qty;
    r.cum_qty = c->cum_qty;
    r.leaves_qty = Qty();
    r.text = FixedString<95>("the simulated venue restarted with the server");
    r.venue_ns = now();
    r.received_ns = now();
    closing.push_back(r);
  }
  for (const auto& r : closing) manager_.on_execution_report(r);
  check(manager_.event_error());
  check(manager_.flush());
  return closing.size();
}

Status ServeKernel::recover(const oms::Journal& journal) {
  // Each parent's FIX identity (with its replaces and cancel) and its algo's latest saved state, as the
  // journal has them.
  std::map<std::uint64_t, std::vector<std::string>> replaces;
  std::map<std::uint64_t, std::string> cancels, cancel_reasons, saved;
  auto id_of = [](const std::string& detail) -> std::optional<std::string> {
    const auto at = detail.rfind(" cl_ord_id=");
    if (detail.rfind("session=", 0) != 0 || at == std::string::npos) return std::nullopt;
    return detail.substr(at + 11);
  };
  auto replayed = journal.replay([&](const oms::Record& record) -> Status {
    if (const auto* cancel = std::get_if<oms::ParentCancelRequest>(&record.body)) {
      cancel_reasons[cancel->id.value()] = cancel->reason;
      return {};
    }
    const auto* change = std::get_if<oms::AlgoStateChange>(&record.body);
    if (change == nullptr) return {};
    if (change->state == kFixReplace) {
      if (auto c = id_of(change->detail)) replaces[change->id.value()].push_back(*c);
    } else if (change->state == kFixCancel) {
      if (auto c = id_of(change->detail)) cancels[change->id.value()] = *c;
    } else if (auto state = ems::Algo::saved_state_in(change->detail)) {
      saved[change->id.value()] = *state;
    }
    return {};
  });
  if (!replayed.ok()) return replayed;
  for (const auto& [id, record] : manager_.oms().parents()) {
    if (oms::is_final(record.state)) continue;
    auto s = std::make_unique<Served>();
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
    s->side = record.order.side;
    s->reported_cum = record.executed;
    if (auto st = saved.find(id); st != saved.end()) s->saved_state = st->second;
    if (record.state == oms::ParentState::PendingCancel) {
      s->canceling = true;
      s->cancel_reason = cancel_reasons.count(id) ? cancel_reasons[id] : "canceled";
    }
    const std::size_t slot = served_.size();
    for (const auto& c : ids) by_cl_ord_id_[key_of(s->session, c)] = slot;
    by_parent_[id] = slot;
    served_.push_back(std::move(s));
    active_.push_back(slot);
  }
  return {};
}

}  // namespace tranche::service
