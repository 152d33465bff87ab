#include "service/order_json.hpp"

namespace tranche::service {

using nlohmann::ordered_json;

namespace {
std::string px(Price p) {
  return p.is_set() ? p.to_string() : std::string("-");
}
}  // namespace

ordered_json child_json(const oms::ChildOrder& c) {
  ordered_json j;
  j["child_id"] = c.order.client_order_id.value();
  j["parent_id"] = c.order.parent_id.value();
  j["venue"] = c.order.venue.str();
  j["instrument"] = c.order.instrument.str();
  j["side"] = c.order.side == Side::Buy ? "buy" : "sell";
  j["type"] = std::string(to_string(c.order.type));
  j["time_in_force"] = std::string(to_string(c.order.time_in_force));
  j["price"] = px(c.order.price);
  j["qty"] = c.order.qty.to_string();
  j["cum_qty"] = c.cum_qty.to_string();
  j["status"] = std::string(to_string(c.status));
  j["sent_ns"] = c.order.sent_ns;
  return j;
}

ordered_json fees_json(const std::map<std::string, Amount>& fees) {
  ordered_json j = ordered_json::object();
  for (const auto& [asset, amount] : fees) j[asset] = amount.to_string();
  return j;
}

ordered_json fill_json(const oms::Fill& f) {
  ordered_json j;
  j["seq"] = f.seq;
  j["child_id"] = f.child.value();
  j["parent_id"] = f.parent.value();
  j["venue"] = f.venue.str();
  j["instrument"] = f.instrument.str();
  j["account"] = f.account.str();
  j["side"] = f.side == Side::Buy ? "buy" : "sell";
  j["price"] = f.price.to_string();
  j["qty"] = f.qty.to_string();
  j["base_qty"] = f.base_qty.to_string();
  j["liquidity"] = std::string(to_string(f.liquidity));
  j["fee"] = f.fee.amount.to_string();
  j["fee_asset"] = std::string(f.fee.asset.view());
  j["exec_id"] = std::string(f.exec_id.view());
  j["ts_ns"] = f.venue_ns;  // the venue's clock
  j["received_ns"] = f.received_ns;
  return j;
}

ordered_json position_json(const oms::Position& p) {
  ordered_json j;
  j["account"] = p.account.str();
  j["instrument"] = p.instrument.str();
  j["qty"] = p.qty.to_string();
  j["average_entry"] = px(p.average_entry());
  j["realized_pnl"] = p.realized_pnl.to_string();
  j["fees"] = fees_json(p.fees);
  return j;
}

}  // namespace tranche::service
