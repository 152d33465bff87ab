#include "service/api_desk.hpp"

#include "ems/list_balance.hpp"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "ems/algo.hpp"
#include "service/order_json.hpp"
#include "service/process_memory.hpp"
#include "service/replay_clock.hpp"

namespace tranche::service {

using gateway::ApiCall;
using gateway::ApiRole;
using json = nlohmann::ordered_json;

namespace {

constexpr const char* kApiCancel = "api-cancel";
constexpr const char* kApiPause = "api-pause";
constexpr const char* kApiResume = "api-resume";

json opt_px(Price p) {
  return p.is_set() ? json(p.to_string()) : json(nullptr);
}

// "/api/v1/parents/12/cancel" -> {"api", "v1", "parents", "12", "cancel"}.
std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t at = 0;
  while (at < path.size()) {
    while (at < path.size() && path[at] == '/') ++at;
    const std::size_t end = std::min(path.find('/', at), path.size());
    if (end > at) parts.push_back(path.substr(at, end - at));
    at = end;
  }
  return parts;
}

// The value of `name` in a query string ("a=1&b=2"); nullopt when absent.
std::optional<std::string> query_value(const std::string& query, std::string_view name) {
  std::size_t at = 0;
  while (at <= query.size()) {
    const std::size_t end = std::min(query.find('&', at), query.size());
    const std::string_view item(query.data() + at, end - at);
    if (item.size() > name.size() && item.substr(0, name.size()) == name && item[name.size()] == '=')
      return std::string(item.substr(name.size() + 1));
    if (item == name) return std::string();
    at = end + 1;
  }
  return std::nullopt;
}

bool parse_id(const std::string& text, std::uint64_t& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && out > 0;
}

// A request body: one JSON object of known fields, each of its type, or the reason it is not.
class Body {
 public:
  explicit Body(const std::string& text) {
    if (text.empty()) {
      value_ = nlohmann::json::object();
      return;
    }
    value_ = nlohmann::json::parse(text, nullptr, false);
    if (value_.is_discarded())
      problem_ = "the body is not JSON";
    else if (!value_.is_object())
      problem_ = "the body must be a JSON object";
  }
  // Fields not in `known` are an error (a misspelled field must not be ignored).
  void only(std::initializer_list<std::string_view> known) {
    if (!problem_.empty()) return;
    for (const auto& [k, _] : value_.items()) {
      bool found = false;
      for (auto name : known) found = found || k == name;
      if (!found) {
        problem_ = "unknown field '" + k + "'";
        return;
      }
    }
  }
  // A string field ("" when absent; an error when present and not a string).
  std::string text(const char* name, bool required = false) {
    if (!problem_.empty()) return {};
    auto it = value_.find(name);
    if (it == value_.end() || it->is_null()) {
      if (required) problem_ = std::string(name) + " is missing";
      return {};
    }
    if (!it->is_string()) {
      problem_ = std::string(name) + " must be a string" +
                 (it->is_number() ? " (decimals go as strings: \"1.5\", never as numbers)" : "");
      return {};
    }
    return it->get<std::string>();
  }
  // {"key": "value", ...} as FIX's "key=value;key=value".
  std::string params(const char* name) {
    if (!problem_.empty()) return {};
    auto it = value_.find(name);
    if (it == value_.end() || it->is_null()) return {};
    if (!it->is_object()) {
      problem_ = std::string(name) + " must be an object of strings";
      return {};
    }
    std::string out;
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string() || k.find_first_of("=;") != std::string::npos ||
          v.get<std::string>().find(';') != std::string::npos) {
        problem_ = std::string(name) + "." + k + " must be a string without ';' (and its key without '=')";
        return {};
      }
      out += (out.empty() ? "" : ";") + k + "=" + v.get<std::string>();
    }
    return out;
  }
  const std::string& problem() const { return problem_; }

 private:
  nlohmann::json value_;
  std::string problem_;
};

}  // namespace

ApiDesk::ApiDesk(Services services, Outbox outbox)
    : s_(std::move(services)),
      out_(std::move(outbox)),
      tape_(*s_.market, s_.manager, VenueId(s_.config.primary_venue),
            s_.config.tca.arrival_mid == "consolidated", static_cast<std::size_t>(s_.config.oms.keep_recent),
            &s_.kernel) {
  if (s_.evidence != nullptr)
    tape_.set_on_final([evidence = s_.evidence](const ems::ParentEstimate& estimate, double realised_bps) {
      evidence->on_parent(estimate, realised_bps);
    });
}

void ApiDesk::reply(std::uint64_t call, int status, const json& body) {
  out_.respond(call, {status, "application/json", body.dump()});
}

void ApiDesk::error(std::uint64_t call, int status, const std::string& message) {
  reply(call, status, json{{"error", message}});
}

bool ApiDesk::allowed(const ApiCall& call, ApiRole needed) {
  if (static_cast<int>(call.role) >= static_cast<int>(needed)) return true;
  error(call.id, 403,
        "token '" + call.token_name + "' is a " + gateway::to_string(call.role) + ": this needs " +
            gateway::to_string(needed));
  return false;
}

void ApiDesk::settle() {
  s_.kernel.settle();
}

// --- routing ---

void ApiDesk::on_call(const ApiCall& call) {
  const std::vector<std::string> parts = split_path(call.path);
  const std::string& m = call.method;
  auto is = [&](std::initializer_list<const char*> want) {
    if (parts.size() != want.size()) return false;
    std::size_t i = 0;
    for (const char* w : want) {
      if (std::string_view(w) != "*" && parts[i] != w) return false;
      ++i;
    }
    return true;
  };
  auto id_at = [&](std::size_t i, ParentId& id) {
    std::uint64_t v = 0;
    if (!parse_id(parts[i], v)) {
      error(call.id, 400, "'" + parts[i] + "' is not a parent id");
      return false;
    }
    id = ParentId(v);
    return true;
  };
  auto method_not_allowed = [&](const char* allow) {
    error(call.id, 405, m + " is not allowed on " + call.path + " (" + allow + ")");
  };
  ParentId id;
  if (call.path == "/metrics") {
    if (m != "GET") return method_not_allowed("GET");
    return out_.respond(call.id, {200, "text/plain; version=0.0.4; charset=utf-8", metrics_text()});
  }
  if (parts.size() < 3 || parts[0] != "api" || parts[1] != "v1")
    return error(call.id, 404, "nothing at " + call.path + " (the API is under /api/v1: docs/api.md)");
  if (is({"api", "v1", "parents"})) {
    if (m == "GET") return list_parents(call);
    if (m == "POST") return allowed(call, ApiRole::Trader) ? submit(call) : void();
    return method_not_allowed("GET, POST");
  }
  if (is({"api", "v1", "lists"})) {
    if (m == "POST") return allowed(call, ApiRole::Trader) ? submit_list(call) : void();
    return method_not_allowed("POST");
  }
  if (is({"api", "v1", "parents", "*"})) {
    if (!id_at(3, id)) return;
    if (m == "GET") return get_parent(call, id);
    if (m == "PATCH") return allowed(call, ApiRole::Trader) ? amend(call, id) : void();
    if (m == "DELETE") return allowed(call, ApiRole::Trader) ? cancel(call, id) : void();
    return method_not_allowed("GET, PATCH, DELETE");
  }
  if (is({"api", "v1", "parents", "*", "*"})) {
    if (!id_at(3, id)) return;
    const std::string& action = parts[4];
    if (action == "tca") return m == "GET" ? parent_tca(call, id) : method_not_allowed("GET");
    if (action == "series") return m == "GET" ? parent_series(call, id) : method_not_allowed("GET");
    if (action != "cancel" && action != "pause" && action != "resume")
      return error(call.id, 404, "no action '" + action + "' (cancel, pause, resume, tca, series)");
    if (m != "POST") return method_not_allowed("POST");
    if (!allowed(call, ApiRole::Trader)) return;
    if (action == "cancel") return cancel(call, id);
    return pause_or_resume(call, id, action == "pause");
  }
  if (is({"api", "v1", "kill"}) || is({"api", "v1", "kill", "release"})) {
    if (m != "POST") return method_not_allowed("POST");
    if (!allowed(call, ApiRole::Admin)) return;
    return kill_switch(call, parts.size() == 3);
  }
  if (m != "GET") {
    static const std::set<std::string> readable = {"children", "fills",  "positions",
                                                   "balances", "venues", "risk"};
    if (parts.size() == 3 && readable.count(parts[2])) return method_not_allowed("GET");
    return error(call.id, 404, "nothing at " + call.path);
  }
  if (is({"api", "v1", "me"}))
    return reply(
        call.id, 200,
        json{{"token", call.token_name}, {"role", gateway::to_string(call.role)}, {"clock", s_.clock}});
  if (is({"api", "v1", "children"})) return list_children(call);
  if (is({"api", "v1", "fills"})) return list_fills(call);
  if (is({"api", "v1", "positions"})) return positions(call);
  if (is({"api", "v1", "balances"})) return balances(call);
  if (is({"api", "v1", "venues"})) return venues(call);
  if (is({"api", "v1", "risk"})) return risk(call);
  error(call.id, 404, "nothing at " + call.path);
}

// --- parents ---

json ApiDesk::parent_json(const oms::ParentRecord& p) const {
  json j;
  j["id"] = p.order.id.value();
  const auto identity = s_.desk.identity(p.order.id);
  j["client_order_id"] = identity ? identity->cl_ord_id : std::string();
  j["owner"] = identity ? identity->session : p.order.strategy;
  j["account"] = p.order.account.str();
  j["instrument"] = p.order.instrument.str();
  j["side"] = p.order.side == Side::Buy ? "buy" : "sell";
  j["qty"] = p.order.qty.to_string();
  j["limit"] = opt_px(p.order.limit);
  j["algo"] = p.order.algo;
  // An auto parent: the algo the kernel chose for it, and why (null until it chose; for any other).
  const ems::AutoChoice* chose = s_.kernel.auto_choice(p.order.id);
  j["auto"] = chose == nullptr ? json(nullptr) : json{{"chose", chose->algo}, {"why", chose->why}};
  json params = json::object();
  for (const auto& [k, v] : p.order.params) params[k] = v;
  j["params"] = params;
  j["state"] = oms::to_string(p.state);
  const ems::Algo* algo = s_.kernel.algo(p.order.id);
  j["phase"] =
      algo != nullptr ? ems::to_string(algo->phase()) : (oms::is_final(p.state) ? "done" : "starting");
  j["executed"] = p.executed.to_string();
  const Qty leaves = oms::is_final(p.state)
                         ? Qty()
                         : Qty::from_raw(std::max<std::int64_t>(0, (p.order.qty - p.executed).raw()));
  j["leaves"] = leaves.to_string();
  j["in_flight"] = p.in_flight.to_string();
  j["scheduled"] = algo != nullptr ? algo->scheduled().to_string() : p.executed.to_string();
  j["average_price"] = opt_px(p.average_price());
  j["fees"] = fees_json(p.fees);
  j["children"] = p.children.size();
  j["start_ns"] = p.order.start_ns;
  j["end_ns"] = p.order.end_ns;
  j["accepted_ns"] = p.accepted_ns;
  j["done_ns"] = p.done_ns;
  j["done_text"] = p.done_text;
  j["clock"] = s_.clock;
  return j;
}

void ApiDesk::list_parents(const ApiCall& call) {
  const std::string state = query_value(call.query, "state").value_or("all");
  if (state != "all" && state != "working" && state != "ended")
    return error(call.id, 400, "state='" + state + "' is not all, working or ended");
  json list = json::array();
  for (const auto& [_, p] : s_.manager.oms().parents()) {
    const bool ended = oms::is_final(p.state);
    if ((state == "working" && ended) || (state == "ended" && !ended)) continue;
    list.push_back(parent_json(p));
  }
  reply(call.id, 200,
        json{{"parents", list},
             {"working", s_.kernel.working()},
             {"forgotten", s_.manager.oms().forgotten().parents},
             {"now_ns", s_.market->now()},
             {"clock", s_.clock}});
}

void ApiDesk::get_parent(const ApiCall& call, ParentId id) {
  const oms::ParentRecord* p = s_.manager.oms().parent(id);
  if (p == nullptr)
    return error(
        call.id, 404,
        "no parent " + std::to_string(id.value()) +
            " in memory (an ended parent leaves after [oms] forget_ended_after; `tranche journal` has "
            "every one)");
  json j = parent_json(*p);
  json children = json::array();
  json fills = json::array();
  for (const oms::ChildOrder* c : s_.manager.oms().children_of(id)) {
    children.push_back(child_json(*c));
    for (const oms::Fill* f : s_.manager.oms().fills_of(c->order.client_order_id))
      fills.push_back(fill_json(*f));
  }
  std::sort(fills.begin(), fills.end(), [](const json& a, const json& b) {
    return a["seq"].get<std::uint64_t>() < b["seq"].get<std::uint64_t>();
  });
  reply(call.id, 200,
        json{{"parent", j}, {"child_orders", children}, {"fills", fills}, {"now_ns", s_.market->now()}});
}

namespace {

// A parent's own fields, as POST /parents and each leg of POST /lists give them; what is wrong with them, if
// anything.
std::string read_parent_fields(Body& body, ParentRequest& o) {
  o.cl_ord_id = body.text("client_order_id", true);
  o.symbol = body.text("instrument", true);
  const std::string side = body.text("side", true);
  o.qty = body.text("qty", true);
  o.price = body.text("limit");
  o.algo = body.text("algo");
  o.strategy_params = body.params("params");
  o.participation_rate = body.text("participation_rate");
  o.account = body.text("account");
  if (!body.problem().empty()) return body.problem();
  if (o.cl_ord_id.size() > 64 || o.cl_ord_id.find_first_of(" \t\r\n") != std::string::npos)
    return "client_order_id must be 1 to 64 characters without spaces";
  if (side != "buy" && side != "sell") return "side must be \"buy\" or \"sell\"";
  o.side = side == "buy" ? '1' : '2';
  o.ord_type = o.price.empty() ? '1' : '2';
  return {};
}

// start_time, end_time or horizon (the wall's) as the market's start and end; what is wrong, if anything.
std::string market_window(Body& body, const std::function<TimestampNs(TimestampNs)>& to_market,
                          std::optional<TimestampNs>& effective, std::optional<TimestampNs>& expire) {
  const std::string start_time = body.text("start_time");
  const std::string end_time = body.text("end_time");
  const std::string horizon = body.text("horizon");
  if (!body.problem().empty()) return body.problem();
  const TimestampNs now_wall = wall_now_ns();
  if (!start_time.empty()) {
    auto t = parse_time(start_time);
    if (!t) return "start_time: " + t.error().message;
    effective = to_market(*t);
  }
  if (!end_time.empty() && !horizon.empty()) return "end_time and horizon: name one";
  if (!end_time.empty()) {
    auto t = parse_time(end_time);
    if (!t) return "end_time: " + t.error().message;
    expire = to_market(*t);
  }
  if (!horizon.empty()) {
    auto d = parse_duration(horizon);
    if (!d || *d <= 0) return "horizon '" + horizon + "' is not a positive duration (\"10m\")";
    expire = std::max(effective.value_or(to_market(now_wall)), to_market(now_wall)) + *d;
  }
  return {};
}

}  // namespace

void ApiDesk::submit(const ApiCall& call) {
  Body body(call.body);
  body.only({"client_order_id", "instrument", "side", "qty", "limit", "algo", "params", "participation_rate",
             "start_time", "end_time", "horizon", "account"});
  ParentRequest r;
  r.kind = ParentRequest::Kind::New;
  r.session = kSessionPrefix + call.token_name;
  if (auto problem = read_parent_fields(body, r); !problem.empty()) return error(call.id, 400, problem);
  // A repeat of a client order id the desk still holds is the same parent, not a second one.
  if (auto existing = s_.desk.parent_of(r.session, r.cl_ord_id)) {
    if (const oms::ParentRecord* p = s_.manager.oms().parent(*existing))
      return reply(call.id, 200, json{{"parent", parent_json(*p)}, {"repeated", true}});
  }
  if (waiting_.count(key(r.session, r.cl_ord_id)))
    return error(call.id, 409, "client_order_id " + r.cl_ord_id + " is already being submitted");
  if (auto problem = market_window(body, s_.to_market, r.effective_ns, r.expire_ns); !problem.empty())
    return error(call.id, 400, problem);
  waiting_[key(r.session, r.cl_ord_id)] = {call.id, r.kind};
  ++api_actions_;
  s_.desk.on_request(r);  // answered through on_answer once the journal has it
}

void ApiDesk::submit_list(const ApiCall& call) {
  // A list (docs/lists.md): its legs as POST /parents takes them, one window for all, and the list's limit;
  // the desk takes it as FIX's NewOrderList, with the same checks and answers.
  Body body(call.body);
  body.only({"list_id", "max_imbalance", "cash_limit", "legs", "start_time", "end_time", "horizon"});
  ParentRequest r;
  r.kind = ParentRequest::Kind::NewList;
  r.session = kSessionPrefix + call.token_name;
  r.list_id = body.text("list_id", true);
  r.one_sided_pct = body.text("max_imbalance");
  r.one_sided_value = body.text("cash_limit");
  if (!body.problem().empty()) return error(call.id, 400, body.problem());
  const auto parsed = json::parse(call.body, nullptr, false);
  const auto legs = parsed.find("legs");
  if (legs == parsed.end() || !legs->is_array() || legs->empty())
    return error(call.id, 400, "legs must be a non-empty array of parents");
  if (legs->size() > ems::kMaxListLegs)
    return error(call.id, 400, "at most " + std::to_string(ems::kMaxListLegs) + " legs a list");
  std::optional<TimestampNs> effective, expire;
  if (auto problem = market_window(body, s_.to_market, effective, expire); !problem.empty())
    return error(call.id, 400, problem);
  std::set<std::string> ids;
  for (std::size_t i = 0; i < legs->size(); ++i) {
    const std::string where = "legs[" + std::to_string(i) + "]: ";
    if (!(*legs)[i].is_object()) return error(call.id, 400, where + "must be an object");
    Body leg((*legs)[i].dump());
    leg.only({"client_order_id", "instrument", "side", "qty", "limit", "algo", "params", "participation_rate",
              "account"});
    ParentRequest o;
    o.kind = ParentRequest::Kind::New;
    o.session = r.session;
    if (auto problem = read_parent_fields(leg, o); !problem.empty())
      return error(call.id, 400, where + problem);
    if (!ids.insert(o.cl_ord_id).second || waiting_.count(key(r.session, o.cl_ord_id)))
      return error(call.id, 409, where + "client_order_id " + o.cl_ord_id + " is already being submitted");
    o.effective_ns = effective;
    o.expire_ns = expire;
    r.orders.push_back(std::move(o));
  }
  if (list_waiting_.count(key(r.session, r.list_id)))
    return error(call.id, 409, "list " + r.list_id + " is already being submitted");
  ListWaiting& w = list_waiting_[key(r.session, r.list_id)];
  w.call = call.id;
  for (const auto& o : r.orders) w.legs.push_back(o.cl_ord_id);
  ++api_actions_;
  s_.desk.on_request(r);  // answered through on_answer once every leg has its first answer
}

bool ApiDesk::on_list_answer(const ParentAnswer& a) {
  if (a.list_id.empty()) return false;
  auto it = list_waiting_.find(key(a.session, a.list_id));
  if (it == list_waiting_.end()) return false;
  ListWaiting& w = it->second;
  if (std::find(w.legs.begin(), w.legs.end(), a.cl_ord_id) == w.legs.end() || w.first.count(a.cl_ord_id))
    return false;  // a later answer (a fill, an end): the stream tells those
  w.first[a.cl_ord_id] = a;
  if (w.first.size() < w.legs.size()) return true;
  json legs = json::array();
  std::string refused;
  int reason = -1;
  for (const std::string& id : w.legs) {
    const ParentAnswer& leg = w.first[id];
    json j{{"client_order_id", id}, {"accepted", leg.exec_type != '8'}, {"text", leg.text}};
    std::uint64_t parent = 0;
    if (!leg.order_id.empty() && parse_id(leg.order_id, parent))
      if (const oms::ParentRecord* p = s_.manager.oms().parent(ParentId(parent)))
        j["parent"] = parent_json(*p);
    if (leg.exec_type == '8' && refused.empty()) {
      refused = leg.text;
      reason = leg.ord_rej_reason;
    }
    legs.push_back(std::move(j));
  }
  const std::uint64_t call = w.call;
  const std::string list_id = a.list_id;
  list_waiting_.erase(it);
  if (refused.empty())
    reply(call, 201, json{{"list_id", list_id}, {"legs", legs}});
  else
    reply(call, 422,
          json{{"error", refused}, {"reject_reason", reason}, {"list_id", list_id}, {"legs", legs}});
  return true;
}

void ApiDesk::amend(const ApiCall& call, ParentId id) {
  Body body(call.body);
  body.only({"client_order_id", "qty", "limit", "end_time"});
  ParentRequest r;
  r.kind = ParentRequest::Kind::Replace;
  r.session = kSessionPrefix + call.token_name;
  r.cl_ord_id = body.text("client_order_id", true);
  r.qty = body.text("qty");
  r.price = body.text("limit");
  const std::string end_time = body.text("end_time");
  if (!body.problem().empty()) return error(call.id, 400, body.problem());
  if (r.qty.empty() && r.price.empty() && end_time.empty())
    return error(call.id, 400, "an amend changes qty, limit or end_time: none was given");
  if (!end_time.empty()) {
    auto t = parse_time(end_time);
    if (!t) return error(call.id, 400, "end_time: " + t.error().message);
    r.expire_ns = s_.to_market(*t);
  }
  const auto identity = s_.desk.identity(id);
  if (s_.manager.oms().parent(id) == nullptr || !identity)
    return error(call.id, 404, "no parent " + std::to_string(id.value()) + " in memory");
  if (identity->session != r.session)
    return error(call.id, 409,
                 "parent " + std::to_string(id.value()) + " belongs to " + identity->session +
                     ": only its owner amends it (any trader may cancel it)");
  r.orig_cl_ord_id = identity->cl_ord_id;
  if (waiting_.count(key(r.session, r.cl_ord_id)))
    return error(call.id, 409, "client_order_id " + r.cl_ord_id + " is already in use");
  waiting_[key(r.session, r.cl_ord_id)] = {call.id, r.kind};
  ++api_actions_;
  s_.desk.on_request(r);
}

void ApiDesk::cancel(const ApiCall& call, ParentId id) {
  Body body(call.body);
  body.only({"client_order_id", "reason"});
  const std::string cl_ord_id = body.text("client_order_id");
  const std::string reason = body.text("reason");
  if (!body.problem().empty()) return error(call.id, 400, body.problem());
  const oms::ParentRecord* p = s_.manager.oms().parent(id);
  const auto identity = s_.desk.identity(id);
  if (p == nullptr) return error(call.id, 404, "no parent " + std::to_string(id.value()) + " in memory");
  const std::string session = kSessionPrefix + call.token_name;
  if (identity && identity->session == session && !cl_ord_id.empty()) {
    // Its owner's cancel, with a client order id: the desk's, exactly as over FIX.
    ParentRequest r;
    r.kind = ParentRequest::Kind::Cancel;
    r.session = session;
    r.cl_ord_id = cl_ord_id;
    r.orig_cl_ord_id = identity->cl_ord_id;
    if (waiting_.count(key(r.session, r.cl_ord_id)))
      return error(call.id, 409, "client_order_id " + r.cl_ord_id + " is already in use");
    waiting_[key(r.session, r.cl_ord_id)] = {call.id, r.kind};
    ++api_actions_;
    return s_.desk.on_request(r);
  }
  // An operator's cancel (the blotter's button): the kernel cancels it, the journal names who; its owner
  // hears it end canceled.
  if (oms::is_final(p->state))
    return error(call.id, 409, "parent " + std::to_string(id.value()) + " has ended");
  const std::string why =
      "canceled by " + call.token_name + " over the API" + (reason.empty() ? "" : ": " + reason);
  if (auto st = s_.kernel.cancel(id, why); !st.ok()) return error(call.id, 409, st.message());
  ++api_actions_;
  if (auto st = s_.manager.record_algo_state(id, kApiCancel, "token=" + call.token_name, s_.market->now());
      !st.ok())
    s_.kernel.fail(st);
  settle();
  if (const oms::ParentRecord* now = s_.manager.oms().parent(id))
    return reply(call.id, 202, json{{"parent", parent_json(*now)}});
  reply(call.id, 202, json{{"parent_id", id.value()}});
}

void ApiDesk::pause_or_resume(const ApiCall& call, ParentId id, bool pause) {
  Body body(call.body);
  body.only({});
  if (!body.problem().empty()) return error(call.id, 400, body.problem());
  if (s_.manager.oms().parent(id) == nullptr)
    return error(call.id, 404, "no parent " + std::to_string(id.value()) + " in memory");
  const Status st = pause ? s_.kernel.pause(id) : s_.kernel.resume(id);
  if (!st.ok()) return error(call.id, 409, st.message());
  ++api_actions_;
  if (auto rec = s_.manager.record_algo_state(id, pause ? kApiPause : kApiResume, "token=" + call.token_name,
                                              s_.market->now());
      !rec.ok())
    s_.kernel.fail(rec);
  settle();
  reply(call.id, 200, json{{"parent", parent_json(*s_.manager.oms().parent(id))}});
}

void ApiDesk::on_answer(const ParentAnswer& a) {
  if (on_list_answer(a)) return;
  auto it = waiting_.find(key(a.session, a.cl_ord_id));
  if (it == waiting_.end()) return;  // a fill or an end: the stream tells those
  const Waiting w = it->second;
  waiting_.erase(it);
  std::uint64_t parent = 0;
  const bool has_parent = !a.order_id.empty() && parse_id(a.order_id, parent);
  auto with_parent = [&](int status, json extra = json::object()) {
    if (has_parent)
      if (const oms::ParentRecord* p = s_.manager.oms().parent(ParentId(parent)))
        extra["parent"] = parent_json(*p);
    if (!a.text.empty()) extra["text"] = a.text;
    reply(w.call, status, extra);
  };
  if (a.cancel_reject) {
    json j{{"error", a.text}, {"reject_reason", a.cxl_rej_reason}};
    return with_parent(409, j);
  }
  switch (w.kind) {
    case ParentRequest::Kind::New:
      if (a.exec_type == '8')
        return reply(w.call, 422, json{{"error", a.text}, {"reject_reason", a.ord_rej_reason}});
      return with_parent(201);
    case ParentRequest::Kind::Replace:
      return with_parent(200);
    case ParentRequest::Kind::Cancel:
      return with_parent(a.exec_type == '4' ? 200 : 202);
    case ParentRequest::Kind::Status:
      return with_parent(200);
    case ParentRequest::Kind::NewList:  // answered by on_list_answer
      return;
  }
}

// --- the rest of the state ---

void ApiDesk::list_children(const ApiCall& call) {
  const auto parent = query_value(call.query, "parent");
  const bool open_only = query_value(call.query, "open").value_or("") == "true";
  json list = json::array();
  if (parent) {
    std::uint64_t v = 0;
    if (!parse_id(*parent, v)) return error(call.id, 400, "parent='" + *parent + "' is not a parent id");
    for (const oms::ChildOrder* c : s_.manager.oms().children_of(ParentId(v)))
      if (!open_only || c->open()) list.push_back(child_json(*c));
  } else {
    for (const auto& [_, c] : s_.manager.oms().children())
      if (!open_only || c.open()) list.push_back(child_json(c));
  }
  reply(call.id, 200, json{{"children", list}});
}

void ApiDesk::list_fills(const ApiCall& call) {
  const auto parent = query_value(call.query, "parent");
  std::uint64_t v = 0;
  if (parent && !parse_id(*parent, v))
    return error(call.id, 400, "parent='" + *parent + "' is not a parent id");
  json list = json::array();
  for (const auto& f : s_.manager.oms().fills())
    if (!parent || f.parent.value() == v) list.push_back(fill_json(f));
  reply(call.id, 200, json{{"fills", list}});
}

void ApiDesk::positions(const ApiCall& call) {
  json list = json::array();
  for (const auto& [_, p] : s_.manager.oms().positions()) list.push_back(position_json(p));
  reply(call.id, 200, json{{"positions", list}});
}

void ApiDesk::balances(const ApiCall& call) {
  json list = json::array();
  for (const VenueConfig& v : s_.config.venues) {
    std::set<std::string> assets;
    for (const auto& [asset, _] : v.balances) assets.insert(asset);
    for (const auto& l : v.listings) {
      if (const Instrument* i = s_.config.instrument(l.instrument)) {
        assets.insert(i->base);
        assets.insert(i->quote);
      }
    }
    for (const auto& asset : assets) {
      auto it = v.balances.find(asset);
      const Amount start = it == v.balances.end() ? Amount{} : it->second;
      const Amount flow = s_.manager.oms().venue_flow(v.id.view(), asset);
      list.push_back(json{{"venue", v.id.str()},
                          {"asset", asset},
                          {"start", start.to_string()},
                          {"flow", flow.to_string()},
                          {"balance", (start + flow).to_string()}});
    }
  }
  reply(call.id, 200, json{{"balances", list}});
}

void ApiDesk::venues(const ApiCall& call) {
  const TimestampNs now = s_.market->now();
  const auto budgets = s_.gate.budget_use(now);
  json list = json::array();
  for (std::size_t v = 0; v < s_.market->venue_count(); ++v) {
    const VenueConfig& vc = s_.market->venue_config(v);
    json j;
    j["id"] = vc.id.str();
    j["state"] = std::string(to_string(s_.market->venue_state(v)));
    j["market"] = vc.market;
    j["maker_fee_bps"] = vc.fees.maker_bps.to_string();
    j["taker_fee_bps"] = vc.fees.taker_bps.to_string();
    auto counts = venues_.find(vc.id.str());
    j["fills"] = counts == venues_.end() ? 0 : counts->second.fills;
    j["rejects"] = counts == venues_.end() ? 0 : counts->second.rejects;
    j["round_trip_p50_ns"] = counts == venues_.end() ? 0 : counts->second.round_trip.percentile(0.5);
    j["round_trip_p99_ns"] = counts == venues_.end() ? 0 : counts->second.round_trip.percentile(0.99);
    j["open_children"] = s_.manager.oms().venue_exposure(vc.id.view()).open_orders;
    for (const auto& b : budgets) {
      if (b.venue != vc.id) continue;
      j["orders_per_second"] = b.orders_per_second;
      j["orders_budget_left"] =
          b.orders_per_second > 0 ? json(b.orders_per_second - b.orders_used) : json(nullptr);
      j["cancels_per_second"] = b.cancels_per_second;
      j["cancels_budget_left"] =
          b.cancels_per_second > 0 ? json(b.cancels_per_second - b.cancels_used) : json(nullptr);
    }
    list.push_back(j);
  }
  reply(call.id, 200, json{{"venues", list}, {"now_ns", now}});
}

void ApiDesk::risk(const ApiCall& call) {
  const RiskConfig& r = s_.gate.limits();
  json limits{{"max_parent_notional", r.max_parent_notional.to_string()},
              {"parent_collar_bps", r.parent_collar_bps.to_string()},
              {"max_adv_share", r.max_adv_share},
              {"child_collar_bps", r.child_collar_bps.to_string()},
              {"max_child_notional", r.max_child_notional.to_string()},
              {"max_open_orders_per_venue", r.max_open_orders_per_venue},
              {"max_open_orders_per_account", r.max_open_orders_per_account},
              {"max_in_flight_notional_per_venue", r.max_in_flight_notional_per_venue.to_string()},
              {"max_in_flight_notional_per_account", r.max_in_flight_notional_per_account.to_string()},
              {"max_market_data_age_ns", r.max_market_data_age_ns},
              {"self_trade_prevention", r.self_trade_prevention},
              {"restricted", r.restricted},
              {"accounts", r.accounts},
              {"disabled_venues", r.disabled_venues}};
  json kills = json::array();
  for (const auto& k : s_.manager.oms().kill_switches())
    kills.push_back(json{{"scope", oms::to_string(k.scope)}, {"target", k.target}, {"reason", k.reason}});
  json denials = json::array();
  const auto& kept = s_.manager.oms().denials();
  const std::size_t from = kept.size() > 100 ? kept.size() - 100 : 0;
  for (std::size_t i = from; i < kept.size(); ++i) {
    const auto& d = kept[i];
    denials.push_back(json{{"parent_id", d.parent.value()},
                           {"child_id", d.child.value()},
                           {"venue", d.venue.str()},
                           {"reason_code", d.reason_code},
                           {"text", d.text}});
  }
  reply(call.id, 200,
        json{{"limits", limits},
             {"kill_switches", kills},
             {"denials_total", s_.manager.oms().denials_total()},
             {"recent_denials", denials}});
}

void ApiDesk::kill_switch(const ApiCall& call, bool engage) {
  Body body(call.body);
  body.only({"scope", "target", "reason"});
  std::string scope_text = body.text("scope");
  const std::string target = body.text("target");
  const std::string reason = body.text("reason", true);
  if (!body.problem().empty()) return error(call.id, 400, body.problem());
  if (scope_text.empty()) scope_text = "global";
  oms::KillScope scope;
  if (scope_text == "global")
    scope = oms::KillScope::Global;
  else if (scope_text == "account")
    scope = oms::KillScope::Account;
  else if (scope_text == "venue")
    scope = oms::KillScope::Venue;
  else
    return error(call.id, 400, "scope '" + scope_text + "' is not global, account or venue");
  if ((scope == oms::KillScope::Global) != target.empty())
    return error(call.id, 400,
                 scope == oms::KillScope::Global ? "a global kill switch takes no target"
                                                 : "an " + scope_text + " kill switch needs a target");
  if (scope == oms::KillScope::Venue && s_.config.venue(VenueId(target)) == nullptr)
    return error(call.id, 400, "no venue '" + target + "'");
  if (reason.empty()) return error(call.id, 400, "reason must not be empty");
  const std::string why = reason + " (" + call.token_name + " over the API)";
  const TimestampNs now = s_.market->now();
  Status st = engage ? s_.manager.engage_kill_switch(scope, target, why, now)
                     : s_.manager.release_kill_switch(scope, target, why, now);
  if (!st.ok()) return error(call.id, 409, st.message());
  ++api_actions_;
  if (auto flushed = s_.manager.flush(); !flushed.ok()) s_.kernel.fail(flushed);
  settle();
  json kills = json::array();
  for (const auto& k : s_.manager.oms().kill_switches())
    kills.push_back(json{{"scope", oms::to_string(k.scope)}, {"target", k.target}, {"reason", k.reason}});
  reply(call.id, 200, json{{"kill_switches", kills}});
}

// --- what the kernel did ---

void ApiDesk::parent_tca(const ApiCall& call, ParentId id) {
  auto report = tape_.report(id, s_.market->now());
  if (!report)
    return error(
        call.id, 404,
        "no TCA for parent " + std::to_string(id.value()) +
            ": not in memory (its final TCA is kept for the latest [oms] keep_recent ended parents)");
  if (!*report)
    return error(
        call.id, 409,
        "parent " + std::to_string(id.value()) + " cannot be valued yet: " + report->error().message);
  reply(call.id, 200, report->value());
}

void ApiDesk::parent_series(const ApiCall& call, ParentId id) {
  std::size_t points = 2000;
  if (auto asked = query_value(call.query, "points")) {
    std::uint64_t v = 0;
    if (!parse_id(*asked, v) || v > 100'000)
      return error(call.id, 400, "points='" + *asked + "' is not 1 to 100000");
    points = static_cast<std::size_t>(v);
  }
  auto series = tape_.series(id, points);
  if (!series && s_.manager.oms().parent(id) != nullptr)
    // Ended more than a minute ago: its series went with its final TCA; the parent itself is still here.
    return reply(call.id, 200,
                 json{{"parent_id", id.value()},
                      {"kept", false},
                      {"mids", json::array()},
                      {"fills", json::array()},
                      {"progress", json::array()}});
  if (!series)
    return error(call.id, 404,
                 "no series for parent " + std::to_string(id.value()) +
                     ": only working parents and those ended in the last minute have one");
  reply(call.id, 200, *series);
}

void ApiDesk::on_market_event(const md::MarketRef& ref, const md::Event& event,
                              std::optional<double> benchmark_mid) {
  tape_.on_market_event(ref, event, benchmark_mid);
}

void ApiDesk::on_parent_ended(ParentId parent, TimestampNs now_ns) {
  tape_.on_parent_ended(parent, now_ns);
}

void ApiDesk::on_child_report(ParentId parent, const ExecutionReport& report, bool fresh_fill,
                              double fill_base) {
  tape_.on_child_report(parent, report, fresh_fill, fill_base);
  VenueCounts& counts = venues_[report.venue.str()];
  if (fresh_fill) ++counts.fills;
  if (report.exec_type == ExecType::Rejected) ++counts.rejects;
  if (report.exec_type == ExecType::New || report.exec_type == ExecType::Rejected) {
    const oms::ChildOrder* c = s_.manager.oms().child(report.client_order_id);
    if (c != nullptr && c->order.sent_ns > 0 && report.received_ns >= c->order.sent_ns)
      counts.round_trip.record(report.received_ns - c->order.sent_ns);
  }
}

void ApiDesk::on_journal_append(std::uint64_t seq, TimestampNs ts_ns, const oms::RecordBody& body) {
  switch (oms::record_type(body)) {
    case oms::RecordType::StatusQuerySent:
    case oms::RecordType::Recovery:
      return;  // the OMS's own bookkeeping: nothing a blotter shows
    default:
      appended_.hold(seq, {seq, ts_ns, body});
  }
}

void ApiDesk::after_commit(TimestampNs now_ns) {
  if (now_ns >= progress_sampled_ns_ + kNanosPerSecond) {
    // Each working parent's schedule against what it executed, once a second of market time.
    progress_sampled_ns_ = now_ns;
    for (const auto& [id, p] : s_.manager.oms().parents()) {
      if (oms::is_final(p.state)) continue;
      const ems::Algo* algo = s_.kernel.algo(p.order.id);
      tape_.note_progress(p.order.id, now_ns, algo != nullptr ? algo->scheduled().to_double() : 0,
                          p.executed.to_double());
    }
  }
  tape_.tick(now_ns, s_.kernel.market_closed());
  if (appended_.empty()) return;
  const oms::Journal& journal = s_.manager.journal();
  appended_.release(journal.durable_seq(), [&](const Appended& a) {
    if (auto j = event_json(a.seq, a.ts_ns, a.body)) out_.publish(a.seq, j->dump());
  });
  // A commit that rolled back took its records with it: their seqs will be used again.
  appended_.drop_after(journal.last_seq());
}

std::optional<json> ApiDesk::event_json(std::uint64_t seq, TimestampNs ts_ns,
                                        const oms::RecordBody& body) const {
  json j;
  j["seq"] = seq;
  j["ts_ns"] = ts_ns;
  j["record"] = oms::to_string(oms::record_type(body));
  const oms::Oms& state = s_.manager.oms();
  auto parent_of = [&](ParentId id) {
    const oms::ParentRecord* p = state.parent(id);
    return p != nullptr ? parent_json(*p) : json{{"id", id.value()}};
  };
  auto child_of = [&](ClientOrderId id) {
    const oms::ChildOrder* c = state.child(id);
    return c != nullptr ? child_json(*c) : json{{"child_id", id.value()}};
  };
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, oms::ParentOrder>) {
          j["type"] = "parent";
          j["parent"] = parent_of(b.id);
        } else if constexpr (std::is_same_v<T, oms::ParentRejected>) {
          j["type"] = "parent";
          j["parent"] = json{{"id", b.parent.id.value()}, {"instrument", b.parent.instrument.str()}};
          j["reason_code"] = b.reason_code;
          j["text"] = b.text;
        } else if constexpr (std::is_same_v<T, oms::ParentCancelRequest> ||
                             std::is_same_v<T, oms::ParentAmend>) {
          j["type"] = "parent";
          j["parent"] = parent_of(b.id);
        } else if constexpr (std::is_same_v<T, oms::ParentDone>) {
          j["type"] = "parent";
          j["parent"] = parent_of(b.id);
          j["text"] = b.text;
        } else if constexpr (std::is_same_v<T, oms::AlgoStateChange>) {
          j["type"] = "parent";
          j["parent"] = parent_of(b.id);
          j["algo_state"] = b.state;
          j["detail"] = b.detail;
        } else if constexpr (std::is_same_v<T, NewOrder>) {
          j["type"] = "child";
          j["child"] = child_of(b.client_order_id);
        } else if constexpr (std::is_same_v<T, CancelOrder> || std::is_same_v<T, AmendOrder>) {
          j["type"] = "child";
          j["child"] = child_of(b.client_order_id);
        } else if constexpr (std::is_same_v<T, ExecutionReport>) {
          const bool fill = b.last_qty.is_positive();
          j["type"] = fill ? "fill" : "child";
          j["exec_type"] = std::string(to_string(b.exec_type));
          j["child"] = child_of(b.client_order_id);
          if (fill) {
            j["fill"] =
                json{{"venue", b.venue.str()},          {"price", b.last_price.to_string()},
                     {"qty", b.last_qty.to_string()},   {"liquidity", std::string(to_string(b.liquidity))},
                     {"fee", b.fee.amount.to_string()}, {"fee_asset", b.fee.asset.str()}};
          }
          if (const oms::ChildOrder* c = state.child(b.client_order_id))
            j["parent"] = parent_of(c->order.parent_id);
          if (b.exec_type == ExecType::Rejected) j["text"] = b.text.str();
        } else if constexpr (std::is_same_v<T, VenueStatusReport>) {
          j["type"] = "venue";
          j["venue"] = b.venue.str();
          j["state"] = std::string(to_string(b.state));
        } else if constexpr (std::is_same_v<T, oms::RiskDenial>) {
          j["type"] = "risk";
          j["denial"] = json{{"parent_id", b.parent.value()},
                             {"child_id", b.child.value()},
                             {"venue", b.venue.str()},
                             {"reason_code", b.reason_code},
                             {"text", b.text}};
        } else if constexpr (std::is_same_v<T, oms::KillSwitchChange>) {
          j["type"] = "risk";
          j["kill_switch"] = json{{"scope", oms::to_string(b.scope)},
                                  {"target", b.target},
                                  {"action", b.action == oms::KillAction::Engage ? "engage" : "release"},
                                  {"reason", b.reason}};
        } else {
          j["type"] = "other";
        }
      },
      body);
  return j;
}

// --- metrics ---

namespace {

namespace prom = prometheus;

const std::vector<double> kLatencyBounds = {1e-6, 2.5e-6, 5e-6,   1e-5, 2.5e-5, 5e-5,   1e-4, 2.5e-4,
                                            5e-4, 1e-3,   2.5e-3, 5e-3, 1e-2,   2.5e-2, 5e-2, 0.1,
                                            0.25, 0.5,    1,      2.5,  5,      10};

prom::ClientMetric histogram_of(const LatencyHistogram& h, std::vector<prom::ClientMetric::Label> labels) {
  prom::ClientMetric m;
  m.label = std::move(labels);
  m.histogram.sample_count = h.count();
  m.histogram.sample_sum = static_cast<double>(h.sum()) / 1e9;
  for (double bound : kLatencyBounds)
    m.histogram.bucket.push_back({h.count_at_most(static_cast<std::uint64_t>(bound * 1e9)), bound});
  m.histogram.bucket.push_back({h.count(), std::numeric_limits<double>::infinity()});
  return m;
}

prom::MetricFamily family(std::string name, std::string help, prom::MetricType type) {
  prom::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

prom::ClientMetric gauge(double value, std::vector<prom::ClientMetric::Label> labels = {}) {
  prom::ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  return m;
}

prom::ClientMetric counter(double value, std::vector<prom::ClientMetric::Label> labels = {}) {
  prom::ClientMetric m;
  m.label = std::move(labels);
  m.counter.value = value;
  return m;
}

}  // namespace

std::string ApiDesk::metrics_text() const {
  using prom::MetricType;
  std::vector<prom::MetricFamily> out;
  const oms::Oms& state = s_.manager.oms();

  auto decisions =
      family("tranche_decision_seconds",
             "The kernel's handling of one event (market data, a venue report, a timer), wall clock",
             MetricType::Histogram);
  if (s_.timer != nullptr) {
    decisions.metric.push_back(histogram_of(s_.timer->total_market_events(), {{"event", "market_data"}}));
    decisions.metric.push_back(histogram_of(s_.timer->total_reports(), {{"event", "report"}}));
    decisions.metric.push_back(histogram_of(s_.timer->total_timers(), {{"event", "timer"}}));
  }
  out.push_back(std::move(decisions));

  auto commits = family("tranche_journal_commit_seconds",
                        "One journal commit (its fsync included), wall clock", MetricType::Histogram);
  commits.metric.push_back(histogram_of(s_.manager.journal().commit_latency(), {}));
  out.push_back(std::move(commits));

  auto round_trip =
      family("tranche_venue_round_trip_seconds",
             "A child order sent to its venue's first answer (ack or reject), on the market's clock",
             MetricType::Histogram);
  auto fills = family("tranche_fills_total", "Fills by venue since the server started", MetricType::Counter);
  auto rejects = family("tranche_rejects_total", "Child orders rejected by venue since the server started",
                        MetricType::Counter);
  for (std::size_t v = 0; v < s_.market->venue_count(); ++v) {
    const std::string venue = s_.market->venue_config(v).id.str();
    auto it = venues_.find(venue);
    static const VenueCounts kNone{};
    const VenueCounts& c = it == venues_.end() ? kNone : it->second;
    round_trip.metric.push_back(histogram_of(c.round_trip, {{"venue", venue}}));
    fills.metric.push_back(counter(static_cast<double>(c.fills), {{"venue", venue}}));
    rejects.metric.push_back(counter(static_cast<double>(c.rejects), {{"venue", venue}}));
  }
  out.push_back(std::move(round_trip));
  out.push_back(std::move(fills));
  out.push_back(std::move(rejects));

  auto children = family("tranche_children", "Child orders in memory by state", MetricType::Gauge);
  std::map<std::string, std::uint64_t> by_state;
  for (OrderStatus st :
       {OrderStatus::PendingNew, OrderStatus::New, OrderStatus::PartiallyFilled, OrderStatus::Filled,
        OrderStatus::PendingCancel, OrderStatus::Canceled, OrderStatus::PendingReplace, OrderStatus::Replaced,
        OrderStatus::Rejected, OrderStatus::Expired})
    by_state[std::string(to_string(st))] = 0;
  for (const auto& [_, c] : state.children()) ++by_state[std::string(to_string(c.status))];
  for (const auto& [name, n] : by_state)
    children.metric.push_back(gauge(static_cast<double>(n), {{"state", name}}));
  out.push_back(std::move(children));

  auto budget = family("tranche_rate_budget_used_ratio",
                       "Share of each venue's order and cancel rate budget spent now (0 with no limit)",
                       MetricType::Gauge);
  for (const auto& b : s_.gate.budget_use(s_.market->now())) {
    budget.metric.push_back(gauge(b.orders_per_second > 0 ? b.orders_used / b.orders_per_second : 0,
                                  {{"kind", "orders"}, {"venue", b.venue.str()}}));
    budget.metric.push_back(gauge(b.cancels_per_second > 0 ? b.cancels_used / b.cancels_per_second : 0,
                                  {{"kind", "cancels"}, {"venue", b.venue.str()}}));
  }
  out.push_back(std::move(budget));

  auto working = family("tranche_parents_working", "Parent orders not yet ended", MetricType::Gauge);
  working.metric.push_back(gauge(static_cast<double>(s_.kernel.working())));
  out.push_back(std::move(working));
  auto denials = family("tranche_risk_denials_total", "Orders the risk gate denied", MetricType::Counter);
  denials.metric.push_back(counter(static_cast<double>(state.denials_total())));
  out.push_back(std::move(denials));
  auto kills = family("tranche_kill_switches_engaged", "Kill switches engaged now", MetricType::Gauge);
  kills.metric.push_back(gauge(static_cast<double>(state.kill_switches().size())));
  out.push_back(std::move(kills));
  auto durable =
      family("tranche_journal_durable_seq", "The last journal record made durable", MetricType::Gauge);
  durable.metric.push_back(gauge(static_cast<double>(s_.manager.journal().durable_seq())));
  out.push_back(std::move(durable));
  auto rss = family("tranche_resident_memory_bytes", "The server's resident memory", MetricType::Gauge);
  rss.metric.push_back(gauge(static_cast<double>(resident_bytes())));
  out.push_back(std::move(rss));

  if (out_.server_stats) {
    const gateway::ApiServerStats st = out_.server_stats();
    auto requests = family("tranche_api_requests_total", "HTTP requests read", MetricType::Counter);
    requests.metric.push_back(counter(static_cast<double>(st.requests)));
    out.push_back(std::move(requests));
    auto refused = family("tranche_api_refused_total", "Requests refused before the kernel saw them",
                          MetricType::Counter);
    refused.metric.push_back(counter(static_cast<double>(st.unauthorized), {{"reason", "unauthorized"}}));
    refused.metric.push_back(counter(static_cast<double>(st.forbidden_origin), {{"reason", "origin"}}));
    refused.metric.push_back(counter(static_cast<double>(st.bad_requests), {{"reason", "malformed"}}));
    refused.metric.push_back(
        counter(static_cast<double>(st.connections_refused), {{"reason", "connections"}}));
    out.push_back(std::move(refused));
    auto connections =
        family("tranche_api_connections", "Open HTTP and WebSocket connections", MetricType::Gauge);
    connections.metric.push_back(gauge(static_cast<double>(st.connections_open)));
    out.push_back(std::move(connections));
    auto streams =
        family("tranche_api_stream_clients", "WebSocket clients receiving events", MetricType::Gauge);
    streams.metric.push_back(gauge(static_cast<double>(st.stream_clients)));
    out.push_back(std::move(streams));
    auto dropped = family("tranche_api_stream_dropped_total",
                          "Stream clients dropped for not reading their events", MetricType::Counter);
    dropped.metric.push_back(counter(static_cast<double>(st.stream_dropped_slow)));
    out.push_back(std::move(dropped));
    auto events = family("tranche_api_events_total", "Events published on the stream", MetricType::Counter);
    events.metric.push_back(counter(static_cast<double>(st.events_published)));
    out.push_back(std::move(events));
    auto lost = family("tranche_api_stream_lost_total",
                       "Events lost on their way to the stream (its queue was full); each told as a gap",
                       MetricType::Counter);
    lost.metric.push_back(counter(static_cast<double>(st.events_lost)));
    out.push_back(std::move(lost));
  }
  auto actions =
      family("tranche_api_actions_total",
             "Orders, amends, cancels, pauses and kill switches taken over the API", MetricType::Counter);
  actions.metric.push_back(counter(static_cast<double>(api_actions_)));
  out.push_back(std::move(actions));
  return prom::TextSerializer().Serialize(out);
}

}  // namespace tranche::service
