#include "tools/handoffctl/demo.h"

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/proto_time.h"
#include "common/strings.h"
#include "tools/handoffctl/leadgen.h"
#include "tools/handoffctl/report.h"

namespace handoff::ctl {
namespace {

using campaign::v1::CampaignService;
using deal::v1::DealService;
using persona::v1::PersonaService;
using routing::v1::LeadRoutingService;

// Polling interval while waiting for the services; short, so the demo reacts
// within a fraction of a 2 s accept window.
constexpr absl::Duration kPoll = absl::Milliseconds(100);
// The first offer must show up within this (or the wait, if shorter).
constexpr absl::Duration kFirstOfferWait = absl::Seconds(30);
// With a longer accept window than this, waiting for breaches would make the
// demo slow, so every offer is accepted instead.
constexpr absl::Duration kLongestWindowToLapse = absl::Seconds(15);
// Share of offered leads the reps reject (with a reason).
constexpr int kRejectPercent = 7;

void Say(const std::string& line) { std::cout << line << std::endl; }

absl::Status WithContext(const absl::Status& status, std::string_view what) {
  return absl::Status(status.code(),
                      absl::StrCat(Sv(what), ": ", status.message()));
}

std::string Base36(uint64_t v) {
  constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[v % 36]);
    v /= 36;
  } while (v > 0);
  return out;
}

type::Money Usd(int64_t minor) {
  type::Money m;
  m.set_currency_code("USD");
  m.set_minor_units(minor);
  return m;
}

// ---- fixtures ------------------------------------------------------------

struct PersonaSpec {
  std::string display_name;
  std::string description;
  std::vector<std::string> industries;
  int min_employees;
  int max_employees;
  std::vector<std::string> countries;
  std::vector<std::string> title_keywords;
  std::vector<persona::v1::Seniority> seniorities;
  std::vector<std::string> pains;
  std::vector<std::string> goals;
  std::string value_proposition;
};

std::vector<PersonaSpec> PersonaSpecs() {
  using persona::v1::SENIORITY_C_LEVEL;
  using persona::v1::SENIORITY_DIRECTOR;
  using persona::v1::SENIORITY_MANAGER;
  using persona::v1::SENIORITY_OWNER;
  using persona::v1::SENIORITY_VP;
  return {
      {"IT Leader, Mid-Market",
       "Owns infrastructure and the tool stack in a growing company.",
       {"software", "logistics", "manufacturing", "healthcare"},
       200,
       5000,
       {"US", "DE", "GB", "NL", "FR"},
       {"IT", "CIO", "CTO", "Infrastructure"},
       {SENIORITY_DIRECTOR, SENIORITY_VP, SENIORITY_C_LEVEL},
       {"Integrations break on every upgrade", "Shadow IT in marketing"},
       {"One system of record for customer data", "Fewer vendors"},
       "Handoff connects marketing and sales systems without custom glue "
       "code."},
      {"Marketing Operations Manager",
       "Runs the marketing stack and reports pipeline to the CMO.",
       {"retail", "media", "software"},
       50,
       2000,
       {},
       {"Marketing", "Growth", "Demand"},
       {SENIORITY_MANAGER, SENIORITY_DIRECTOR},
       {"Sales ignores the MQLs marketing sends", "Cannot prove campaign ROI"},
       {"Agreed MQL definition and SLA", "Revenue attribution per campaign"},
       "Every MQL gets a rep and an SLA clock; every campaign gets its ROI."},
      {"Startup Founder",
       "Sells personally and needs a repeatable funnel before hiring sales.",
       {"software", "fintech"},
       1,
       100,
       {},
       {"Founder", "CEO", "CTO"},
       {SENIORITY_OWNER, SENIORITY_C_LEVEL},
       {"Leads go cold in the inbox"},
       {"Speed to lead under five minutes"},
       "Route every hot lead to someone who answers today."},
      {"Finance Controller, Enterprise",
       "Signs off marketing budgets and asks what they returned.",
       {"fintech", "insurance", "manufacturing", "retail"},
       1000,
       0,
       {"US", "DE", "GB", "JP"},
       {"Finance", "Controller", "CFO"},
       {SENIORITY_DIRECTOR, SENIORITY_VP, SENIORITY_C_LEVEL},
       {"Marketing spend without measurable return"},
       {"Cost per MQL and ROI per campaign"},
       "Spend, pipeline and won revenue per campaign in one report."},
  };
}

struct CampaignSpec {
  std::string title;
  campaign::v1::Channel channel;
  std::vector<int> personas;  // indexes into PersonaSpecs()
  int64_t budget_minor;
  int64_t spend_minor;
  int weight;  // share of captured leads
};

std::vector<CampaignSpec> CampaignSpecs() {
  return {
      {"Webinar: Zero-Downtime Cloud Migrations",
       campaign::v1::CHANNEL_WEBINAR,
       {0},
       2000000,
       1248000,
       30},
      {"Paid search: lead routing software",
       campaign::v1::CHANNEL_PAID_SEARCH,
       {1, 2},
       3000000,
       2731540,
       35},
      {"Trade show: Revenue Summit booth",
       campaign::v1::CHANNEL_EVENT,
       {0, 3},
       6000000,
       4890000,
       15},
      {"Ebook: The MQL-to-SAL Playbook",
       campaign::v1::CHANNEL_CONTENT,
       {1},
       800000,
       315000,
       20},
  };
}

struct RepSpec {
  std::string display_name;
  std::string team;
};

std::vector<RepSpec> RepSpecs() {
  return {
      {"Ava Thompson", "na-midmarket"},      {"Noah Williams", "na-midmarket"},
      {"Lena Becker", "emea-midmarket"},     {"Mateo Rossi", "emea-midmarket"},
      {"Sofia Kowalska", "emea-enterprise"}, {"Kenji Sato", "apac-enterprise"}};
}

std::string RepEmail(const RepSpec& rep) {
  std::string local = absl::AsciiStrToLower(rep.display_name);
  std::replace(local.begin(), local.end(), ' ', '.');
  return absl::StrCat(local, "@handoff-demo.example");
}

constexpr int kRepCapacity = 200;

// ---- the reps' side ------------------------------------------------------

enum class Plan { kAccept, kReject, kLapseOnce, kLapseAlways };

struct LeadRouting {
  Plan plan = Plan::kAccept;
  std::string accepted_assignment;
  std::string accepted_rep;
  bool rejected = false;
  // Offers left to breach on purpose.
  int lapsed = 0;
  // Accept or reject refused because the offer had already moved on.
  int late = 0;
};

// Plays the sales team: polls pending offers of the demo's leads and accepts,
// rejects or deliberately ignores each, on its own thread so offers are
// answered while the demo is still producing MQLs.
class RepDesk {
 public:
  RepDesk(Connections& connections, const DemoOptions& options)
      : connections_(connections), options_(options) {}
  ~RepDesk() { Stop(); }

  void Start() {
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        PollOnce();
        absl::SleepFor(kPoll);
      }
    });
  }

  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

  // Offers of other leads (other runs, other users) are left alone.
  void AddLead(const std::string& lead) {
    absl::MutexLock lock(&mu_);
    leads_.insert(lead);
  }

  // A resumed run: takes over how the reps answered `lead`'s offers before,
  // unless one is still pending (the desk answers that one as usual).
  void Recall(const std::string& lead,
              const std::vector<routing::v1::Assignment>& offers) {
    LeadRouting recalled;
    for (const auto& a : offers) {
      switch (a.state()) {
        case routing::v1::ASSIGNMENT_STATE_PENDING:
          return;
        case routing::v1::ASSIGNMENT_STATE_ACCEPTED:
        case routing::v1::ASSIGNMENT_STATE_CONVERTED:
          recalled.accepted_assignment = a.name();
          recalled.accepted_rep = a.rep();
          break;
        case routing::v1::ASSIGNMENT_STATE_REJECTED:
          recalled.rejected = true;
          break;
        case routing::v1::ASSIGNMENT_STATE_BREACHED:
          ++recalled.lapsed;
          break;
        default:
          break;
      }
    }
    if (recalled.accepted_assignment.empty() && !recalled.rejected) {
      recalled.plan = Plan::kLapseAlways;
    }
    absl::MutexLock lock(&mu_);
    routing_[lead] = recalled;
  }

  std::map<std::string, LeadRouting> Snapshot() const {
    absl::MutexLock lock(&mu_);
    return routing_;
  }

  absl::Status error() const {
    absl::MutexLock lock(&mu_);
    return error_;
  }

  bool saw_long_window() const { return long_window_.load(); }

 private:
  // Drawn at random rather than by position, so the lapses and rejections
  // do not all land on the same reps of the round robin.
  Plan PlanFor(int ordinal) {
    DemoRng rng(options_.seed ^ (0x9e3779b97f4a7c15ULL * (ordinal + 1)));
    int k = options_.breach_every;
    if (k > 0 && rng.Below(k) == 0) {
      return lapses_planned_++ < options_.exhaust ? Plan::kLapseAlways
                                                  : Plan::kLapseOnce;
    }
    if (rng.Percent(kRejectPercent)) return Plan::kReject;
    return Plan::kAccept;
  }

  void PollOnce() {
    routing::v1::ListAssignmentsRequest req;
    req.set_filter("state=PENDING");
    req.set_page_size(1000);
    std::vector<routing::v1::Assignment> pending;
    do {
      auto page = connections_.routing().Call(
          &LeadRoutingService::Stub::ListAssignments, req);
      if (!page.ok()) {
        NoteFailure(WithContext(page.status(), "ListAssignments"));
        return;
      }
      absl::MutexLock lock(&mu_);
      for (const auto& a : page->assignments()) {
        if (leads_.count(a.lead()) > 0 && handled_.count(a.name()) == 0)
          pending.push_back(a);
      }
      req.set_page_token(page->next_page_token());
    } while (!req.page_token().empty());
    for (const auto& a : pending) Handle(a);
  }

  void Handle(const routing::v1::Assignment& a) {
    LeadRouting state;
    {
      absl::MutexLock lock(&mu_);
      auto [it, inserted] = routing_.try_emplace(a.lead());
      if (inserted) it->second.plan = PlanFor(next_ordinal_++);
      state = it->second;
    }
    Plan plan = state.plan;
    absl::Duration window =
        FromProtoTime(a.accept_due_time()) - FromProtoTime(a.offer_time());
    if ((plan == Plan::kLapseOnce || plan == Plan::kLapseAlways) &&
        window > kLongestWindowToLapse) {
      long_window_.store(true);
      plan = Plan::kAccept;
    }
    bool lapse = plan == Plan::kLapseAlways ||
                 (plan == Plan::kLapseOnce && state.lapsed == 0);
    bool reject = plan == Plan::kReject && !state.rejected;
    if (lapse) {
      handled_.insert(a.name());
      Update(a.lead(), [](LeadRouting& r) { ++r.lapsed; });
      return;
    }
    absl::Status status;
    if (reject) {
      static constexpr routing::v1::RejectReason kReasons[] = {
          routing::v1::REJECT_REASON_NOT_A_FIT,
          routing::v1::REJECT_REASON_NO_BUDGET,
          routing::v1::REJECT_REASON_WRONG_TERRITORY,
          routing::v1::REJECT_REASON_BAD_CONTACT_DATA,
          routing::v1::REJECT_REASON_OTHER};
      routing::v1::RejectAssignmentRequest req;
      req.set_name(a.name());
      req.set_rep(a.rep());
      req.set_reason(kReasons[rejects_sent_ % std::size(kReasons)]);
      if (req.reason() == routing::v1::REJECT_REASON_OTHER) {
        req.set_note(
            "evaluating an in-house build first; revisit next quarter");
      }
      status = connections_.routing()
                   .Call(&LeadRoutingService::Stub::RejectAssignment, req)
                   .status();
      if (status.ok()) {
        ++rejects_sent_;
        Update(a.lead(), [](LeadRouting& r) { r.rejected = true; });
      }
    } else {
      routing::v1::AcceptAssignmentRequest req;
      req.set_name(a.name());
      req.set_rep(a.rep());
      status = connections_.routing()
                   .Call(&LeadRoutingService::Stub::AcceptAssignment, req)
                   .status();
      if (status.ok()) {
        Update(a.lead(), [&](LeadRouting& r) {
          r.accepted_assignment = a.name();
          r.accepted_rep = a.rep();
        });
      }
    }
    if (status.ok()) {
      handled_.insert(a.name());
      consecutive_failures_ = 0;
    } else if (absl::IsFailedPrecondition(status)) {
      // Breached or otherwise moved on between list and answer; the lead's
      // next offer is handled when it shows up.
      handled_.insert(a.name());
      Update(a.lead(), [](LeadRouting& r) { ++r.late; });
    } else {
      NoteFailure(WithContext(
          status, reject ? "RejectAssignment" : "AcceptAssignment"));
    }
  }

  template <typename Fn>
  void Update(const std::string& lead, Fn fn) {
    absl::MutexLock lock(&mu_);
    fn(routing_[lead]);
  }

  // Transient failures are retried on the next poll; a run of them ends the
  // demo through error().
  void NoteFailure(const absl::Status& status) {
    if (++consecutive_failures_ < 20) return;
    absl::MutexLock lock(&mu_);
    error_ = status;
  }

  Connections& connections_;
  const DemoOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> long_window_{false};
  std::thread thread_;
  // Touched by the desk thread only.
  std::set<std::string> handled_;
  int next_ordinal_ = 0;
  int lapses_planned_ = 0;
  size_t rejects_sent_ = 0;
  int consecutive_failures_ = 0;

  mutable absl::Mutex mu_;
  std::set<std::string> leads_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, LeadRouting> routing_ ABSL_GUARDED_BY(mu_);
  absl::Status error_ ABSL_GUARDED_BY(mu_);
};

// ---- the demo ------------------------------------------------------------

struct CampaignRef {
  std::string name;
  std::string display_name;
};

// What the demo did, per campaign, so it can tell when the reports caught up.
struct Expected {
  int64_t leads = 0;
  int64_t mqls = 0;
  int64_t accepted = 0;
  int64_t deals = 0;
  int64_t won = 0;
  int64_t lost = 0;
  int64_t revenue_minor = 0;
};

class Demo {
 public:
  Demo(Connections& connections, DemoOptions options)
      : c_(connections), options_(std::move(options)) {
    resumed_ = !options_.run_id.empty();
    if (options_.run_id.empty()) {
      options_.run_id =
          Base36(static_cast<uint64_t>(absl::ToUnixSeconds(absl::Now())));
    }
    wait_ = absl::Seconds(options_.wait_seconds);
  }

  absl::Status Run() {
    Say(absl::StrCat("handoffctl demo: run ", options_.run_id, ", seed ",
                     options_.seed, ", ", options_.leads, " leads"));
    if (auto s = SetUpPersonas(); !s.ok()) return s;
    if (auto s = SetUpCampaigns(); !s.ok()) return s;
    if (auto s = SetUpTeam(); !s.ok()) return s;
    {
      // Answers offers from the first capture on, in case capturing alone
      // qualifies a lead.
      RepDesk desk(c_, options_);
      desk.Start();
      if (auto s = CaptureLeads(desk); !s.ok()) return s;
      if (resumed_) {
        if (auto s = RecallEarlierAnswers(desk); !s.ok()) return s;
      }
      if (auto s = Engage(); !s.ok()) return s;
      if (auto s = AwaitRouting(desk); !s.ok()) return s;
      desk.Stop();
      routing_ = desk.Snapshot();
      if (desk.saw_long_window()) {
        Note(
            "the accept window is longer than 15s, so every offer was accepted "
            "and none "
            "breached; start handoff-routing with --accept_window=2s to see "
            "SLA breaches");
      }
    }
    if (auto s = WorkDeals(); !s.ok()) return s;
    if (auto s = AwaitReports(); !s.ok()) return s;
    if (auto s = PrintReports(); !s.ok()) return s;
    if (!problems_.empty()) {
      return absl::DeadlineExceededError(
          absl::StrCat("demo finished with ", problems_.size(),
                       " problem(s): ", absl::StrJoin(problems_, "; ")));
    }
    return absl::OkStatus();
  }

 private:
  std::string RequestId(std::string_view what, int index) const {
    return absl::StrCat("demo-", options_.run_id, "-", Sv(what), "-", index);
  }

  static void Note(const std::string& text) {
    Say(absl::StrCat("  note: ", text));
  }

  // Something the services did not do in time; the demo still prints its
  // reports but exits non-zero.
  void Problem(std::string text) {
    Say(absl::StrCat("  problem: ", text));
    problems_.push_back(std::move(text));
  }

  absl::Status SetUpPersonas() {
    std::map<std::string, std::string> existing;  // display name -> name
    persona::v1::ListPersonasRequest list;
    list.set_page_size(1000);
    do {
      auto page = c_.persona().Call(&PersonaService::Stub::ListPersonas, list);
      if (!page.ok()) return WithContext(page.status(), "ListPersonas");
      for (const auto& p : page->personas())
        existing.emplace(p.display_name(), p.name());
      list.set_page_token(page->next_page_token());
    } while (!list.page_token().empty());

    int created = 0;
    std::vector<PersonaSpec> specs = PersonaSpecs();
    for (size_t i = 0; i < specs.size(); ++i) {
      const PersonaSpec& spec = specs[i];
      if (auto it = existing.find(spec.display_name); it != existing.end()) {
        personas_.push_back(it->second);
        continue;
      }
      persona::v1::CreatePersonaRequest req;
      // Not per run: personas are shared by every run of the demo.
      req.set_request_id(absl::StrCat("demo-persona-", i));
      auto* p = req.mutable_persona();
      p->set_display_name(spec.display_name);
      p->set_description(spec.description);
      auto* criteria = p->mutable_criteria();
      for (const auto& s : spec.industries) criteria->add_industries(s);
      criteria->set_min_employees(spec.min_employees);
      criteria->set_max_employees(spec.max_employees);
      for (const auto& s : spec.countries) criteria->add_countries(s);
      for (const auto& s : spec.title_keywords) criteria->add_title_keywords(s);
      for (auto s : spec.seniorities) criteria->add_seniorities(s);
      for (const auto& s : spec.pains) p->add_pain_points(s);
      for (const auto& s : spec.goals) p->add_goals(s);
      p->set_value_proposition(spec.value_proposition);
      auto* awareness = p->add_journey();
      awareness->set_stage(persona::v1::JOURNEY_STAGE_AWARENESS);
      awareness->set_message(spec.pains.front());
      awareness->add_content("ebook/mql-to-sal-playbook");
      auto* decision = p->add_journey();
      decision->set_stage(persona::v1::JOURNEY_STAGE_DECISION);
      decision->set_message(spec.value_proposition);
      decision->add_content("demo/live");
      auto persona =
          c_.persona().Call(&PersonaService::Stub::CreatePersona, req);
      if (!persona.ok()) return WithContext(persona.status(), "CreatePersona");
      personas_.push_back(persona->name());
      ++created;
    }
    Say(absl::StrCat("personas: ", personas_.size(), " (", created,
                     " created, ", personas_.size() - created,
                     " already there)"));
    return absl::OkStatus();
  }

  absl::Status SetUpCampaigns() {
    absl::Time now = absl::Now();
    std::vector<CampaignSpec> specs = CampaignSpecs();
    for (size_t i = 0; i < specs.size(); ++i) {
      const CampaignSpec& spec = specs[i];
      campaign::v1::CreateCampaignRequest req;
      req.set_request_id(RequestId("campaign", static_cast<int>(i)));
      auto* c = req.mutable_campaign();
      c->set_display_name(
          absl::StrCat(spec.title, " (demo ", options_.run_id, ")"));
      c->set_channel(spec.channel);
      c->set_state(campaign::v1::CAMPAIGN_STATE_ACTIVE);
      for (int p : spec.personas) c->add_target_personas(personas_[p]);
      *c->mutable_budget() = Usd(spec.budget_minor);
      *c->mutable_spend() = Usd(spec.spend_minor);
      *c->mutable_start_time() = ToProtoTime(now - absl::Hours(24 * 30));
      *c->mutable_end_time() = ToProtoTime(now + absl::Hours(24 * 60));
      auto campaign =
          c_.campaign().Call(&CampaignService::Stub::CreateCampaign, req);
      if (!campaign.ok())
        return WithContext(campaign.status(), "CreateCampaign");
      campaigns_.push_back({campaign->name(), campaign->display_name()});
      weights_.push_back(spec.weight);
      Say(absl::StrCat(
          "campaign: ", campaign->display_name(), "  ",
          EnumShortName(campaign::v1::Channel_descriptor(), spec.channel),
          ", spend ", FormatMoney(campaign->spend()), " of ",
          FormatMoney(campaign->budget())));
    }
    return absl::OkStatus();
  }

  absl::Status SetUpTeam() {
    std::map<std::string, routing::v1::Rep> existing;  // email -> rep
    routing::v1::ListRepsRequest list;
    list.set_page_size(1000);
    do {
      auto page = c_.routing().Call(&LeadRoutingService::Stub::ListReps, list);
      if (!page.ok()) return WithContext(page.status(), "ListReps");
      for (const auto& r : page->reps()) existing.emplace(r.email(), r);
      list.set_page_token(page->next_page_token());
    } while (!list.page_token().empty());

    int created = 0;
    std::vector<RepSpec> specs = RepSpecs();
    // Twice a rep's fair share of this run's leads.
    const int room = 2 * options_.leads / static_cast<int>(specs.size()) + 1;
    for (size_t i = 0; i < specs.size(); ++i) {
      std::string email = RepEmail(specs[i]);
      auto it = existing.find(email);
      if (it == existing.end()) {
        routing::v1::CreateRepRequest req;
        req.set_request_id(absl::StrCat("demo-rep-", i));
        auto* rep = req.mutable_rep();
        rep->set_display_name(specs[i].display_name);
        rep->set_email(email);
        rep->set_team(specs[i].team);
        rep->set_capacity(std::max(kRepCapacity, room));
        rep->set_status(routing::v1::REP_STATUS_AVAILABLE);
        auto made =
            c_.routing().Call(&LeadRoutingService::Stub::CreateRep, req);
        if (!made.ok()) return WithContext(made.status(), "CreateRep");
        reps_[made->name()] = made->display_name();
        ++created;
        continue;
      }
      const routing::v1::Rep& rep = it->second;
      reps_[rep.name()] = rep.display_name();
      // Earlier runs leave accepted leads open; keep room for this run's.
      if (rep.capacity() - rep.open_assignments() < room ||
          rep.status() != routing::v1::REP_STATUS_AVAILABLE) {
        routing::v1::UpdateRepRequest req;
        req.mutable_rep()->set_name(rep.name());
        req.mutable_rep()->set_capacity(
            std::max(rep.capacity(),
                     rep.open_assignments() + std::max(kRepCapacity, room)));
        req.mutable_rep()->set_status(routing::v1::REP_STATUS_AVAILABLE);
        req.mutable_update_mask()->add_paths("capacity");
        req.mutable_update_mask()->add_paths("status");
        auto updated =
            c_.routing().Call(&LeadRoutingService::Stub::UpdateRep, req);
        if (!updated.ok()) return WithContext(updated.status(), "UpdateRep");
      }
    }
    std::set<std::string> teams;
    for (const auto& spec : specs) teams.insert(spec.team);
    Say(absl::StrCat("sales team: ", reps_.size(), " reps in ", teams.size(),
                     " teams (", created, " created, ", reps_.size() - created,
                     " already there)"));
    return absl::OkStatus();
  }

  absl::Status CaptureLeads(RepDesk& desk) {
    LeadGeneratorOptions gen;
    gen.seed = options_.seed;
    gen.run_id = options_.run_id;
    gen.count = options_.leads;
    gen.campaign_weights = weights_;
    people_ = GenerateLeads(gen);
    int created = 0;
    int merged = 0;
    for (size_t i = 0; i < people_.size(); ++i) {
      const SyntheticLead& p = people_[i];
      campaign::v1::CaptureLeadRequest req;
      req.set_request_id(RequestId("capture", static_cast<int>(i)));
      req.set_campaign(campaigns_[p.campaign_slot].name);
      req.set_email(p.email);
      req.set_first_name(p.first_name);
      req.set_last_name(p.last_name);
      req.set_company(p.company);
      *req.mutable_profile() = p.profile;
      req.set_source(p.source);
      auto resp = c_.campaign().Call(&CampaignService::Stub::CaptureLead, req);
      if (!resp.ok()) return WithContext(resp.status(), "CaptureLead");
      const campaign::v1::Lead& lead = resp->lead();
      lead_names_.insert(lead.name());
      desk.AddLead(lead.name());
      if (resp->created()) {
        ++created;
        first_capture_[lead.name()] = static_cast<int>(i);
      } else {
        ++merged;
      }
      latest_[lead.name()] = lead;
    }
    Say(absl::StrCat(
        "captured ", people_.size(), " leads: ", created, " new, ", merged,
        " repeat visitors merged into their existing lead by email"));
    return absl::OkStatus();
  }

  absl::Status ListOurAssignments(std::vector<routing::v1::Assignment>* out) {
    out->clear();
    routing::v1::ListAssignmentsRequest req;
    req.set_page_size(1000);
    do {
      auto page =
          c_.routing().Call(&LeadRoutingService::Stub::ListAssignments, req);
      if (!page.ok()) return WithContext(page.status(), "ListAssignments");
      for (const auto& a : page->assignments()) {
        if (lead_names_.count(a.lead()) > 0) out->push_back(a);
      }
      req.set_page_token(page->next_page_token());
    } while (!req.page_token().empty());
    return absl::OkStatus();
  }

  absl::Status RecallEarlierAnswers(RepDesk& desk) {
    std::vector<routing::v1::Assignment> earlier;
    if (auto s = ListOurAssignments(&earlier); !s.ok()) return s;
    std::map<std::string, std::vector<routing::v1::Assignment>> by_lead;
    for (auto& a : earlier) by_lead[a.lead()].push_back(std::move(a));
    for (const auto& [lead, offers] : by_lead) desk.Recall(lead, offers);
    Say(absl::StrCat("resuming run ", options_.run_id, ": ", by_lead.size(),
                     " leads were offered before"));
    return absl::OkStatus();
  }

  absl::Status Engage() {
    using campaign::v1::EngagementType;
    static constexpr EngagementType kNurture[] = {
        campaign::v1::ENGAGEMENT_TYPE_EMAIL_OPEN,
        campaign::v1::ENGAGEMENT_TYPE_EMAIL_CLICK,
        campaign::v1::ENGAGEMENT_TYPE_CONTENT_DOWNLOAD,
        campaign::v1::ENGAGEMENT_TYPE_WEBINAR_REGISTERED,
        campaign::v1::ENGAGEMENT_TYPE_WEBINAR_ATTENDED,
        campaign::v1::ENGAGEMENT_TYPE_PRICING_PAGE_VIEW,
        campaign::v1::ENGAGEMENT_TYPE_FORM_SUBMIT,
        campaign::v1::ENGAGEMENT_TYPE_PRICING_PAGE_VIEW,
        campaign::v1::ENGAGEMENT_TYPE_EVENT_VISIT,
        campaign::v1::ENGAGEMENT_TYPE_CONTENT_DOWNLOAD,
    };
    int recorded = 0;
    int by_demo_request = 0;
    for (const auto& [lead_name, index] : first_capture_) {
      const SyntheticLead& p = people_[index];
      std::vector<EngagementType> plan;
      switch (p.intent) {
        case Intent::kDemoRequest:
          plan = {campaign::v1::ENGAGEMENT_TYPE_CONTENT_DOWNLOAD,
                  campaign::v1::ENGAGEMENT_TYPE_DEMO_REQUEST};
          break;
        case Intent::kNurture:
          plan.assign(std::begin(kNurture), std::end(kNurture));
          break;
        case Intent::kBrowse:
          plan = {campaign::v1::ENGAGEMENT_TYPE_EMAIL_OPEN};
          if (index % 2 == 0)
            plan.push_back(campaign::v1::ENGAGEMENT_TYPE_EMAIL_CLICK);
          break;
      }
      for (size_t k = 0; k < plan.size(); ++k) {
        // A nurtured lead stops engaging once it qualifies: sales has it.
        if (latest_[lead_name].has_mql_time()) break;
        campaign::v1::RecordEngagementRequest req;
        req.set_request_id(
            absl::StrCat(RequestId("engagement", index), "-", k));
        req.set_lead(lead_name);
        req.set_type(plan[k]);
        req.set_campaign(campaigns_[p.campaign_slot].name);
        auto resp =
            c_.campaign().Call(&CampaignService::Stub::RecordEngagement, req);
        if (!resp.ok()) return WithContext(resp.status(), "RecordEngagement");
        ++recorded;
        latest_[lead_name] = resp->lead();
        if (resp->became_mql() &&
            plan[k] == campaign::v1::ENGAGEMENT_TYPE_DEMO_REQUEST) {
          ++by_demo_request;
        }
      }
    }
    for (const auto& [name, lead] : latest_) {
      if (lead.has_mql_time()) mqls_.push_back(name);
    }
    Say(absl::StrCat("engagements: ", recorded, " recorded; ", mqls_.size(),
                     " leads became MQLs (", by_demo_request,
                     " by asking for a demo)"));
    return absl::OkStatus();
  }

  // Whether routing is done with the lead, as far as the demo is concerned.
  absl::StatusOr<bool> Settled(const std::string& lead,
                               const LeadRouting* routing) {
    if (routing == nullptr) return false;
    if (!routing->accepted_assignment.empty() || routing->rejected) return true;
    if (routing->plan != Plan::kLapseAlways || routing->lapsed == 0)
      return false;
    // Never accepted on purpose: done once routing gave the lead back.
    campaign::v1::GetLeadRequest req;
    req.set_name(lead);
    auto got = c_.campaign().Call(&CampaignService::Stub::GetLead, req);
    if (!got.ok()) return WithContext(got.status(), "GetLead");
    return got->stage() == campaign::v1::LEAD_STAGE_RECYCLED;
  }

  absl::Status AwaitRouting(const RepDesk& desk) {
    absl::Time start = absl::Now();
    absl::Time deadline = start + wait_;
    absl::Time first_offer_deadline = start + std::min(wait_, kFirstOfferWait);
    absl::Time next_progress = start + absl::Seconds(3);
    Say(absl::StrCat("routing: waiting for offers of ", mqls_.size(),
                     " MQLs; the reps accept most, reject some",
                     options_.breach_every > 0
                         ? absl::StrCat(" and let about 1 in ",
                                        options_.breach_every, " lapse")
                         : std::string()));
    while (true) {
      if (absl::Status e = desk.error(); !e.ok()) return e;
      auto snapshot = desk.Snapshot();
      int offered = 0;
      int unsettled = 0;
      for (const std::string& lead : mqls_) {
        auto it = snapshot.find(lead);
        const LeadRouting* r = it == snapshot.end() ? nullptr : &it->second;
        if (r != nullptr) ++offered;
        auto settled = Settled(lead, r);
        if (!settled.ok()) return settled.status();
        if (!*settled) ++unsettled;
      }
      if (unsettled == 0) break;
      absl::Time now = absl::Now();
      if (offered == 0 && now > first_offer_deadline) {
        return absl::DeadlineExceededError(absl::StrCat(
            "no offer for any of ", mqls_.size(), " MQLs within ",
            absl::FormatDuration(first_offer_deadline - start),
            ": is handoff-routing running and can campaign reach it?"));
      }
      if (now > deadline) {
        Problem(absl::StrCat(
            unsettled, " of ", mqls_.size(), " MQLs not settled after ",
            absl::FormatDuration(wait_), " (offered: ", offered, ")"));
        break;
      }
      if (now > next_progress) {
        Say(absl::StrCat("  ", offered, " of ", mqls_.size(), " MQLs offered, ",
                         unsettled, " still in play"));
        next_progress = now + absl::Seconds(3);
      }
      absl::SleepFor(kPoll);
    }
    int accepted = 0, rejected = 0, lapsed = 0, late = 0;
    for (const auto& [lead, r] : desk.Snapshot()) {
      if (!r.accepted_assignment.empty()) ++accepted;
      if (r.rejected) ++rejected;
      lapsed += r.lapsed;
      late += r.late;
    }
    Say(absl::StrCat("routing: reps accepted ", accepted, " leads, rejected ",
                     rejected, ", let ", lapsed, " offers lapse on purpose",
                     late > 0 ? absl::StrCat(", were too late for ", late) : "",
                     " (", FormatDurationShort(absl::Now() - start), ")"));
    return absl::OkStatus();
  }

  // CreateDeal needs the acceptance to have reached the deal service's view;
  // FAILED_PRECONDITION until then, so retry that within the wait.
  absl::StatusOr<deal::v1::Deal> CreateDeal(
      const deal::v1::CreateDealRequest& req) {
    absl::Time deadline = absl::Now() + wait_;
    while (true) {
      auto deal = c_.deal().Call(&DealService::Stub::CreateDeal, req);
      if (deal.ok() || !absl::IsFailedPrecondition(deal.status()) ||
          absl::Now() > deadline) {
        return deal;
      }
      absl::SleepFor(kPoll);
    }
  }

  absl::Status WorkDeals() {
    static constexpr std::string_view kTiers[] = {"Starter", "Growth",
                                                  "Enterprise"};
    static constexpr std::string_view kLossReasons[] = {"PRICE", "COMPETITOR",
                                                        "NO_DECISION"};
    int created = 0, won = 0, lost = 0, open = 0;
    absl::Time now = absl::Now();
    for (const auto& [lead_name, index] : first_capture_) {
      auto r = routing_.find(lead_name);
      if (r == routing_.end() || r->second.accepted_assignment.empty())
        continue;
      const SyntheticLead& p = people_[index];
      if (p.deal_fate == DealFate::kNone) continue;

      deal::v1::CreateDealRequest req;
      req.set_request_id(RequestId("deal", index));
      auto* d = req.mutable_deal();
      d->set_lead(lead_name);
      d->set_display_name(absl::StrCat(p.company, ": Handoff ",
                                       Sv(kTiers[index % std::size(kTiers)])));
      *d->mutable_amount() = Usd(p.deal_amount_minor);
      *d->mutable_expected_close_time() =
          ToProtoTime(now + absl::Hours(24 * (30 + index % 60)));
      auto deal = CreateDeal(req);
      if (!deal.ok()) return WithContext(deal.status(), "CreateDeal");
      ++created;
      Expected& e = expected_[latest_[lead_name].campaign()];
      ++e.deals;

      // Read back: on a resumed run the deal may have moved on already.
      deal::v1::GetDealRequest get;
      get.set_name(deal->name());
      auto current = c_.deal().Call(&DealService::Stub::GetDeal, get);
      if (!current.ok()) return WithContext(current.status(), "GetDeal");
      std::vector<deal::v1::DealStage> path = {deal::v1::DEAL_STAGE_DISCOVERY};
      if (p.deal_fate != DealFate::kOpen || index % 2 == 0) {
        path.push_back(deal::v1::DEAL_STAGE_PROPOSAL);
      }
      if (p.deal_fate == DealFate::kWon)
        path.push_back(deal::v1::DEAL_STAGE_NEGOTIATION);
      bool closed = current->stage() == deal::v1::DEAL_STAGE_CLOSED_WON ||
                    current->stage() == deal::v1::DEAL_STAGE_CLOSED_LOST;
      for (auto stage : path) {
        if (closed || stage <= current->stage()) continue;
        deal::v1::UpdateDealStageRequest up;
        up.set_name(deal->name());
        up.set_stage(stage);
        up.set_actor(current->owner());
        auto moved = c_.deal().Call(&DealService::Stub::UpdateDealStage, up);
        if (!moved.ok()) return WithContext(moved.status(), "UpdateDealStage");
      }
      if (p.deal_fate == DealFate::kOpen) {
        ++open;
        continue;
      }
      deal::v1::CloseDealRequest close;
      close.set_request_id(RequestId("close", index));
      close.set_name(deal->name());
      close.set_actor(current->owner());
      int64_t final_minor = p.deal_amount_minor;
      if (p.deal_fate == DealFate::kWon) {
        close.set_outcome(deal::v1::DEAL_OUTCOME_WON);
        // Every third win closes after a 10% negotiated discount.
        if (index % 3 == 0) {
          final_minor = p.deal_amount_minor / 10 * 9;
          *close.mutable_amount() = Usd(final_minor);
        }
      } else {
        close.set_outcome(deal::v1::DEAL_OUTCOME_LOST);
        close.set_reason(
            std::string(kLossReasons[index % std::size(kLossReasons)]));
      }
      auto done = c_.deal().Call(&DealService::Stub::CloseDeal, close);
      if (!done.ok() &&
          !(closed && absl::IsFailedPrecondition(done.status()))) {
        return WithContext(done.status(), "CloseDeal");
      }
      if (p.deal_fate == DealFate::kWon) {
        ++won;
        ++e.won;
        e.revenue_minor += final_minor;
      } else {
        ++lost;
        ++e.lost;
      }
    }
    Say(absl::StrCat("deals: ", created, " created from accepted leads; ", won,
                     " won, ", lost, " lost, ", open, " still open"));
    return absl::OkStatus();
  }

  absl::Status FetchReports(
      std::vector<campaign::v1::CampaignReport>* reports) {
    reports->clear();
    for (const CampaignRef& c : campaigns_) {
      campaign::v1::GetCampaignReportRequest req;
      req.set_campaign(c.name);
      auto report =
          c_.campaign().Call(&CampaignService::Stub::GetCampaignReport, req);
      if (!report.ok())
        return WithContext(report.status(), "GetCampaignReport");
      reports->push_back(*report);
    }
    return absl::OkStatus();
  }

  // Differences between what the demo did and what a report says.
  static std::vector<std::string> Mismatches(
      const Expected& e, const campaign::v1::CampaignReport& r) {
    std::vector<std::string> out;
    auto check = [&](std::string_view what, int64_t want, int64_t got) {
      if (want != got)
        out.push_back(
            absl::StrCat(Sv(what), " ", got, " (expected ", want, ")"));
    };
    check("leads", e.leads, r.leads());
    check("MQLs", e.mqls, r.mqls());
    check("accepted", e.accepted, r.accepted());
    check("deals", e.deals, r.deals());
    check("won", e.won, r.won());
    check("lost", e.lost, r.lost());
    check("revenue", e.revenue_minor, r.attributed_revenue().minor_units());
    return out;
  }

  absl::Status AwaitReports() {
    for (const auto& [lead_name, index] : first_capture_) {
      const campaign::v1::Lead& lead = latest_[lead_name];
      Expected& e = expected_[lead.campaign()];
      ++e.leads;
      if (lead.has_mql_time()) ++e.mqls;
      auto r = routing_.find(lead_name);
      if (r != routing_.end() && !r->second.accepted_assignment.empty())
        ++e.accepted;
    }
    absl::Time start = absl::Now();
    absl::Time deadline = start + wait_;
    while (true) {
      if (auto s = FetchReports(&reports_); !s.ok()) return s;
      std::vector<std::string> behind;
      for (size_t i = 0; i < reports_.size(); ++i) {
        auto diff = Mismatches(expected_[campaigns_[i].name], reports_[i]);
        if (!diff.empty()) {
          behind.push_back(absl::StrCat(campaigns_[i].name, ": ",
                                        absl::StrJoin(diff, ", ")));
        }
      }
      if (behind.empty()) {
        Say(absl::StrCat(
            "campaign reports agree with what the demo did (after ",
            FormatDurationShort(absl::Now() - start), ")"));
        return absl::OkStatus();
      }
      if (absl::Now() > deadline) {
        Problem(absl::StrCat(
            "campaign reports still differ from what the demo did after ",
            absl::FormatDuration(wait_), ": ", absl::StrJoin(behind, "; ")));
        return absl::OkStatus();
      }
      absl::SleepFor(kPoll * 2);
    }
  }

  absl::Status PrintReports() {
    std::cout << "\n==== Funnel by campaign ====\n\n";
    for (const auto& report : reports_)
      std::cout << FormatCampaignFunnel(report) << "\n";
    std::cout << FormatCampaignTable(reports_) << "\n";

    std::vector<routing::v1::Assignment> ours;
    if (auto s = ListOurAssignments(&ours); !s.ok()) return s;
    std::cout << "==== Sales SLA ====\n\n"
              << FormatSlaSummary(SummarizeSla(ours), reps_);
    std::cout.flush();
    return absl::OkStatus();
  }

  Connections& c_;
  DemoOptions options_;
  // Given an earlier run's id: everything it did is answered by request id
  // or looked up, nothing is done twice.
  bool resumed_ = false;
  absl::Duration wait_;
  std::vector<std::string> personas_;
  std::vector<CampaignRef> campaigns_;
  std::vector<int> weights_;
  std::map<std::string, std::string> reps_;  // name -> display name
  std::vector<SyntheticLead> people_;
  std::set<std::string> lead_names_;          // every lead of this run
  std::map<std::string, int> first_capture_;  // lead name -> capture index
  std::map<std::string, campaign::v1::Lead> latest_;
  std::vector<std::string> mqls_;
  std::map<std::string, LeadRouting> routing_;
  std::map<std::string, Expected> expected_;  // campaign name -> counts
  std::vector<campaign::v1::CampaignReport> reports_;
  std::vector<std::string> problems_;
};

}  // namespace

absl::Status RunDemo(Connections& connections, const DemoOptions& options) {
  Demo demo(connections, options);
  return demo.Run();
}

void AddDemoCommand(CLI::App& app, CommandContext& ctx) {
  auto o = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand(
      "demo",
      "run the whole funnel against running services and print the reports");
  cmd->add_option("--leads", o->leads, "synthetic leads to capture")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the synthetic leads")
      ->capture_default_str();
  cmd->add_option("--breach-every", o->breach_every,
                  "leave every K-th offered lead to breach once (0: none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--exhaust", o->exhaust,
                  "of those, never accept this many, so routing recycles them")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option(
         "--run-id", o->run_id,
         "tag for names, emails and request ids; reuse one to resume a run")
      ->check([](const std::string& v) {
        bool ok = !v.empty() && v.size() <= 16 &&
                  std::all_of(v.begin(), v.end(), [](char ch) {
                    return absl::ascii_islower(ch) || absl::ascii_isdigit(ch);
                  });
        return ok ? std::string()
                  : std::string("lower-case letters and digits, at most 16");
      });
  cmd->add_option("--wait", o->wait_seconds,
                  "bound on each wait for the services, seconds")
      ->check(CLI::Range(1.0, 3600.0))
      ->capture_default_str();
  cmd->callback([&ctx, o] { ctx.result = RunDemo(*ctx.connections, *o); });
}

}  // namespace handoff::ctl
