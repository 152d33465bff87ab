#pragma once
// The JSON views of the OMS's orders, fills and positions, one spelling for every front end that shows them
// (`tranche journal --json`, the HTTP API): prices and quantities as decimal strings, times as int64 ns.
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "oms/oms.hpp"

namespace tranche::service {

nlohmann::ordered_json child_json(const oms::ChildOrder& child);
nlohmann::ordered_json fees_json(const std::map<std::string, Amount>& fees);
nlohmann::ordered_json fill_json(const oms::Fill& fill);
nlohmann::ordered_json position_json(const oms::Position& position);

}  // namespace tranche::service
