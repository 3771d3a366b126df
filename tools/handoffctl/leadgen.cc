#include "tools/handoffctl/leadgen.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace handoff::ctl {
namespace {

using persona::v1::Seniority;

struct Company {
  std::string_view name;
  std::string_view industry;
  int employees;
  std::string_view country;
};

// Firmographics stay with the company, as they would in a real CRM.
constexpr Company kCompanies[] = {
    {"Northwind Traders", "retail", 850, "US"},
    {"Contoso Cloud", "software", 420, "DE"},
    {"Fabrikam Logistics", "logistics", 2300, "NL"},
    {"Tailspin Payments", "fintech", 35, "GB"},
    {"Adatum Health", "healthcare", 5400, "US"},
    {"Litware Media", "media", 260, "FR"},
    {"Proseware Systems", "software", 1200, "US"},
    {"Wingtip Insurance", "insurance", 7800, "DE"},
    {"Lucerne Publishing", "media", 90, "CH"},
    {"Margie's Travel", "retail", 140, "ES"},
    {"Coho Manufacturing", "manufacturing", 3100, "DE"},
    {"Trey Research", "software", 18, "SE"},
    {"Alpine Ski House", "retail", 60, "AT"},
    {"Blue Yonder Freight", "logistics", 640, "PL"},
    {"Woodgrove Bank", "fintech", 9500, "GB"},
    {"Humongous Insurance", "insurance", 1500, "US"},
    {"Datum Robotics", "manufacturing", 480, "JP"},
    {"Relecloud", "software", 75, "CA"},
    {"VanArsdel Foods", "retail", 2600, "CA"},
    {"Graphic Design Institute", "media", 30, "AU"},
    {"Consolidated Messenger", "logistics", 210, "US"},
    {"Southridge Video", "media", 1100, "GB"},
    {"Fourth Coffee", "retail", 320, "IT"},
    {"Nod Publishers", "media", 45, "IE"},
    {"Bellows College", "healthcare", 900, "US"},
    {"Wide World Importers", "logistics", 4100, "SG"},
    {"First Up Consultants", "software", 150, "IN"},
    {"Munson's Pickles", "manufacturing", 110, "US"},
    {"Olympia Ledger", "fintech", 260, "FR"},
    {"Boulder Innovations", "software", 2900, "US"},
};

constexpr std::string_view kFirstNames[] = {
    "Anna",  "Ben",   "Chloe", "David",  "Elena",  "Farid", "Grace", "Hiro",
    "Ines",  "Jonas", "Kara",  "Luis",   "Maya",   "Nils",  "Olga",  "Pedro",
    "Quinn", "Rosa",  "Sam",   "Tara",   "Umar",   "Vera",  "Wei",   "Ximena",
    "Yusuf", "Zoe",   "Amir",  "Birgit", "Carlos", "Dana",  "Emil",  "Fiona",
};

constexpr std::string_view kLastNames[] = {
    "Schmidt", "Okafor",    "Nakamura", "Rossi",  "Dubois",  "Kowalski",
    "Silva",   "Jensen",    "Haddad",   "Novak",  "Fischer", "Murphy",
    "Garcia",  "Lindqvist", "Patel",    "Moreau", "Costa",   "Yilmaz",
    "Berg",    "Chen",      "Ivanova",  "Tanaka", "Walsh",   "Mendes",
};

struct Role {
  std::string_view title;
  Seniority seniority;
};

constexpr Role kRoles[] = {
    {"Head of IT", persona::v1::SENIORITY_DIRECTOR},
    {"IT Director", persona::v1::SENIORITY_DIRECTOR},
    {"VP Infrastructure", persona::v1::SENIORITY_VP},
    {"CIO", persona::v1::SENIORITY_C_LEVEL},
    {"CTO", persona::v1::SENIORITY_C_LEVEL},
    {"Founder & CEO", persona::v1::SENIORITY_OWNER},
    {"Marketing Operations Manager", persona::v1::SENIORITY_MANAGER},
    {"Growth Marketing Manager", persona::v1::SENIORITY_MANAGER},
    {"Director of Demand Generation", persona::v1::SENIORITY_DIRECTOR},
    {"Financial Controller", persona::v1::SENIORITY_DIRECTOR},
    {"CFO", persona::v1::SENIORITY_C_LEVEL},
    {"VP Finance", persona::v1::SENIORITY_VP},
    {"Software Engineer", persona::v1::SENIORITY_INDIVIDUAL_CONTRIBUTOR},
    {"Data Analyst", persona::v1::SENIORITY_INDIVIDUAL_CONTRIBUTOR},
    {"Operations Manager", persona::v1::SENIORITY_MANAGER},
    {"Procurement Specialist", persona::v1::SENIORITY_INDIVIDUAL_CONTRIBUTOR},
};

constexpr std::string_view kSources[] = {
    "landing-page/pricing", "landing-page/ebook", "webinar/registration",
    "event/booth-scan",     "ad/search",          "blog/newsletter",
};

template <typename T, size_t N>
const T& Pick(DemoRng& rng, const T (&items)[N]) {
  return items[rng.Below(N)];
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "Margie's Travel" -> "margiestravel".
std::string Domain(std::string_view company) {
  std::string out;
  for (char c : company) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out + ".example";
}

// The same address as a person might type it another time: the dedupe key
// (lower-cased, trimmed) stays the same.
std::string Recased(std::string_view email) {
  std::string out(email);
  bool start_of_word = true;
  for (char& c : out) {
    if (c == '@') break;
    if (start_of_word)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    start_of_word = (c == '.');
  }
  return out;
}

int PickSlot(DemoRng& rng, const std::vector<int>& weights) {
  int total = 0;
  for (int w : weights) total += std::max(w, 0);
  if (total <= 0) return 0;
  int64_t x = static_cast<int64_t>(rng.Below(total));
  for (size_t i = 0; i < weights.size(); ++i) {
    x -= std::max(weights[i], 0);
    if (x < 0) return static_cast<int>(i);
  }
  return static_cast<int>(weights.size()) - 1;
}

void PlanJourney(DemoRng& rng, SyntheticLead& lead) {
  uint64_t intent = rng.Below(100);
  lead.intent = intent < 18   ? Intent::kDemoRequest
                : intent < 55 ? Intent::kNurture
                              : Intent::kBrowse;
  uint64_t fate = rng.Below(100);
  lead.deal_fate = fate < 40   ? DealFate::kNone
                   : fate < 66 ? DealFate::kWon
                   : fate < 82 ? DealFate::kLost
                               : DealFate::kOpen;
  // Bigger companies buy bigger deals: $5k-$40k, times 1-3.
  int64_t hundreds = rng.Between(50, 400);
  int64_t size_factor = lead.profile.employee_count() >= 2000  ? 3
                        : lead.profile.employee_count() >= 500 ? 2
                                                               : 1;
  lead.deal_amount_minor = hundreds * size_factor * 100 * 100;
}

}  // namespace

uint64_t DemoRng::Next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t DemoRng::Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }

int64_t DemoRng::Between(int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
}

int DuplicateCount(const LeadGeneratorOptions& options) {
  if (options.count <= 1) return 0;
  int percent = std::clamp(options.duplicate_percent, 0, 50);
  int dups = static_cast<int>(std::lround(options.count * percent / 100.0));
  return std::min(dups, options.count - 1);
}

std::vector<SyntheticLead> GenerateLeads(const LeadGeneratorOptions& options) {
  std::vector<SyntheticLead> leads;
  if (options.count <= 0) return leads;
  leads.reserve(options.count);
  DemoRng rng(options.seed);
  const std::vector<int> weights = options.campaign_weights.empty()
                                       ? std::vector<int>{1}
                                       : options.campaign_weights;

  // Selection sampling (Knuth's algorithm S) marks exactly `dups` of the
  // positions 1..count-1 as repeats.
  int dups_left = DuplicateCount(options);
  std::set<std::string> used_emails;
  std::vector<int> originals;
  for (int i = 0; i < options.count; ++i) {
    int positions_left = options.count - i;
    bool duplicate = i > 0 && rng.Below(static_cast<uint64_t>(positions_left)) <
                                  static_cast<uint64_t>(dups_left);
    if (duplicate) {
      --dups_left;
      int of = originals[rng.Below(originals.size())];
      SyntheticLead again = leads[of];
      again.duplicate_of = of;
      again.email = Recased(leads[of].email);
      again.campaign_slot = PickSlot(rng, weights);
      again.source = std::string(Pick(rng, kSources));
      leads.push_back(std::move(again));
      continue;
    }

    SyntheticLead lead;
    lead.first_name = std::string(Pick(rng, kFirstNames));
    lead.last_name = std::string(Pick(rng, kLastNames));
    const Company& company = Pick(rng, kCompanies);
    const Role& role = Pick(rng, kRoles);
    lead.company = std::string(company.name);
    lead.profile.set_industry(std::string(company.industry));
    lead.profile.set_employee_count(company.employees);
    lead.profile.set_country(std::string(company.country));
    lead.profile.set_job_title(std::string(role.title));
    lead.profile.set_seniority(role.seniority);
    lead.source = std::string(Pick(rng, kSources));
    lead.campaign_slot = PickSlot(rng, weights);

    std::string local = Lower(lead.first_name) + "." + Lower(lead.last_name);
    std::string tag = options.run_id.empty() ? "" : "+" + Lower(options.run_id);
    std::string domain = Domain(company.name);
    std::string email = absl::StrCat(local, tag, "@", domain);
    for (int n = 2; used_emails.count(email) > 0; ++n) {
      email = absl::StrCat(local, n, tag, "@", domain);
    }
    used_emails.insert(email);
    lead.email = email;
    PlanJourney(rng, lead);

    originals.push_back(i);
    leads.push_back(std::move(lead));
  }
  return leads;
}

}  // namespace handoff::ctl
