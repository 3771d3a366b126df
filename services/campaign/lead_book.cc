#include "services/campaign/lead_book.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/enums.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/listing.h"
#include "common/logging.h"
#include "common/proto_time.h"
#include "common/storage/idempotency.h"
#include "handoff/routing/v1/routing.pb.h"
#include "services/campaign/email.h"
#include "services/campaign/lead_lifecycle.h"
#include "services/campaign/money.h"
#include "services/campaign/scoring.h"

namespace handoff::campaign {
namespace {

using persona::v1::LeadProfile;

constexpr size_t kMaxText = 200;
// Touches are kept for attribution and history, but a lead captured over and
// over must not grow without bound: the first touch (attribution) and the
// most recent ones are kept.
constexpr int kMaxTouches = 100;

absl::Status CheckLength(std::string_view field, std::string_view value) {
  if (value.size() > kMaxText) {
    return InvalidField(field, "longer than 200 characters");
  }
  return absl::OkStatus();
}

// Everything in a capture besides campaign and email.
absl::Status ValidateCaptureDetails(const v1::CaptureLeadRequest& request) {
  for (const auto& [field, value] :
       std::initializer_list<std::pair<std::string_view, std::string_view>>{
           {"first_name", request.first_name()},
           {"last_name", request.last_name()},
           {"company", request.company()},
           {"source", request.source()},
           {"profile.industry", request.profile().industry()},
           {"profile.job_title", request.profile().job_title()}}) {
    if (absl::Status s = CheckLength(field, value); !s.ok()) return s;
  }
  const LeadProfile& profile = request.profile();
  if (profile.employee_count() < 0) {
    return InvalidField("profile.employee_count", "must not be negative");
  }
  if (!profile.country().empty()) {
    const std::string& c = profile.country();
    if (c.size() != 2 ||
        !absl::ascii_isalpha(static_cast<unsigned char>(c[0])) ||
        !absl::ascii_isalpha(static_cast<unsigned char>(c[1]))) {
      return InvalidField("profile.country",
                          "must be an ISO 3166-1 alpha-2 code, e.g. DE");
    }
  }
  return CheckEnum("profile.seniority", profile.seniority(),
                   persona::v1::Seniority_descriptor(),
                   /*allow_unspecified=*/true);
}

LeadProfile NormalizeProfile(const LeadProfile& profile) {
  LeadProfile normalized = profile;
  normalized.set_country(absl::AsciiStrToUpper(profile.country()));
  return normalized;
}

bool SameProfile(const LeadProfile& a, const LeadProfile& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

// A later capture completes what the lead lacks; it never overwrites.
void FillMissing(const v1::CaptureLeadRequest& request,
                 const LeadProfile& incoming, v1::Lead& lead) {
  if (lead.first_name().empty()) lead.set_first_name(request.first_name());
  if (lead.last_name().empty()) lead.set_last_name(request.last_name());
  if (lead.company().empty()) lead.set_company(request.company());
  LeadProfile& profile = *lead.mutable_profile();
  if (profile.industry().empty()) profile.set_industry(incoming.industry());
  if (profile.employee_count() == 0) {
    profile.set_employee_count(incoming.employee_count());
  }
  if (profile.country().empty()) profile.set_country(incoming.country());
  if (profile.job_title().empty()) profile.set_job_title(incoming.job_title());
  if (profile.seniority() == persona::v1::SENIORITY_UNSPECIFIED) {
    profile.set_seniority(incoming.seniority());
  }
}

void AddTouch(const v1::CaptureLeadRequest& request, absl::Time now,
              v1::Lead& lead) {
  v1::Touch* touch = lead.add_touches();
  touch->set_campaign(request.campaign());
  *touch->mutable_time() = ToProtoTime(now);
  touch->set_source(request.source());
  if (lead.touches_size() > kMaxTouches) {
    lead.mutable_touches()->DeleteSubrange(1, 1);
  }
}

void Stamp(absl::Time now, v1::Lead& lead) {
  *lead.mutable_update_time() = ToProtoTime(now);
  lead.set_etag(NewEtag());
}

std::string IdOf(std::string_view name) {
  return std::string(name.substr(name.find('/') + 1));
}

absl::StatusOr<v1::Lead> LoadLead(Transaction& tx, const CampaignStore& store,
                                  std::string_view id, std::string_view name) {
  absl::StatusOr<std::optional<v1::Lead>> found = store.FindLead(tx, id);
  if (!found.ok()) return found.status();
  if (!found->has_value()) return NotFound(name);
  return *std::move(*found);
}

}  // namespace

LeadBook::LeadBook(Database& db, const CampaignStore& store, Outbox& outbox,
                   PersonaFit& persona, const Clock& clock, Metrics& metrics,
                   int default_mql_threshold)
    : db_(db),
      store_(store),
      outbox_(outbox),
      persona_(persona),
      clock_(clock),
      default_mql_threshold_(default_mql_threshold),
      leads_captured_(metrics.Counter(
          "handoff_leads_captured_total",
          "Leads created by CaptureLead (first capture of a person).")),
      lead_touches_(metrics.Counter(
          "handoff_lead_touches_total",
          "Captures of a person who already was a lead, kept as a touch.")),
      persona_failures_(metrics.Counter(
          "handoff_persona_match_failures_total",
          "Persona fit lookups that failed; the lead keeps fit_pending.")),
      mqls_by_score_(metrics.Counter(
          "handoff_mqls_total", "Leads that became MQLs and went to routing.",
          {{"reason", std::string(kMqlReasonScore)}})),
      mqls_by_demo_(metrics.Counter(
          "handoff_mqls_total", "Leads that became MQLs and went to routing.",
          {{"reason", std::string(kMqlReasonDemo)}})) {
  const auto* types = v1::EngagementType_descriptor();
  for (int i = 0; i < types->value_count(); ++i) {
    const int type = types->value(i)->number();
    if (type == v1::ENGAGEMENT_TYPE_UNSPECIFIED) continue;
    engagements_[type] = &metrics.Counter(
        "handoff_engagements_total", "Engagements recorded, by type.",
        {{"type", ShortEnumName(type, types, "ENGAGEMENT_TYPE_")}});
  }
  const auto* stages = v1::LeadStage_descriptor();
  for (int i = 0; i < stages->value_count(); ++i) {
    const int stage = stages->value(i)->number();
    if (stage == v1::LEAD_STAGE_UNSPECIFIED) continue;
    stage_changes_[stage] = &metrics.Counter(
        "handoff_lead_stage_changes_total",
        "Leads moved into a stage (MQL by scoring, the rest by feedback).",
        {{"stage", ShortEnumName(stage, stages, "LEAD_STAGE_")}});
  }
}

std::optional<LeadBook::Fit> LeadBook::AskPersona(const LeadProfile& profile) {
  absl::StatusOr<persona::v1::MatchPersonaResponse> response =
      persona_.Match(profile);
  if (!response.ok()) {
    persona_failures_.Increment();
    Log(LogLevel::kWarning, "persona_match_failed",
        {{"code", absl::StatusCodeToString(response.status().code())}});
    return std::nullopt;
  }
  Fit fit;
  fit.profile = profile;
  for (const persona::v1::PersonaMatch& match : response->matches()) {
    const int score = std::clamp(match.score(), 0, 100);
    if (fit.persona.empty() || score > fit.score) {
      fit.score = score;
      fit.persona = match.persona();
    }
  }
  return fit;
}

void LeadBook::ApplyFit(const std::optional<Fit>& fit, v1::Lead& lead) {
  if (!fit.has_value() || !SameProfile(fit->profile, lead.profile())) return;
  lead.set_fit_score(fit->score);
  lead.set_persona(fit->persona);
  lead.set_fit_pending(false);
  lead.set_score(LeadScore(lead.engagement_score(), lead.fit_score()));
}

absl::StatusOr<v1::CaptureLeadResponse> LeadBook::CaptureLead(
    const v1::CaptureLeadRequest& request) {
  absl::StatusOr<std::string> campaign_id =
      ParseResourceName("campaign", request.campaign(), "campaigns");
  if (!campaign_id.ok()) return campaign_id.status();
  absl::StatusOr<std::string> normalized =
      NormalizeEmail("email", request.email());
  if (!normalized.ok()) return normalized.status();
  if (absl::Status s = ValidateCaptureDetails(request); !s.ok()) return s;
  const LeadProfile incoming = NormalizeProfile(request.profile());

  // Persona is asked before the write transaction, so a slow neighbour never
  // holds the database lock. The transaction re-reads everything and uses the
  // answer only if it still fits the lead's profile.
  std::optional<Fit> fit;
  {
    bool campaign_open = false;
    bool replayed = false;
    v1::CaptureLeadResponse stored;
    std::optional<v1::Lead> existing;
    absl::Status peek = db_.Read([&](Transaction& tx) -> absl::Status {
      // A replay gets its stored answer without asking persona again.
      if (!request.request_id().empty()) {
        absl::StatusOr<bool> seen = FindIdempotentResponse(
            tx, "CaptureLead", request.request_id(), &stored);
        if (!seen.ok()) return seen.status();
        replayed = *seen;
        if (replayed) return absl::OkStatus();
      }
      absl::StatusOr<std::optional<v1::Campaign>> campaign =
          store_.FindCampaign(tx, *campaign_id);
      if (!campaign.ok()) return campaign.status();
      campaign_open = campaign->has_value() &&
                      (*campaign)->state() != v1::CAMPAIGN_STATE_COMPLETED;
      absl::StatusOr<std::optional<v1::Lead>> lead =
          store_.FindLeadByEmail(tx, *normalized);
      if (!lead.ok()) return lead.status();
      existing = *std::move(lead);
      return absl::OkStatus();
    });
    if (!peek.ok()) return peek;
    if (replayed) return stored;
    if (campaign_open) {
      if (!existing) {
        fit = AskPersona(incoming);
      } else {
        v1::Lead merged = *existing;
        FillMissing(request, incoming, merged);
        if (merged.fit_pending() ||
            !SameProfile(merged.profile(), existing->profile())) {
          fit = AskPersona(merged.profile());
        }
      }
    }
  }

  return IdempotentWrite<v1::CaptureLeadResponse>(
      db_, "CaptureLead", request.request_id(),
      [&](Transaction& tx) -> absl::StatusOr<v1::CaptureLeadResponse> {
        absl::StatusOr<std::optional<v1::Campaign>> campaign =
            store_.FindCampaign(tx, *campaign_id);
        if (!campaign.ok()) return campaign.status();
        if (!campaign->has_value()) return NotFound(request.campaign());
        if ((*campaign)->state() == v1::CAMPAIGN_STATE_COMPLETED) {
          return WrongState(request.campaign(),
                            "campaign is COMPLETED and takes no more leads");
        }
        absl::StatusOr<std::optional<v1::Lead>> existing =
            store_.FindLeadByEmail(tx, *normalized);
        if (!existing.ok()) return existing.status();
        const absl::Time now = clock_.Now();
        v1::CaptureLeadResponse response;
        if (existing->has_value()) {
          v1::Lead lead = **std::move(existing);
          FillMissing(request, incoming, lead);
          AddTouch(request, now, lead);
          // A fresh answer for exactly the merged profile replaces the fit.
          ApplyFit(fit, lead);
          Stamp(now, lead);
          if (absl::Status s = store_.UpdateLead(tx, IdOf(lead.name()), lead);
              !s.ok()) {
            return s;
          }
          tx.AfterCommit([this] { lead_touches_.Increment(); });
          *response.mutable_lead() = std::move(lead);
          response.set_created(false);
          return response;
        }
        // First capture: the campaign of this touch gets the lead for good
        // (first-touch attribution); later captures only add touches.
        const std::string id = NewId(now);
        v1::Lead lead;
        lead.set_name(ResourceName("leads", id));
        lead.set_email(
            std::string(absl::StripAsciiWhitespace(request.email())));
        lead.set_normalized_email(*normalized);
        lead.set_first_name(request.first_name());
        lead.set_last_name(request.last_name());
        lead.set_company(request.company());
        *lead.mutable_profile() = incoming;
        lead.set_campaign(request.campaign());
        AddTouch(request, now, lead);
        lead.set_stage(v1::LEAD_STAGE_LEAD);
        RecordStage(lead, v1::LEAD_STAGE_LEAD, now, "CAPTURED");
        // Without an answer from persona the lead is still kept; the next
        // engagement asks again.
        lead.set_fit_pending(true);
        ApplyFit(fit, lead);
        lead.set_score(LeadScore(lead.engagement_score(), lead.fit_score()));
        *lead.mutable_create_time() = ToProtoTime(now);
        Stamp(now, lead);
        if (absl::Status s = store_.InsertLead(tx, id, lead); !s.ok()) return s;
        tx.AfterCommit([this] { leads_captured_.Increment(); });
        if (LogEnabled(LogLevel::kDebug)) {
          Log(LogLevel::kDebug, "lead_captured",
              {{"lead", lead.name()}, {"campaign", lead.campaign()}});
        }
        *response.mutable_lead() = std::move(lead);
        response.set_created(true);
        return response;
      });
}

absl::StatusOr<v1::Lead> LeadBook::GetLead(const v1::GetLeadRequest& request) {
  absl::StatusOr<std::string> id =
      ParseResourceName("name", request.name(), "leads");
  if (!id.ok()) return id.status();
  v1::Lead lead;
  absl::Status status = db_.Read([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<v1::Lead> found = LoadLead(tx, store_, *id, request.name());
    if (!found.ok()) return found.status();
    lead = *std::move(found);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return lead;
}

absl::StatusOr<v1::ListLeadsResponse> LeadBook::ListLeads(
    const v1::ListLeadsRequest& request) {
  absl::StatusOr<PageRequest> page =
      ParsePage(request.page_size(), request.page_token());
  if (!page.ok()) return page.status();
  absl::StatusOr<std::map<std::string, std::string>> filter =
      ParseFilter(request.filter(), {"stage", "campaign"});
  if (!filter.ok()) return filter.status();
  CampaignStore::LeadQuery query;
  query.after_id = page->after_key;
  query.limit = page->limit + 1;
  if (auto it = filter->find("stage"); it != filter->end()) {
    absl::StatusOr<int> stage = ParseEnumName(
        "filter", it->second, v1::LeadStage_descriptor(), "LEAD_STAGE_");
    if (!stage.ok()) return stage.status();
    query.stage = *stage;
  }
  if (auto it = filter->find("campaign"); it != filter->end()) {
    absl::StatusOr<std::string> id =
        ParseResourceName("filter", it->second, "campaigns");
    if (!id.ok()) return id.status();
    query.campaign = it->second;
  }
  std::vector<v1::Lead> rows;
  absl::Status status = db_.Read([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::vector<v1::Lead>> found = store_.ListLeads(tx, query);
    if (!found.ok()) return found.status();
    rows = *std::move(found);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  v1::ListLeadsResponse response;
  const bool more = static_cast<int>(rows.size()) > page->limit;
  if (more) rows.resize(page->limit);
  for (v1::Lead& lead : rows) *response.add_leads() = std::move(lead);
  if (more) {
    response.set_next_page_token(
        MakePageToken(IdOf(response.leads().rbegin()->name())));
  }
  return response;
}

absl::Status LeadBook::EnqueueRouteLead(Transaction& tx, const v1::Lead& lead,
                                        std::string_view reason,
                                        v1::Channel channel) {
  routing::v1::RouteLeadRequest route;
  route.set_lead(lead.name());
  routing::v1::LeadSummary& summary = *route.mutable_lead_summary();
  *summary.mutable_profile() = lead.profile();
  summary.set_score(lead.score());
  summary.set_campaign(lead.campaign());
  summary.set_persona(lead.persona());
  summary.set_mql_reason(std::string(reason));
  if (channel != v1::CHANNEL_UNSPECIFIED) {
    summary.set_campaign_channel(
        ShortEnumName(channel, v1::Channel_descriptor(), "CHANNEL_"));
  }
  // Keyed by lead: hand-offs of different leads go to routing at once.
  return outbox_.Enqueue(tx, kRoutingDestination, kRouteLeadMethod, route,
                         route.lead());
}

absl::StatusOr<v1::RecordEngagementResponse> LeadBook::RecordEngagement(
    const v1::RecordEngagementRequest& request) {
  absl::StatusOr<std::string> lead_id =
      ParseResourceName("lead", request.lead(), "leads");
  if (!lead_id.ok()) return lead_id.status();
  if (absl::Status s =
          CheckEnum("type", request.type(), v1::EngagementType_descriptor());
      !s.ok()) {
    return s;
  }
  std::optional<std::string> campaign_id;
  if (!request.campaign().empty()) {
    absl::StatusOr<std::string> id =
        ParseResourceName("campaign", request.campaign(), "campaigns");
    if (!id.ok()) return id.status();
    campaign_id = *id;
  }
  // occur_time is checked but not kept: a lead stores its score, not an
  // engagement log, and MQL times are when the handoff happened.
  if (request.has_occur_time()) {
    absl::StatusOr<absl::Time> t =
        ParseProtoTime("occur_time", request.occur_time());
    if (!t.ok()) return t.status();
  }

  // Nearly every lead has its persona fit, so the write runs at once; one
  // still waiting for it (persona was down at capture) rolls back, persona
  // is asked outside the transaction (see CaptureLead), and it runs again.
  std::optional<Fit> fit;
  std::optional<persona::v1::LeadProfile> fit_needed_for;
  const v1::EngagementType type = request.type();
  auto record =
      [&](Transaction& tx) -> absl::StatusOr<v1::RecordEngagementResponse> {
    absl::StatusOr<v1::Lead> loaded =
        LoadLead(tx, store_, *lead_id, request.lead());
    if (!loaded.ok()) return loaded.status();
    v1::Lead lead = *std::move(loaded);
    if (lead.fit_pending() && !fit_needed_for.has_value()) {
      fit_needed_for = lead.profile();
      return absl::AbortedError("the lead's persona fit is pending");
    }
    if (campaign_id) {
      absl::StatusOr<std::optional<v1::Campaign>> campaign =
          store_.FindCampaign(tx, *campaign_id);
      if (!campaign.ok()) return campaign.status();
      if (!campaign->has_value()) return NotFound(request.campaign());
    }
    if (lead.fit_pending()) ApplyFit(fit, lead);
    const int points = EngagementPoints(type);
    lead.set_engagement_score(lead.engagement_score() + points);
    lead.set_engagement_count(lead.engagement_count() + 1);
    lead.set_score(LeadScore(lead.engagement_score(), lead.fit_score()));

    // The threshold is the one of the campaign the lead is attributed to.
    int threshold = default_mql_threshold_;
    v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
    absl::StatusOr<std::optional<v1::Campaign>> own =
        store_.FindCampaign(tx, IdOf(lead.campaign()));
    if (!own.ok()) return own.status();
    if (own->has_value()) {
      threshold = MqlThreshold(**own, default_mql_threshold_);
      channel = (*own)->channel();
    }
    const absl::Time now = clock_.Now();
    const std::optional<std::string_view> reason =
        MqlReason(lead.stage(), type, lead.score(), threshold);
    if (reason) {
      lead.set_stage(v1::LEAD_STAGE_MQL);
      if (!lead.has_mql_time()) *lead.mutable_mql_time() = ToProtoTime(now);
      RecordStage(lead, v1::LEAD_STAGE_MQL, now, *reason);
      if (absl::Status s = EnqueueRouteLead(tx, lead, *reason, channel);
          !s.ok()) {
        return s;
      }
    }
    Stamp(now, lead);
    if (absl::Status s = store_.UpdateLead(tx, *lead_id, lead); !s.ok()) {
      return s;
    }
    prometheus::Counter* mqls = nullptr;
    if (reason) {
      mqls = *reason == kMqlReasonDemo ? &mqls_by_demo_ : &mqls_by_score_;
      if (LogEnabled(LogLevel::kDebug)) {
        Log(LogLevel::kDebug, "lead_mql",
            {{"lead", lead.name()}, {"reason", std::string(*reason)}});
      }
    }
    tx.AfterCommit([this, type, mqls] {
      engagements_[type]->Increment();
      if (mqls != nullptr) {
        mqls->Increment();
        stage_changes_[v1::LEAD_STAGE_MQL]->Increment();
      }
    });
    v1::RecordEngagementResponse response;
    *response.mutable_lead() = std::move(lead);
    response.set_points_added(points);
    response.set_became_mql(reason.has_value());
    return response;
  };
  absl::StatusOr<v1::RecordEngagementResponse> recorded =
      IdempotentWrite<v1::RecordEngagementResponse>(
          db_, "RecordEngagement", request.request_id(), record);
  if (recorded.ok() || !fit_needed_for.has_value()) return recorded;
  fit = AskPersona(*fit_needed_for);
  return IdempotentWrite<v1::RecordEngagementResponse>(
      db_, "RecordEngagement", request.request_id(), record);
}

absl::StatusOr<v1::Lead> LeadBook::UpdateLeadStage(
    const v1::UpdateLeadStageRequest& request) {
  if (absl::Status s = ValidateStageRequest(request); !s.ok()) return s;
  const std::string lead_id = IdOf(request.lead());
  std::optional<absl::Time> event_time;
  if (request.has_event_time()) {
    event_time = FromProtoTime(request.event_time());
  }
  return IdempotentWrite<v1::Lead>(
      db_, "UpdateLeadStage", request.request_id(),
      [&](Transaction& tx) -> absl::StatusOr<v1::Lead> {
        absl::StatusOr<v1::Lead> loaded =
            LoadLead(tx, store_, lead_id, request.lead());
        if (!loaded.ok()) return loaded.status();
        v1::Lead lead = *std::move(loaded);
        absl::StatusOr<StagePlan> plan = PlanStageChange(lead, request);
        if (!plan.ok()) return plan.status();
        if (plan->action == StagePlan::Action::kNoOp) return lead;
        const absl::Time now = clock_.Now();
        ApplyStageChange(*plan, request, event_time.value_or(now), lead);
        Stamp(now, lead);
        if (absl::Status s = store_.UpdateLead(tx, lead_id, lead); !s.ok()) {
          return s;
        }
        if (plan->action == StagePlan::Action::kApply) {
          prometheus::Counter* counter = stage_changes_[plan->to];
          tx.AfterCommit([counter] { counter->Increment(); });
          if (LogEnabled(LogLevel::kDebug)) {
            Log(LogLevel::kDebug, "lead_stage_changed",
                {{"lead", lead.name()},
                 {"stage", ShortEnumName(plan->to, v1::LeadStage_descriptor(),
                                         "LEAD_STAGE_")}});
          }
        }
        return lead;
      });
}

}  // namespace handoff::campaign
