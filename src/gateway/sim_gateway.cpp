#include "gateway/sim_gateway.hpp"

namespace tranche::gateway {

SimGateway::SimGateway(sim::Simulator& simulator, std::size_t venue_index)
    : simulator_(simulator), venue_index_(venue_index), venue_id_(simulator.venue(venue_index).config().id) {}

bool SimGateway::send(const NewOrder& order) {
  return simulator_.send(venue_index_, order);
}
bool SimGateway::cancel(const CancelOrder& cancel) {
  return simulator_.cancel(venue_index_, cancel);
}
bool SimGateway::amend(const AmendOrder& amend) {
  return simulator_.amend(venue_index_, amend);
}
bool SimGateway::query(const OrderStatusQuery& query) {
  return simulator_.query(venue_index_, query);
}

std::vector<std::unique_ptr<SimGateway>> make_sim_gateways(sim::Simulator& simulator) {
  std::vector<std::unique_ptr<SimGateway>> out;
  for (std::size_t v = 0; v < simulator.venue_count(); ++v)
    out.push_back(std::make_unique<SimGateway>(simulator, v));
  return out;
}

}  // namespace tranche::gateway
