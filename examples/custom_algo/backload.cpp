// An algo added from outside the core: `backload`, a schedule that trades little early and more towards the
// end (the share due by t is (t / T)^power), for an order that should mostly trade near a closing price. It
// only says how much is due when; the base class slices towards it, catches up, never runs ahead, and hands
// every slice to the placer, as it does for the built-in algos.
#include <algorithm>
#include <cmath>
#include <string>

#include "ems/algo.hpp"

namespace example {

using namespace tranche;

class Backload final : public ems::Algo {
 public:
  Backload(const oms::ParentOrder& parent, ems::AlgoParams params, double power)
      : Algo("backload", parent, std::move(params)), power_(power) {}

 protected:
  Qty target(TimestampNs t, const ems::AlgoMarket&) const override {
    if (params_.end_ns <= params_.start_ns) return qty_;
    const double x = std::clamp(
        static_cast<double>(t - params_.start_ns) / static_cast<double>(params_.end_ns - params_.start_ns),
        0.0, 1.0);
    return base_from_model(qty_.to_double() * std::pow(x, power_));
  }

 private:
  double power_;
};

// Registers `backload`, with its own parameter `power` (default 2, from 1 to 10).
void register_backload() {
  ems::register_algo(
      "backload",
      [](const oms::ParentOrder& parent, ems::AlgoParams params) -> Result<std::unique_ptr<ems::Algo>> {
        double power = 2;
        if (auto it = params.extra.find("power"); it != params.extra.end()) {
          char* end = nullptr;
          power = std::strtod(it->second.c_str(), &end);
          if (end == it->second.c_str() || *end != '\0' || !(power >= 1 && power <= 10))
            return make_error("power = '" + it->second + "' must be a number from 1 to 10");
        }
        return std::unique_ptr<ems::Algo>(std::make_unique<Backload>(parent, std::move(params), power));
      },
      {"power"});
}

}  // namespace example
