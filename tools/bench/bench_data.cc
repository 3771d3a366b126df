#include "tools/bench/bench_data.h"

#include <iterator>
#include <string>

namespace handoff::bench {
namespace {

struct PersonaSpec {
  const char* display_name;
  std::vector<std::string> industries;
  int min_employees;
  int max_employees;
  std::vector<std::string> countries;
  std::vector<std::string> title_keywords;
  std::vector<persona::v1::Seniority> seniorities;
};

std::vector<PersonaSpec> PersonaSpecs() {
  using persona::v1::SENIORITY_C_LEVEL;
  using persona::v1::SENIORITY_DIRECTOR;
  using persona::v1::SENIORITY_MANAGER;
  using persona::v1::SENIORITY_OWNER;
  using persona::v1::SENIORITY_VP;
  return {
      {"IT Leader, Mid-Market",
       {"software", "logistics", "manufacturing", "healthcare"},
       200,
       5000,
       {"US", "DE", "GB", "NL", "FR"},
       {"IT", "CIO", "CTO", "Infrastructure"},
       {SENIORITY_DIRECTOR, SENIORITY_VP, SENIORITY_C_LEVEL}},
      {"Marketing Operations Manager",
       {"retail", "media", "software"},
       50,
       2000,
       {},
       {"Marketing", "Growth", "Demand"},
       {SENIORITY_MANAGER, SENIORITY_DIRECTOR}},
      {"Startup Founder",
       {"software", "fintech"},
       1,
       100,
       {},
       {"Founder", "CEO", "CTO"},
       {SENIORITY_OWNER, SENIORITY_C_LEVEL}},
      {"Finance Controller, Enterprise",
       {"fintech", "insurance", "manufacturing", "retail"},
       1000,
       0,
       {"US", "DE", "GB", "JP"},
       {"Finance", "Controller", "CFO"},
       {SENIORITY_DIRECTOR, SENIORITY_VP, SENIORITY_C_LEVEL}},
      {"Revenue Leader",
       {"software", "fintech", "media"},
       100,
       5000,
       {"US", "GB", "CA"},
       {"Sales", "Revenue"},
       {SENIORITY_VP, SENIORITY_C_LEVEL}},
      {"Hospital Operations Director",
       {"healthcare"},
       500,
       0,
       {},
       {"Operations"},
       {SENIORITY_DIRECTOR, SENIORITY_VP}},
      {"E-commerce Manager",
       {"retail"},
       50,
       5000,
       {"US", "DE", "FR", "ES", "IT"},
       {"E-commerce", "Digital"},
       {SENIORITY_MANAGER, SENIORITY_DIRECTOR}},
      {"Supply Chain Planner",
       {"logistics", "manufacturing"},
       200,
       0,
       {},
       {"Supply", "Planning", "Logistics"},
       {SENIORITY_MANAGER, SENIORITY_DIRECTOR}},
  };
}

}  // namespace

std::vector<persona::v1::Persona> BenchPersonas() {
  std::vector<persona::v1::Persona> out;
  for (const PersonaSpec& spec : PersonaSpecs()) {
    persona::v1::Persona& p = out.emplace_back();
    p.set_display_name(spec.display_name);
    persona::v1::PersonaCriteria* c = p.mutable_criteria();
    for (const auto& v : spec.industries) c->add_industries(v);
    c->set_min_employees(spec.min_employees);
    c->set_max_employees(spec.max_employees);
    for (const auto& v : spec.countries) c->add_countries(v);
    for (const auto& v : spec.title_keywords) c->add_title_keywords(v);
    for (auto v : spec.seniorities) c->add_seniorities(v);
  }
  return out;
}

// The array lengths are coprime-ish, so the combinations repeat late.
persona::v1::LeadProfile ProfileFor(int64_t seq) {
  static constexpr const char* kIndustries[] = {
      "software",   "logistics", "retail",        "fintech",
      "healthcare", "media",     "manufacturing", "insurance"};
  static constexpr int kEmployees[] = {18, 140, 420, 1200, 5400};
  static constexpr const char* kCountries[] = {"US", "DE", "GB",
                                               "FR", "JP", "NL"};
  struct Role {
    const char* title;
    persona::v1::Seniority seniority;
  };
  static constexpr Role kRoles[] = {
      {"Head of IT", persona::v1::SENIORITY_DIRECTOR},
      {"VP Sales", persona::v1::SENIORITY_VP},
      {"Marketing Manager", persona::v1::SENIORITY_MANAGER},
      {"CFO", persona::v1::SENIORITY_C_LEVEL},
      {"Founder", persona::v1::SENIORITY_OWNER},
      {"Supply Chain Planner", persona::v1::SENIORITY_MANAGER},
  };
  const auto i = static_cast<size_t>(seq < 0 ? -seq : seq);
  persona::v1::LeadProfile profile;
  profile.set_industry(kIndustries[i % std::size(kIndustries)]);
  profile.set_employee_count(kEmployees[i % std::size(kEmployees)]);
  profile.set_country(kCountries[i % std::size(kCountries)]);
  const Role& role = kRoles[i % std::size(kRoles)];
  profile.set_job_title(role.title);
  profile.set_seniority(role.seniority);
  return profile;
}

}  // namespace handoff::bench
