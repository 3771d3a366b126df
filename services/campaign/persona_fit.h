#pragma once

#include "absl/status/statusor.h"
#include "handoff/persona/v1/persona.pb.h"

namespace handoff::campaign {

// Asks the persona service how well a lead profile fits the personas. The
// module implements it with a PersonaClient; tests with a fake.
class PersonaFit {
 public:
  virtual ~PersonaFit() = default;
  // Matches best first.
  virtual absl::StatusOr<persona::v1::MatchPersonaResponse> Match(
      const persona::v1::LeadProfile& profile) = 0;
};

}  // namespace handoff::campaign
