#pragma once
// The Almgren-Chriss optimal execution trajectory (Almgren and Chriss, "Optimal execution of portfolio
// transactions", 2000), in the paper's discrete form: sell (or buy) X over N periods of length tau with
// linear permanent impact gamma, temporary impact epsilon + eta * rate, volatility sigma (price per
// sqrt(time unit)) and risk aversion lambda. The trajectory minimises E + lambda * V.
#include <vector>

namespace tranche::ems {

struct AcInputs {
  double X = 0;        // quantity
  double T = 0;        // horizon (time units)
  int N = 1;           // periods
  double sigma = 0;    // price volatility per sqrt(time unit)
  double epsilon = 0;  // fixed cost per unit traded (half-spread plus fees)
  double eta = 0;      // temporary impact: price per (units per time unit)
  double gamma = 0;    // permanent impact: price per unit
  double lambda = 0;   // risk aversion
};

struct AcSchedule {
  double kappa = 0;              // the trajectory's urgency (per time unit)
  std::vector<double> holdings;  // x_0 = X .. x_N = 0
  std::vector<double> trades;    // n_1 .. n_N, n_k = x_{k-1} - x_k
  double expected_cost = 0;      // E
  double variance = 0;           // V
};

AcSchedule almgren_chriss(const AcInputs& in);
// E and V of any trajectory (holdings x_0..x_N), by the paper's formulas.
void almgren_chriss_cost(const AcInputs& in, const std::vector<double>& holdings, double& expected_cost,
                         double& variance);
// The share of the quantity left at time t in [0, T] on the continuous trajectory of urgency kappa.
double ac_remaining_share(double kappa, double T, double t);

}  // namespace tranche::ems
