#pragma once

#include <cstdint>
#include <vector>

#include "handoff/persona/v1/persona.pb.h"

// The personas and lead profiles the benchmarks use, so the end-to-end
// load generator and the in-process benchmarks score the same data.
namespace handoff::bench {

// Eight personas, a realistic count for one company (criteria and display
// name set; no name).
std::vector<persona::v1::Persona> BenchPersonas();

// 120 distinct profiles, cycling by `seq`.
persona::v1::LeadProfile ProfileFor(int64_t seq);

}  // namespace handoff::bench
