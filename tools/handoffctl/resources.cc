#include "tools/handoffctl/resources.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/proto_time.h"
#include "tools/handoffctl/report.h"

namespace handoff::ctl {
namespace {

namespace pb = google::protobuf;
using campaign::v1::CampaignService;
using deal::v1::DealService;
using persona::v1::PersonaService;
using routing::v1::LeadRoutingService;

struct PageOptions {
  int page_size = 0;
  std::string page_token;
  std::string filter;
  bool all = false;
};

void AddPageOptions(CLI::App* cmd, PageOptions& o) {
  cmd->add_option("--page-size", o.page_size,
                  "rows per page (0: service default)");
  cmd->add_option("--page-token", o.page_token,
                  "continue from a previous page");
  cmd->add_option("--filter", o.filter,
                  "raw filter, AND-joined with the options above");
  cmd->add_flag("--all", o.all, "follow next_page_token to the end");
}

// `key=value` for each non-empty value, plus the raw filter, AND-joined.
std::string JoinFilter(
    const std::vector<std::pair<std::string, std::string>>& terms,
    const std::string& raw) {
  std::vector<std::string> parts;
  for (const auto& [key, value] : terms) {
    if (!value.empty()) parts.push_back(absl::StrCat(key, "=", value));
  }
  if (!raw.empty()) parts.push_back(raw);
  return absl::StrJoin(parts, " AND ");
}

// Runs a List method (all pages with --all) and prints a table or JSON.
template <typename Client, typename Method, typename Request, typename Items,
          typename Row>
absl::Status RunList(const CommandContext& ctx, Client& client, Method method,
                     Request request, const PageOptions& page,
                     const std::string& filter, Table table, Items items,
                     Row row) {
  request.set_page_size(page.page_size);
  request.set_page_token(page.page_token);
  request.set_filter(filter);
  auto first = client.Call(method, request);
  if (!first.ok()) return first.status();
  auto merged = *first;
  std::string next = first->next_page_token();
  while (page.all && !next.empty()) {
    request.set_page_token(next);
    auto more = client.Call(method, request);
    if (!more.ok()) return more.status();
    next = more->next_page_token();
    merged.MergeFrom(*more);
  }
  merged.set_next_page_token(next);
  if (ctx.json) {
    std::cout << RenderJson(merged);
    return absl::OkStatus();
  }
  for (const auto& item : items(merged)) table.AddRow(row(item));
  std::cout << table.Render();
  if (!next.empty()) std::cout << "(more: --page-token " << next << ")\n";
  return absl::OkStatus();
}

// Filter value for an enum option: the short name, validated locally so a
// typo is reported before any call.
absl::StatusOr<std::string> EnumFilter(std::string_view option,
                                       const std::string& text,
                                       const pb::EnumDescriptor* type) {
  if (text.empty()) return std::string();
  auto value = ParseEnumOption(option, text, type);
  if (!value.ok()) return value.status();
  return EnumShortName(type, *value);
}

// The setters below touch the field only when the option was given, so an
// absent option leaves a message field unset rather than zero.
template <typename MutableField>
absl::Status SetTime(std::string_view option, const std::string& text,
                     MutableField field) {
  if (text.empty()) return absl::OkStatus();
  auto t = ParseTimeOption(option, text, absl::Now());
  if (!t.ok()) return t.status();
  *field() = ToProtoTime(*t);
  return absl::OkStatus();
}

template <typename MutableField>
absl::Status SetMoney(std::string_view option, const std::string& text,
                      const std::string& currency, MutableField field) {
  if (text.empty()) return absl::OkStatus();
  auto money = ParseMoney(option, text, currency);
  if (!money.ok()) return money.status();
  *field() = *money;
  return absl::OkStatus();
}

template <typename Setter>
absl::Status SetEnum(std::string_view option, const std::string& text,
                     const pb::EnumDescriptor* type, Setter set) {
  if (text.empty()) return absl::OkStatus();
  auto value = ParseEnumOption(option, text, type);
  if (!value.ok()) return value.status();
  set(*value);
  return absl::OkStatus();
}

#define RETURN_IF_ERROR(expr)          \
  do {                                 \
    absl::Status status_ = (expr);     \
    if (!status_.ok()) return status_; \
  } while (false)

std::string Short(const pb::EnumDescriptor* type, int value) {
  return EnumShortName(type, value);
}

// ---- persona -------------------------------------------------------------

struct PersonaCreateOptions {
  std::string display_name, description, value_proposition, request_id;
  std::vector<std::string> industries, countries, title_keywords, seniorities,
      pain_points, goals;
  int min_employees = 0, max_employees = 0;
};

absl::Status PersonaCreate(CommandContext& ctx, const PersonaCreateOptions& o) {
  persona::v1::CreatePersonaRequest req;
  req.set_request_id(RequestIdOr(o.request_id));
  auto* p = req.mutable_persona();
  p->set_display_name(o.display_name);
  p->set_description(o.description);
  p->set_value_proposition(o.value_proposition);
  auto* c = p->mutable_criteria();
  for (const auto& s : o.industries) c->add_industries(s);
  for (const auto& s : o.countries) c->add_countries(s);
  for (const auto& s : o.title_keywords) c->add_title_keywords(s);
  for (const auto& s : o.seniorities) {
    auto v =
        ParseEnumOption("--seniority", s, persona::v1::Seniority_descriptor());
    if (!v.ok()) return v.status();
    c->add_seniorities(static_cast<persona::v1::Seniority>(*v));
  }
  c->set_min_employees(o.min_employees);
  c->set_max_employees(o.max_employees);
  for (const auto& s : o.pain_points) p->add_pain_points(s);
  for (const auto& s : o.goals) p->add_goals(s);
  return PrintResult(ctx, ctx.connections->persona().Call(
                              &PersonaService::Stub::CreatePersona, req));
}

void AddPersonaCommands(CLI::App& app, CommandContext& ctx) {
  CLI::App* group = app.add_subcommand("persona", "buyer personas");
  group->require_subcommand(1);
  {
    auto o = std::make_shared<PersonaCreateOptions>();
    auto* cmd = AddLeafCommand(*group, "create", "create a persona", ctx,
                               [&ctx, o] { return PersonaCreate(ctx, *o); });
    cmd->add_option("--display-name", o->display_name)->required();
    cmd->add_option("--description", o->description);
    cmd->add_option("--industry", o->industries, "repeatable");
    cmd->add_option("--min-employees", o->min_employees);
    cmd->add_option("--max-employees", o->max_employees);
    cmd->add_option("--country", o->countries,
                    "ISO 3166-1 alpha-2; repeatable");
    cmd->add_option("--title-keyword", o->title_keywords, "repeatable");
    cmd->add_option("--seniority", o->seniorities, "e.g. DIRECTOR; repeatable");
    cmd->add_option("--pain-point", o->pain_points, "repeatable");
    cmd->add_option("--goal", o->goals, "repeatable");
    cmd->add_option("--value-proposition", o->value_proposition);
    cmd->add_option("--request-id", o->request_id, "idempotency key");
  }
  {
    auto name = std::make_shared<std::string>();
    auto* cmd =
        AddLeafCommand(*group, "get", "show a persona", ctx, [&ctx, name] {
          persona::v1::GetPersonaRequest req;
          req.set_name(QualifyName("personas", *name));
          return PrintResult(ctx, ctx.connections->persona().Call(
                                      &PersonaService::Stub::GetPersona, req));
        });
    cmd->add_option("name", *name, "personas/{id} or id")->required();
  }
  {
    struct Options {
      PageOptions page;
      std::string industry;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = AddLeafCommand(*group, "list", "list personas", ctx, [&ctx, o] {
      return RunList(
          ctx, ctx.connections->persona(), &PersonaService::Stub::ListPersonas,
          persona::v1::ListPersonasRequest(), o->page,
          JoinFilter({{"industry", o->industry}}, o->page.filter),
          Table({"NAME", "DISPLAY NAME", "INDUSTRIES", "COUNTRIES",
                 "SENIORITIES"}),
          [](const auto& r) -> const auto& { return r.personas(); },
          [](const persona::v1::Persona& p) {
            std::vector<std::string> seniorities;
            for (int s : p.criteria().seniorities()) {
              seniorities.push_back(
                  Short(persona::v1::Seniority_descriptor(), s));
            }
            return std::vector<std::string>{
                p.name(), p.display_name(),
                absl::StrJoin(p.criteria().industries(), ","),
                absl::StrJoin(p.criteria().countries(), ","),
                absl::StrJoin(seniorities, ",")};
          });
    });
    cmd->add_option("--industry", o->industry);
    AddPageOptions(cmd, o->page);
  }
}

// ---- campaign ------------------------------------------------------------

struct CampaignCreateOptions {
  std::string display_name, channel, state, budget, spend,
      currency = "USD", start, end, request_id;
  std::vector<std::string> personas;
  int mql_threshold = 0;
};

absl::Status CampaignCreate(CommandContext& ctx,
                            const CampaignCreateOptions& o) {
  campaign::v1::CreateCampaignRequest req;
  req.set_request_id(RequestIdOr(o.request_id));
  auto* c = req.mutable_campaign();
  c->set_display_name(o.display_name);
  auto channel = ParseEnumOption("--channel", o.channel,
                                 campaign::v1::Channel_descriptor());
  if (!channel.ok()) return channel.status();
  c->set_channel(static_cast<campaign::v1::Channel>(*channel));
  if (!o.state.empty()) {
    auto state = ParseEnumOption("--state", o.state,
                                 campaign::v1::CampaignState_descriptor());
    if (!state.ok()) return state.status();
    c->set_state(static_cast<campaign::v1::CampaignState>(*state));
  }
  for (const auto& p : o.personas)
    c->add_target_personas(QualifyName("personas", p));
  RETURN_IF_ERROR(SetMoney("--budget", o.budget, o.currency,
                           [&] { return c->mutable_budget(); }));
  RETURN_IF_ERROR(SetMoney("--spend", o.spend, o.currency,
                           [&] { return c->mutable_spend(); }));
  RETURN_IF_ERROR(
      SetTime("--start", o.start, [&] { return c->mutable_start_time(); }));
  RETURN_IF_ERROR(
      SetTime("--end", o.end, [&] { return c->mutable_end_time(); }));
  c->set_mql_threshold(o.mql_threshold);
  return PrintResult(ctx, ctx.connections->campaign().Call(
                              &CampaignService::Stub::CreateCampaign, req));
}

absl::Status CampaignReports(CommandContext& ctx,
                             const std::vector<std::string>& names) {
  std::vector<std::string> campaigns;
  for (const auto& n : names) campaigns.push_back(QualifyName("campaigns", n));
  if (campaigns.empty()) {
    campaign::v1::ListCampaignsRequest req;
    req.set_page_size(1000);
    do {
      auto page = ctx.connections->campaign().Call(
          &CampaignService::Stub::ListCampaigns, req);
      if (!page.ok()) return page.status();
      for (const auto& c : page->campaigns()) campaigns.push_back(c.name());
      req.set_page_token(page->next_page_token());
    } while (!req.page_token().empty());
  }
  std::vector<campaign::v1::CampaignReport> reports;
  for (const auto& name : campaigns) {
    campaign::v1::GetCampaignReportRequest req;
    req.set_campaign(name);
    auto report = ctx.connections->campaign().Call(
        &CampaignService::Stub::GetCampaignReport, req);
    if (!report.ok()) return report.status();
    if (ctx.json) {
      std::cout << RenderJson(*report);
    } else {
      std::cout << FormatCampaignFunnel(*report) << "\n";
    }
    reports.push_back(*report);
  }
  if (!ctx.json && reports.size() > 1)
    std::cout << FormatCampaignTable(reports);
  return absl::OkStatus();
}

void AddCampaignCommands(CLI::App& app, CommandContext& ctx) {
  CLI::App* group =
      app.add_subcommand("campaign", "campaigns and their funnel reports");
  group->require_subcommand(1);
  {
    auto o = std::make_shared<CampaignCreateOptions>();
    auto* cmd = AddLeafCommand(*group, "create", "create a campaign", ctx,
                               [&ctx, o] { return CampaignCreate(ctx, *o); });
    cmd->add_option("--display-name", o->display_name)->required();
    cmd->add_option("--channel", o->channel, "e.g. WEBINAR, PAID_SEARCH, EVENT")
        ->required();
    cmd->add_option("--state", o->state, "default ACTIVE");
    cmd->add_option("--target-persona", o->personas,
                    "personas/{id}; repeatable");
    cmd->add_option("--budget", o->budget, "amount, e.g. 20000 or 20,000.00");
    cmd->add_option("--spend", o->spend, "amount spent so far");
    cmd->add_option("--currency", o->currency, "ISO 4217 code")
        ->capture_default_str();
    cmd->add_option("--start", o->start, "2026-03-01, RFC 3339 or +7d/-30d");
    cmd->add_option("--end", o->end, "2026-06-30, RFC 3339 or +90d");
    cmd->add_option("--mql-threshold", o->mql_threshold, "0: service default");
    cmd->add_option("--request-id", o->request_id, "idempotency key");
  }
  {
    auto name = std::make_shared<std::string>();
    auto* cmd =
        AddLeafCommand(*group, "get", "show a campaign", ctx, [&ctx, name] {
          campaign::v1::GetCampaignRequest req;
          req.set_name(QualifyName("campaigns", *name));
          return PrintResult(ctx,
                             ctx.connections->campaign().Call(
                                 &CampaignService::Stub::GetCampaign, req));
        });
    cmd->add_option("name", *name, "campaigns/{id} or id")->required();
  }
  {
    struct Options {
      PageOptions page;
      std::string state, channel;
    };
    auto o = std::make_shared<Options>();
    auto* cmd =
        AddLeafCommand(*group, "list", "list campaigns", ctx, [&ctx, o] {
          auto state = EnumFilter("--state", o->state,
                                  campaign::v1::CampaignState_descriptor());
          if (!state.ok()) return state.status();
          auto channel = EnumFilter("--channel", o->channel,
                                    campaign::v1::Channel_descriptor());
          if (!channel.ok()) return channel.status();
          return RunList(
              ctx, ctx.connections->campaign(),
              &CampaignService::Stub::ListCampaigns,
              campaign::v1::ListCampaignsRequest(), o->page,
              JoinFilter({{"state", *state}, {"channel", *channel}},
                         o->page.filter),
              Table({"NAME", "CHANNEL", "STATE", "SPEND", "BUDGET",
                     "DISPLAY NAME"}),
              [](const auto& r) -> const auto& { return r.campaigns(); },
              [](const campaign::v1::Campaign& c) {
                return std::vector<std::string>{
                    c.name(),
                    Short(campaign::v1::Channel_descriptor(), c.channel()),
                    Short(campaign::v1::CampaignState_descriptor(), c.state()),
                    FormatMoney(c.spend()),
                    FormatMoney(c.budget()),
                    c.display_name()};
              });
        });
    cmd->add_option("--state", o->state);
    cmd->add_option("--channel", o->channel);
    AddPageOptions(cmd, o->page);
  }
  {
    auto names = std::make_shared<std::vector<std::string>>();
    auto* cmd =
        AddLeafCommand(*group, "report", "funnel, spend, revenue and ROI", ctx,
                       [&ctx, names] { return CampaignReports(ctx, *names); });
    cmd->add_option("name", *names,
                    "campaigns/{id} or id; none: every campaign");
  }
}

// ---- lead ----------------------------------------------------------------

struct LeadCaptureOptions {
  std::string campaign, email, first_name, last_name, company, industry,
      country, title, seniority, source, request_id;
  int employees = 0;
};

absl::Status LeadCapture(CommandContext& ctx, const LeadCaptureOptions& o) {
  campaign::v1::CaptureLeadRequest req;
  req.set_request_id(RequestIdOr(o.request_id));
  req.set_campaign(QualifyName("campaigns", o.campaign));
  req.set_email(o.email);
  req.set_first_name(o.first_name);
  req.set_last_name(o.last_name);
  req.set_company(o.company);
  req.set_source(o.source);
  auto* p = req.mutable_profile();
  p->set_industry(o.industry);
  p->set_employee_count(o.employees);
  p->set_country(o.country);
  p->set_job_title(o.title);
  if (!o.seniority.empty()) {
    auto v = ParseEnumOption("--seniority", o.seniority,
                             persona::v1::Seniority_descriptor());
    if (!v.ok()) return v.status();
    p->set_seniority(static_cast<persona::v1::Seniority>(*v));
  }
  return PrintResult(ctx, ctx.connections->campaign().Call(
                              &CampaignService::Stub::CaptureLead, req));
}

struct LeadStageOptions {
  std::string lead, event, reason, note, rep, deal, amount, currency = "USD",
                                                            request_id;
};

absl::Status LeadStage(CommandContext& ctx, const LeadStageOptions& o) {
  campaign::v1::UpdateLeadStageRequest req;
  req.set_request_id(RequestIdOr(o.request_id));
  req.set_lead(QualifyName("leads", o.lead));
  auto event =
      ParseEnumOption("--event", o.event, campaign::v1::LeadEvent_descriptor());
  if (!event.ok()) return event.status();
  req.set_event(static_cast<campaign::v1::LeadEvent>(*event));
  req.set_reason(o.reason);
  req.set_note(o.note);
  if (!o.rep.empty()) req.set_rep(QualifyName("reps", o.rep));
  if (!o.deal.empty()) req.set_deal(QualifyName("deals", o.deal));
  RETURN_IF_ERROR(SetMoney("--amount", o.amount, o.currency,
                           [&] { return req.mutable_amount(); }));
  return PrintResult(ctx, ctx.connections->campaign().Call(
                              &CampaignService::Stub::UpdateLeadStage, req));
}

void AddLeadCommands(CLI::App& app, CommandContext& ctx) {
  CLI::App* group =
      app.add_subcommand("lead", "leads: capture, engagement, lifecycle");
  group->require_subcommand(1);
  {
    auto o = std::make_shared<LeadCaptureOptions>();
    auto* cmd = AddLeafCommand(*group, "capture",
                               "capture a lead (deduplicated by email)", ctx,
                               [&ctx, o] { return LeadCapture(ctx, *o); });
    cmd->add_option("--campaign", o->campaign,
                    "campaigns/{id} the lead came through")
        ->required();
    cmd->add_option("--email", o->email)->required();
    cmd->add_option("--first-name", o->first_name);
    cmd->add_option("--last-name", o->last_name);
    cmd->add_option("--company", o->company);
    cmd->add_option("--industry", o->industry);
    cmd->add_option("--employees", o->employees, "company size");
    cmd->add_option("--country", o->country, "ISO 3166-1 alpha-2");
    cmd->add_option("--title", o->title, "job title");
    cmd->add_option("--seniority", o->seniority, "e.g. MANAGER");
    cmd->add_option("--source", o->source, "e.g. landing-page/pricing");
    cmd->add_option("--request-id", o->request_id, "idempotency key");
  }
  {
    auto name = std::make_shared<std::string>();
    auto* cmd = AddLeafCommand(*group, "get", "show a lead", ctx, [&ctx, name] {
      campaign::v1::GetLeadRequest req;
      req.set_name(QualifyName("leads", *name));
      return PrintResult(ctx, ctx.connections->campaign().Call(
                                  &CampaignService::Stub::GetLead, req));
    });
    cmd->add_option("name", *name, "leads/{id} or id")->required();
  }
  {
    struct Options {
      PageOptions page;
      std::string stage, campaign;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = AddLeafCommand(*group, "list", "list leads", ctx, [&ctx, o] {
      auto stage =
          EnumFilter("--stage", o->stage, campaign::v1::LeadStage_descriptor());
      if (!stage.ok()) return stage.status();
      std::string campaign =
          o->campaign.empty() ? "" : QualifyName("campaigns", o->campaign);
      return RunList(
          ctx, ctx.connections->campaign(), &CampaignService::Stub::ListLeads,
          campaign::v1::ListLeadsRequest(), o->page,
          JoinFilter({{"stage", *stage}, {"campaign", campaign}},
                     o->page.filter),
          Table({"NAME", "STAGE", "SCORE", "EMAIL", "COMPANY", "CAMPAIGN"}),
          [](const auto& r) -> const auto& { return r.leads(); },
          [](const campaign::v1::Lead& l) {
            return std::vector<std::string>{
                l.name(),
                Short(campaign::v1::LeadStage_descriptor(), l.stage()),
                absl::StrCat(l.score()),
                l.email(),
                l.company(),
                l.campaign()};
          });
    });
    cmd->add_option("--stage", o->stage, "e.g. MQL");
    cmd->add_option("--campaign", o->campaign,
                    "campaigns/{id} of the first touch");
    AddPageOptions(cmd, o->page);
  }
  {
    struct Options {
      std::string lead, type, campaign, request_id;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = AddLeafCommand(
        *group, "engage", "record an engagement (scores the lead)", ctx,
        [&ctx, o]() -> absl::Status {
          campaign::v1::RecordEngagementRequest req;
          req.set_request_id(RequestIdOr(o->request_id));
          req.set_lead(QualifyName("leads", o->lead));
          auto type = ParseEnumOption(
              "--type", o->type, campaign::v1::EngagementType_descriptor());
          if (!type.ok()) return type.status();
          req.set_type(static_cast<campaign::v1::EngagementType>(*type));
          if (!o->campaign.empty())
            req.set_campaign(QualifyName("campaigns", o->campaign));
          return PrintResult(
              ctx, ctx.connections->campaign().Call(
                       &CampaignService::Stub::RecordEngagement, req));
        });
    cmd->add_option("name", o->lead, "leads/{id} or id")->required();
    cmd->add_option("--type", o->type, "e.g. PRICING_PAGE_VIEW, DEMO_REQUEST")
        ->required();
    cmd->add_option("--campaign", o->campaign, "campaign that drove it");
    cmd->add_option("--request-id", o->request_id, "idempotency key");
  }
  {
    auto o = std::make_shared<LeadStageOptions>();
    auto* cmd = AddLeafCommand(*group, "stage", "send sales feedback on a lead",
                               ctx, [&ctx, o] { return LeadStage(ctx, *o); });
    cmd->add_option("name", o->lead, "leads/{id} or id")->required();
    cmd->add_option("--event", o->event,
                    "ACCEPTED, REJECTED, RECYCLED, CONVERTED, WON, LOST")
        ->required();
    cmd->add_option("--reason", o->reason, "reason code, e.g. NOT_A_FIT");
    cmd->add_option("--note", o->note);
    cmd->add_option("--rep", o->rep, "reps/{id}, for ACCEPTED");
    cmd->add_option("--deal", o->deal, "deals/{id}, for CONVERTED, WON, LOST");
    cmd->add_option("--amount", o->amount, "won amount");
    cmd->add_option("--currency", o->currency)->capture_default_str();
    cmd->add_option("--request-id", o->request_id, "idempotency key");
  }
}

// ---- rep -----------------------------------------------------------------

struct RepOptions {
  std::string name, display_name, email, team, status, etag, request_id;
  int capacity = 0;
};

absl::Status RepUpdate(CommandContext& ctx, const CLI::App& cmd,
                       const RepOptions& o) {
  routing::v1::UpdateRepRequest req;
  auto* rep = req.mutable_rep();
  rep->set_name(QualifyName("reps", o.name));
  rep->set_etag(o.etag);
  auto* mask = req.mutable_update_mask();
  if (cmd.count("--display-name") > 0) {
    rep->set_display_name(o.display_name);
    mask->add_paths("display_name");
  }
  if (cmd.count("--email") > 0) {
    rep->set_email(o.email);
    mask->add_paths("email");
  }
  if (cmd.count("--team") > 0) {
    rep->set_team(o.team);
    mask->add_paths("team");
  }
  if (cmd.count("--capacity") > 0) {
    rep->set_capacity(o.capacity);
    mask->add_paths("capacity");
  }
  if (cmd.count("--status") > 0) {
    RETURN_IF_ERROR(SetEnum(
        "--status", o.status, routing::v1::RepStatus_descriptor(), [&](int v) {
          rep->set_status(static_cast<routing::v1::RepStatus>(v));
        }));
    mask->add_paths("status");
  }
  if (mask->paths_size() == 0) {
    return absl::InvalidArgumentError(
        "update_mask: give at least one of --display-name, --email, --team, "
        "--capacity, "
        "--status");
  }
  return PrintResult(ctx, ctx.connections->routing().Call(
                              &LeadRoutingService::Stub::UpdateRep, req));
}

struct RepOutOfOfficeOptions {
  std::string name, from, to;
  bool clear = false;
};

// SetOutOfOffice replaces the whole list, so adding one period reads the
// rep first. Two operators adding periods at once can lose one: the request
// carries no etag.
absl::Status RepOutOfOffice(CommandContext& ctx,
                            const RepOutOfOfficeOptions& o) {
  bool add = !o.from.empty() || !o.to.empty();
  if (add && (o.from.empty() || o.to.empty()))
    return absl::InvalidArgumentError(
        absl::StrCat(o.from.empty() ? "--from" : "--to", ": required with ",
                     o.from.empty() ? "--to" : "--from"));
  if (!add && !o.clear) {
    return absl::InvalidArgumentError(
        "--from, --to: give the period to add (or --clear)");
  }
  routing::v1::TimeRange period;
  if (add) {
    absl::Time now = absl::Now();
    auto from = ParseTimeOption("--from", o.from, now);
    if (!from.ok()) return from.status();
    auto to = ParseTimeOption("--to", o.to, now);
    if (!to.ok()) return to.status();
    if (*to <= *from)
      return absl::InvalidArgumentError("--to: must be after --from");
    *period.mutable_start_time() = ToProtoTime(*from);
    *period.mutable_end_time() = ToProtoTime(*to);
  }
  routing::v1::SetOutOfOfficeRequest req;
  req.set_name(QualifyName("reps", o.name));
  if (!o.clear) {
    routing::v1::GetRepRequest get;
    get.set_name(req.name());
    auto rep =
        ctx.connections->routing().Call(&LeadRoutingService::Stub::GetRep, get);
    if (!rep.ok()) return rep.status();
    *req.mutable_out_of_office() = rep->out_of_office();
  }
  if (add) *req.add_out_of_office() = period;
  return PrintResult(ctx, ctx.connections->routing().Call(
                              &LeadRoutingService::Stub::SetOutOfOffice, req));
}

void AddRepCommands(CLI::App& app, CommandContext& ctx) {
  CLI::App* group = app.add_subcommand("rep", "sales reps");
  group->require_subcommand(1);
  {
    auto o = std::make_shared<RepOptions>();
    o->capacity = 20;
    auto* cmd = AddLeafCommand(
        *group, "create", "create a rep", ctx, [&ctx, o]() -> absl::Status {
          routing::v1::CreateRepRequest req;
          req.set_request_id(RequestIdOr(o->request_id));
          auto* rep = req.mutable_rep();
          rep->set_display_name(o->display_name);
          rep->set_email(o->email);
          rep->set_team(o->team);
          rep->set_capacity(o->capacity);
          RETURN_IF_ERROR(
              SetEnum("--status", o->status,
                      routing::v1::RepStatus_descriptor(), [&](int v) {
                        rep->set_status(static_cast<routing::v1::RepStatus>(v));
                      }));
          return PrintResult(ctx,
                             ctx.connections->routing().Call(
                                 &LeadRoutingService::Stub::CreateRep, req));
        });
    cmd->add_option("--display-name", o->display_name)->required();
    cmd->add_option("--email", o->email);
    cmd->add_option("--team", o->team, "e.g. emea-smb")->required();
    cmd->add_option("--capacity", o->capacity, "most open assignments at once")
        ->capture_default_str();
    cmd->add_option("--status", o->status, "AVAILABLE (default) or AWAY");
    cmd->add_option("--request-id", o->request_id, "idempotency key");
  }
  {
    auto name = std::make_shared<std::string>();
    auto* cmd = AddLeafCommand(*group, "get", "show a rep", ctx, [&ctx, name] {
      routing::v1::GetRepRequest req;
      req.set_name(QualifyName("reps", *name));
      return PrintResult(ctx, ctx.connections->routing().Call(
                                  &LeadRoutingService::Stub::GetRep, req));
    });
    cmd->add_option("name", *name, "reps/{id} or id")->required();
  }
  {
    struct Options {
      PageOptions page;
      std::string team, status;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = AddLeafCommand(*group, "list", "list reps", ctx, [&ctx, o] {
      auto status = EnumFilter("--status", o->status,
                               routing::v1::RepStatus_descriptor());
      if (!status.ok()) return status.status();
      return RunList(
          ctx, ctx.connections->routing(), &LeadRoutingService::Stub::ListReps,
          routing::v1::ListRepsRequest(), o->page,
          JoinFilter({{"team", o->team}, {"status", *status}}, o->page.filter),
          Table({"NAME", "TEAM", "STATUS", "OPEN/CAPACITY", "DISPLAY NAME"}),
          [](const auto& r) -> const auto& { return r.reps(); },
          [](const routing::v1::Rep& r) {
            return std::vector<std::string>{
                r.name(), r.team(),
                Short(routing::v1::RepStatus_descriptor(), r.status()),
                absl::StrCat(r.open_assignments(), "/", r.capacity()),
                r.display_name()};
          });
    });
    cmd->add_option("--team", o->team);
    cmd->add_option("--status", o->status, "AVAILABLE or AWAY");
    AddPageOptions(cmd, o->page);
  }
  {
    auto o = std::make_shared<RepOptions>();
    // The callback needs its own command to see which options were given.
    auto self = std::make_shared<CLI::App*>(nullptr);
    auto* cmd = AddLeafCommand(
        *group, "update", "change a rep (only the options given)", ctx,
        [&ctx, o, self] { return RepUpdate(ctx, **self, *o); });
    *self = cmd;
    cmd->add_option("name", o->name, "reps/{id} or id")->required();
    cmd->add_option("--display-name", o->display_name);
    cmd->add_option("--email", o->email);
    cmd->add_option("--team", o->team);
    cmd->add_option("--capacity", o->capacity);
    cmd->add_option("--status", o->status, "AVAILABLE or AWAY");
    cmd->add_option("--etag", o->etag,
                    "fail with ABORTED if the rep changed since");
  }
  {
    struct Options {
      std::string name, status;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = AddLeafCommand(
        *group, "status", "mark a rep available or away", ctx,
        [&ctx, o]() -> absl::Status {
          routing::v1::SetRepStatusRequest req;
          req.set_name(QualifyName("reps", o->name));
          RETURN_IF_ERROR(
              SetEnum("status", o->status, routing::v1::RepStatus_descriptor(),
                      [&](int v) {
                        req.set_status(static_cast<routing::v1::RepStatus>(v));
                      }));
          return PrintResult(ctx,
                             ctx.connections->routing().Call(
                                 &LeadRoutingService::Stub::SetRepStatus, req));
        });
    cmd->add_option("name", o->name, "reps/{id} or id")->required();
    cmd->add_option("status", o->status,
                    "available (takes queued leads at once) or away")
        ->required();
  }
  {
    auto o = std::make_shared<RepOutOfOfficeOptions>();
    auto* cmd = AddLeafCommand(
        *group, "ooo",
        "add an out-of-office period to a rep's (or --clear them)", ctx,
        [&ctx, o]() -> absl::Status { return RepOutOfOffice(ctx, *o); });
    cmd->add_option("name", o->name, "reps/{id} or id")->required();
    cmd->add_option("--from", o->from, "start: 2026-03-31, RFC 3339 or +1d");
    cmd->add_option("--to", o->to, "end (exclusive), as --from");
    cmd->add_flag("--clear", o->clear,
                  "drop the existing periods (with --from/--to: keep only "
                  "the new one)");
  }
  {
    auto name = std::make_shared<std::string>();
    auto* cmd = AddLeafCommand(
        *group, "delete", "delete a rep without open assignments", ctx,
        [&ctx, name]() -> absl::Status {
          routing::v1::DeleteRepRequest req;
          req.set_name(QualifyName("reps", *name));
          auto done = ctx.connections->routing().Call(
              &LeadRoutingService::Stub::DeleteRep, req);
          if (!done.ok()) return done.status();
          std::cout << (ctx.json ? RenderJson(*done)
                                 : absl::StrCat("deleted ", req.name(), "\n"));
          return absl::OkStatus();
        });
    cmd->add_option("name", *name, "reps/{id} or id")->required();
  }
}

// ---- assignment ----------------------------------------------------------

// The offered rep, so an operator can act for a rep without looking it up.
absl::StatusOr<std::string> RepOrOffered(CommandContext& ctx,
                                         const std::string& name,
                                         const std::string& rep) {
  if (!rep.empty()) return QualifyName("reps", rep);
  routing::v1::GetAssignmentRequest req;
  req.set_name(name);
  auto a = ctx.connections->routing().Call(
      &LeadRoutingService::Stub::GetAssignment, req);
  if (!a.ok()) return a.status();
  return a->rep();
}

// A command on one assignment by its rep (accept, touch): the assignment's
// name, and --rep defaulting to the rep it was offered to.
template <typename Request, typename Method>
void AddRepAnswerCommand(CLI::App& group, CommandContext& ctx,
                         const std::string& name, const std::string& help,
                         Method method) {
  struct Options {
    std::string name, rep;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = AddLeafCommand(
      group, name, help, ctx, [&ctx, o, method]() -> absl::Status {
        Request req;
        req.set_name(QualifyName("assignments", o->name));
        auto rep = RepOrOffered(ctx, req.name(), o->rep);
        if (!rep.ok()) return rep.status();
        req.set_rep(*rep);
        return PrintResult(ctx, ctx.connections->routing().Call(method, req));
      });
  cmd->add_option("name", o->name, "assignments/{id} or id")->required();
  cmd->add_option("--rep", o->rep,
                  "reps/{id} the assignment is with; default: its rep");
}

void AddAssignmentCommands(CLI::App& app, CommandContext& ctx) {
  CLI::App* group =
      app.add_subcommand("assignment", "offers of leads to reps and their SLA");
  group->require_subcommand(1);
  {
    auto name = std::make_shared<std::string>();
    auto* cmd =
        AddLeafCommand(*group, "get", "show an assignment", ctx, [&ctx, name] {
          routing::v1::GetAssignmentRequest req;
          req.set_name(QualifyName("assignments", *name));
          return PrintResult(
              ctx, ctx.connections->routing().Call(
                       &LeadRoutingService::Stub::GetAssignment, req));
        });
    cmd->add_option("name", *name, "assignments/{id} or id")->required();
  }
  {
    struct Options {
      PageOptions page;
      std::string rep, lead, state;
    };
    auto o = std::make_shared<Options>();
    auto* cmd =
        AddLeafCommand(*group, "list", "list assignments", ctx, [&ctx, o] {
          auto state = EnumFilter("--state", o->state,
                                  routing::v1::AssignmentState_descriptor());
          if (!state.ok()) return state.status();
          std::string rep = o->rep.empty() ? "" : QualifyName("reps", o->rep);
          std::string lead =
              o->lead.empty() ? "" : QualifyName("leads", o->lead);
          return RunList(
              ctx, ctx.connections->routing(),
              &LeadRoutingService::Stub::ListAssignments,
              routing::v1::ListAssignmentsRequest(), o->page,
              JoinFilter({{"rep", rep}, {"lead", lead}, {"state", *state}},
                         o->page.filter),
              Table({"NAME", "STATE", "ATTEMPT", "LEAD", "REP", "ACCEPT DUE"}),
              [](const auto& r) -> const auto& { return r.assignments(); },
              [](const routing::v1::Assignment& a) {
                return std::vector<std::string>{
                    a.name(),
                    Short(routing::v1::AssignmentState_descriptor(), a.state()),
                    absl::StrCat(a.attempt()),
                    a.lead(),
                    a.rep(),
                    a.has_accept_due_time()
                        ? FormatTimestamp(a.accept_due_time())
                        : ""};
              });
        });
    cmd->add_option("--rep", o->rep, "reps/{id}");
    cmd->add_option("--lead", o->lead, "leads/{id}");
    cmd->add_option("--state", o->state,
                    "PENDING, ACCEPTED, REJECTED, BREACHED, CONVERTED");
    AddPageOptions(cmd, o->page);
  }
  AddRepAnswerCommand<routing::v1::AcceptAssignmentRequest>(
      *group, ctx, "accept", "accept an offered lead",
      &LeadRoutingService::Stub::AcceptAssignment);
  AddRepAnswerCommand<routing::v1::RecordFirstTouchRequest>(
      *group, ctx, "touch",
      "record the first contact with an accepted lead (first-touch SLA)",
      &LeadRoutingService::Stub::RecordFirstTouch);
  {
    struct Options {
      std::string name, rep, reason, note;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = AddLeafCommand(
        *group, "reject", "reject an offered lead with a reason", ctx,
        [&ctx, o]() -> absl::Status {
          routing::v1::RejectAssignmentRequest req;
          req.set_name(QualifyName("assignments", o->name));
          auto reason = ParseEnumOption("--reason", o->reason,
                                        routing::v1::RejectReason_descriptor());
          if (!reason.ok()) return reason.status();
          req.set_reason(static_cast<routing::v1::RejectReason>(*reason));
          req.set_note(o->note);
          auto rep = RepOrOffered(ctx, req.name(), o->rep);
          if (!rep.ok()) return rep.status();
          req.set_rep(*rep);
          return PrintResult(
              ctx, ctx.connections->routing().Call(
                       &LeadRoutingService::Stub::RejectAssignment, req));
        });
    cmd->add_option("name", o->name, "assignments/{id} or id")->required();
    cmd->add_option("--reason", o->reason,
                    "NOT_A_FIT, WRONG_TERRITORY, DUPLICATE, NO_BUDGET, "
                    "BAD_CONTACT_DATA, OTHER")
        ->required();
    cmd->add_option("--note", o->note, "required for OTHER");
    cmd->add_option("--rep", o->rep,
                    "reps/{id} rejecting; default: the offered rep");
  }
}

// ---- deal ----------------------------------------------------------------

void AddDealCommands(CLI::App& app, CommandContext& ctx) {
  CLI::App* group = app.add_subcommand("deal", "deals and their pipeline");
  group->require_subcommand(1);
  {
    struct Options {
      std::string lead, display_name, amount,
          currency = "USD", expected_close = "+30d", request_id;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = AddLeafCommand(
        *group, "create", "create a deal from an accepted lead", ctx,
        [&ctx, o]() -> absl::Status {
          deal::v1::CreateDealRequest req;
          req.set_request_id(RequestIdOr(o->request_id));
          auto* d = req.mutable_deal();
          d->set_lead(QualifyName("leads", o->lead));
          d->set_display_name(o->display_name);
          RETURN_IF_ERROR(SetMoney("--amount", o->amount, o->currency,
                                   [&] { return d->mutable_amount(); }));
          RETURN_IF_ERROR(SetTime("--expected-close", o->expected_close, [&] {
            return d->mutable_expected_close_time();
          }));
          return PrintResult(ctx, ctx.connections->deal().Call(
                                      &DealService::Stub::CreateDeal, req));
        });
    cmd->add_option("--lead", o->lead, "leads/{id} with an accepted assignment")
        ->required();
    cmd->add_option("--display-name", o->display_name);
    cmd->add_option("--amount", o->amount, "e.g. 24000 or 24,000.00")
        ->required();
    cmd->add_option("--currency", o->currency)->capture_default_str();
    cmd->add_option("--expected-close", o->expected_close,
                    "2026-06-30, RFC 3339 or +30d")
        ->capture_default_str();
    cmd->add_option("--request-id", o->request_id, "idempotency key");
  }
  {
    auto name = std::make_shared<std::string>();
    auto* cmd = AddLeafCommand(*group, "get", "show a deal", ctx, [&ctx, name] {
      deal::v1::GetDealRequest req;
      req.set_name(QualifyName("deals", *name));
      return PrintResult(
          ctx, ctx.connections->deal().Call(&DealService::Stub::GetDeal, req));
    });
    cmd->add_option("name", *name, "deals/{id} or id")->required();
  }
  {
    struct Options {
      PageOptions page;
      std::string stage, owner, lead;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = AddLeafCommand(*group, "list", "list deals", ctx, [&ctx, o] {
      auto stage =
          EnumFilter("--stage", o->stage, deal::v1::DealStage_descriptor());
      if (!stage.ok()) return stage.status();
      std::string owner = o->owner.empty() ? "" : QualifyName("reps", o->owner);
      std::string lead = o->lead.empty() ? "" : QualifyName("leads", o->lead);
      return RunList(
          ctx, ctx.connections->deal(), &DealService::Stub::ListDeals,
          deal::v1::ListDealsRequest(), o->page,
          JoinFilter({{"stage", *stage}, {"owner", owner}, {"lead", lead}},
                     o->page.filter),
          Table({"NAME", "STAGE", "AMOUNT", "OWNER", "LEAD", "DISPLAY NAME"}),
          [](const auto& r) -> const auto& { return r.deals(); },
          [](const deal::v1::Deal& d) {
            return std::vector<std::string>{
                d.name(),
                Short(deal::v1::DealStage_descriptor(), d.stage()),
                FormatMoney(d.amount()),
                d.owner(),
                d.lead(),
                d.display_name()};
          });
    });
    cmd->add_option("--stage", o->stage, "e.g. PROPOSAL");
    cmd->add_option("--owner", o->owner, "reps/{id}");
    cmd->add_option("--lead", o->lead, "leads/{id}");
    AddPageOptions(cmd, o->page);
  }
  {
    struct Options {
      std::string name, stage, actor, etag;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = AddLeafCommand(
        *group, "stage", "move an open deal forward", ctx,
        [&ctx, o]() -> absl::Status {
          deal::v1::UpdateDealStageRequest req;
          req.set_name(QualifyName("deals", o->name));
          auto stage = ParseEnumOption("--stage", o->stage,
                                       deal::v1::DealStage_descriptor());
          if (!stage.ok()) return stage.status();
          req.set_stage(static_cast<deal::v1::DealStage>(*stage));
          req.set_actor(o->actor);
          req.set_etag(o->etag);
          return PrintResult(ctx,
                             ctx.connections->deal().Call(
                                 &DealService::Stub::UpdateDealStage, req));
        });
    cmd->add_option("name", o->name, "deals/{id} or id")->required();
    cmd->add_option("--stage", o->stage, "DISCOVERY, PROPOSAL, NEGOTIATION")
        ->required();
    cmd->add_option("--actor", o->actor, "who moved it, e.g. reps/{id}");
    cmd->add_option("--etag", o->etag,
                    "fail with ABORTED if the deal changed since");
  }
  {
    struct Options {
      std::string name, outcome, reason, amount, currency = "USD", actor,
                                                 request_id;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = AddLeafCommand(
        *group, "close", "close a deal as won or lost", ctx,
        [&ctx, o]() -> absl::Status {
          deal::v1::CloseDealRequest req;
          req.set_request_id(RequestIdOr(o->request_id));
          req.set_name(QualifyName("deals", o->name));
          auto outcome = ParseEnumOption("--outcome", o->outcome,
                                         deal::v1::DealOutcome_descriptor());
          if (!outcome.ok()) return outcome.status();
          req.set_outcome(static_cast<deal::v1::DealOutcome>(*outcome));
          req.set_reason(o->reason);
          req.set_actor(o->actor);
          RETURN_IF_ERROR(SetMoney("--amount", o->amount, o->currency,
                                   [&] { return req.mutable_amount(); }));
          return PrintResult(ctx, ctx.connections->deal().Call(
                                      &DealService::Stub::CloseDeal, req));
        });
    cmd->add_option("name", o->name, "deals/{id} or id")->required();
    cmd->add_option("--outcome", o->outcome, "WON or LOST")->required();
    cmd->add_option("--reason", o->reason,
                    "required for LOST: PRICE, COMPETITOR, NO_DECISION");
    cmd->add_option("--amount", o->amount,
                    "final amount when won; default the deal's");
    cmd->add_option("--currency", o->currency)->capture_default_str();
    cmd->add_option("--actor", o->actor, "who closed it, e.g. reps/{id}");
    cmd->add_option("--request-id", o->request_id, "idempotency key");
  }
}

}  // namespace

void AddResourceCommands(CLI::App& app, CommandContext& ctx) {
  AddPersonaCommands(app, ctx);
  AddCampaignCommands(app, ctx);
  AddLeadCommands(app, ctx);
  AddRepCommands(app, ctx);
  AddAssignmentCommands(app, ctx);
  AddDealCommands(app, ctx);
}

}  // namespace handoff::ctl
