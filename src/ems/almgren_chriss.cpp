#include "ems/almgren_chriss.hpp"

#include <cmath>

namespace tranche::ems {

void almgren_chriss_cost(const AcInputs& in, const std::vector<double>& holdings, double& expected_cost,
                         double& variance) {
  const double tau = in.T / in.N;
  const double eta_tilde = in.eta - in.gamma * tau / 2;
  double abs_sum = 0, sq_sum = 0, var_sum = 0;
  for (std::size_t k = 1; k < holdings.size(); ++k) {
    const double n = holdings[k - 1] - holdings[k];
    abs_sum += std::abs(n);
    sq_sum += n * n;
    var_sum += holdings[k] * holdings[k];
  }
  expected_cost = in.gamma * in.X * in.X / 2 + in.epsilon * abs_sum + eta_tilde / tau * sq_sum;
  variance = in.sigma * in.sigma * tau * var_sum;
}

double ac_remaining_share(double kappa, double T, double t) {
  if (T <= 0) return 0;
  if (t <= 0) return 1;
  if (t >= T) return 0;
  // Small urgency is the straight line (the limit of sinh(k(T-t))/sinh(kT) as k goes to 0).
  if (kappa * T < 1e-6) return (T - t) / T;
  // sinh(k(T-t)) / sinh(kT), written with decaying exponentials so that a large kT cannot overflow.
  return std::exp(-kappa * t) * (1 - std::exp(-2 * kappa * (T - t))) / (1 - std::exp(-2 * kappa * T));
}

AcSchedule almgren_chriss(const AcInputs& in) {
  AcSchedule out;
  if (in.N < 1 || in.T <= 0) return out;
  const double tau = in.T / in.N;
  const double eta_tilde = in.eta - in.gamma * tau / 2;
  // cosh(kappa tau) = 1 + tau^2 lambda sigma^2 / (2 eta_tilde): the discrete form.
  // With no temporary impact left (eta_tilde <= 0) the trade goes at once: an infinite urgency, capped.
  const double c = eta_tilde > 0 ? 1 + tau * tau * in.lambda * in.sigma * in.sigma / (2 * eta_tilde) : 1e300;
  out.kappa = std::acosh(c) / tau;
  out.holdings.resize(static_cast<std::size_t>(in.N) + 1);
  for (int j = 0; j <= in.N; ++j)
    out.holdings[static_cast<std::size_t>(j)] = in.X * ac_remaining_share(out.kappa, in.T, j * tau);
  out.holdings.back() = 0;
  for (int k = 1; k <= in.N; ++k)
    out.trades.push_back(out.holdings[static_cast<std::size_t>(k - 1)] -
                         out.holdings[static_cast<std::size_t>(k)]);
  almgren_chriss_cost(in, out.holdings, out.expected_cost, out.variance);
  return out;
}

}  // namespace tranche::ems
