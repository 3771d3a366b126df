#pragma once

#include <string>

#include "handoff/routing/v1/routing.pb.h"

namespace handoff::routing::engine {

// A routing explanation as a few readable lines, for Assignment.explanation
// and `handoffctl describe`:
//   rule set v7: rules/de matched; 1 earlier rule did not match, 3 skipped
//   (other territories)
//     rules/big: company_size: employee_count 50 below min_employees 1000
//   pool teams/dach, strategy ROUND_ROBIN, SLA policy fast (priority lead)
//   candidates: 12 considered, 2 eligible; excluded: AWAY 4, AT_CAPACITY 6
//     reps/a: AWAY
//     reps/b: TERRITORY_MISMATCH (country DE), open 0/10
//     reps/c: eligible, open 1/10, picked
//   picked reps/c: round robin: next eligible rep after reps/b
//   state: round robin pointer reps/b -> reps/c; assignments 41 -> 42
std::string ExplanationText(const v1::RoutingExplanation& explanation);

}  // namespace handoff::routing::engine
