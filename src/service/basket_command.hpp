#pragma once
// `tranche execute --basket FILE`: a list of parents executed as one on the simulated venues. The file
// (docs/lists.md) names the legs (instrument, side, quantity, algo, limit, parameters) and the list's limit:
// a pair's maximum leg imbalance or a basket's cash balance between the buy and sell sides. Each leg is a
// parent of its own in the one kernel, with the list's terms among its parameters, so the kernel holds the
// legs together (ems/list_balance.hpp) and journals it. A file with no limit runs its legs side by side,
// each on its own. TCA for each leg, and for the list: the sum of the legs' costs over the sum of their
// arrival values, and how far the list leaned while it ran, measured from the fills.
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "oms/records.hpp"

namespace tranche::service {

struct BasketFile {
  std::string id = "list";
  std::string max_imbalance;           // a pair's, a share (as written); empty: none
  std::string cash_limit;              // a basket's, quote (as written); empty: none
  std::vector<oms::ParentOrder> legs;  // instrument, side, qty, limit, algo, params (the list's terms added)
  bool balanced() const { return !max_imbalance.empty() || !cash_limit.empty(); }
};
// Reads and checks a basket file: every leg's algo and parameters, and the list its terms describe.
Result<BasketFile> read_basket(const std::string& path);

struct BasketOptions {
  std::string file;
  std::string scenario;  // empty: the bundled default
  std::string start, end;
  std::vector<std::string> venues;
  std::optional<std::uint64_t> seed;
  std::string journal;  // empty: a temporary journal
  bool json = false;
};

int basket_command(const BasketOptions& options, std::ostream& out, std::ostream& err);

}  // namespace tranche::service
