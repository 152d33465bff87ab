#include "service/cpu_pinning.hpp"

#if defined(__linux__)
#include <sched.h>
#endif

namespace tranche::service {

#if defined(__linux__)
namespace {

bool allowed_set(cpu_set_t& set) {
  CPU_ZERO(&set);
  return ::sched_getaffinity(0, sizeof set, &set) == 0;
}

}  // namespace

Status keep_off_cpu(int cpu) {
  cpu_set_t set;
  if (!allowed_set(set)) return make_error("the CPUs this process may use are unknown");
  if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &set))
    return make_error("kernel_cpu = " + std::to_string(cpu) + " is not a CPU this process may use (" +
                      allowed_cpus() + ")");
  if (CPU_COUNT(&set) < 2)
    return make_error("kernel_cpu = " + std::to_string(cpu) +
                      ": this process may use that CPU alone, none is left for its other threads");
  CPU_CLR(cpu, &set);
  if (::sched_setaffinity(0, sizeof set, &set) != 0)
    return make_error("could not keep the threads off CPU " + std::to_string(cpu));
  return {};
}

Status pin_to_cpu(int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return make_error("CPU " + std::to_string(cpu) + " does not exist");
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (::sched_setaffinity(0, sizeof set, &set) != 0)
    return make_error("could not put the kernel's thread on CPU " + std::to_string(cpu));
  return {};
}

std::string allowed_cpus() {
  cpu_set_t set;
  if (!allowed_set(set)) return {};
  std::string out;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &set)) continue;
    int last = cpu;
    while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, &set)) ++last;
    if (!out.empty()) out += ",";
    out += std::to_string(cpu);
    if (last > cpu) out += "-" + std::to_string(last);
    cpu = last;
  }
  return out;
}

#else

Status keep_off_cpu(int) {
  return make_error("kernel_cpu is supported on Linux only");
}
Status pin_to_cpu(int) {
  return make_error("kernel_cpu is supported on Linux only");
}
std::string allowed_cpus() {
  return {};
}

#endif

}  // namespace tranche::service
