#pragma once
// A core of its own for the kernel's thread (`[server] kernel_cpu`, `tranche serve --kernel-cpu`): the
// kernel's decision latency then does not depend on what the process's other threads (QuickFIX's, the
// gateways' I/O, the HTTP API and its stream's fan-out) or other programs on those cores are doing. Linux
// only; elsewhere both calls refuse.
#include <string>

#include "core/result.hpp"

namespace tranche::service {

// Keeps the calling thread, and every thread it starts from now on (threads inherit their maker's CPUs), off
// `cpu`: on every other CPU it may use. Refused when `cpu` is not one this thread may use, or is the only
// one.
Status keep_off_cpu(int cpu);

// Puts the calling thread on `cpu` alone.
Status pin_to_cpu(int cpu);

// The CPUs the calling thread may run on, as Linux lists them ("0-3,6"); empty where unknown.
std::string allowed_cpus();

}  // namespace tranche::service
