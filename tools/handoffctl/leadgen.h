#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "handoff/persona/v1/persona.pb.h"

namespace handoff::ctl {

// SplitMix64: the same sequence for a seed on every platform and standard
// library, unlike the <random> distributions, so a demo seed is reproducible.
class DemoRng {
 public:
  explicit DemoRng(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  // Uniform in [0, n); 0 when n is 0.
  uint64_t Below(uint64_t n);
  // Uniform in [lo, hi].
  int64_t Between(int64_t lo, int64_t hi);
  // True with probability percent/100.
  bool Percent(int percent) {
    return Below(100) < static_cast<uint64_t>(percent);
  }

 private:
  uint64_t state_;
};

// How a synthetic person engages after capture.
enum class Intent {
  kBrowse,       // an email open or click or two
  kNurture,      // keeps engaging until the lead qualifies
  kDemoRequest,  // downloads something, then asks for a demo
};

// What happens to the person's deal if sales accepts the lead.
enum class DealFate { kNone, kOpen, kWon, kLost };

struct SyntheticLead {
  std::string first_name;
  std::string last_name;
  std::string company;
  std::string email;
  persona::v1::LeadProfile profile;
  std::string source;
  // Index into the caller's campaigns, chosen by LeadGeneratorOptions weights.
  int campaign_slot = 0;
  // Index of the earlier capture of the same person (same email up to
  // letter case), or -1 for the person's first capture.
  int duplicate_of = -1;
  Intent intent = Intent::kBrowse;
  DealFate deal_fate = DealFate::kNone;
  // Deal size in minor units, a multiple of 100 00.
  int64_t deal_amount_minor = 0;
};

struct LeadGeneratorOptions {
  uint64_t seed = 1;
  // Tags every email ("first.last+<run_id>@..."), so a new run makes new
  // people; empty for plain addresses.
  std::string run_id;
  int count = 300;
  // Share of captures that repeat an earlier person, in percent (0-50).
  int duplicate_percent = 8;
  // Relative share of captures per campaign slot; empty means one slot.
  std::vector<int> campaign_weights;
};

// Exactly round(count * duplicate_percent / 100) captures are duplicates
// (never the first); distinct people get distinct emails.
std::vector<SyntheticLead> GenerateLeads(const LeadGeneratorOptions& options);

// Number of duplicates GenerateLeads makes for these options.
int DuplicateCount(const LeadGeneratorOptions& options);

}  // namespace handoff::ctl
