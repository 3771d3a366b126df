#pragma once

#include <vector>

#include "handoff/persona/v1/persona.pb.h"

// How well a lead profile fits a persona. Pure functions, no storage.
namespace handoff::persona {

// Weight of each criterion in the fit score. Only criteria a persona defines
// count: score = round(100 * matched weight / defined weight).
inline constexpr int kIndustryWeight = 30;
inline constexpr int kCompanySizeWeight = 25;
inline constexpr int kCountryWeight = 15;
inline constexpr int kJobTitleWeight = 15;
inline constexpr int kSeniorityWeight = 15;

// The fit of `profile` to `persona`, one CriterionResult per criterion the
// persona defines; CriterionResult.weight is that criterion's share (the
// shares sum to 100). An unknown profile value does not match. A persona
// with no criteria scores 0 with a single "none" result saying why.
v1::PersonaMatch MatchProfile(const v1::Persona& persona,
                              const v1::LeadProfile& profile);

// Matches `profile` against every persona: those scoring at least
// `min_score`, best first, ties by persona name, at most `max_results`
// (0: all).
std::vector<v1::PersonaMatch> RankPersonas(
    const std::vector<v1::Persona>& personas, const v1::LeadProfile& profile,
    int min_score, int max_results);

}  // namespace handoff::persona
