#include "tools/bench/scenarios.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/proto_time.h"
#include "common/server/grpc_status.h"
#include "common/strings.h"
#include "tools/bench/bench_data.h"

namespace handoff::bench {
namespace {

namespace pv1 = persona::v1;
namespace cv1 = campaign::v1;
namespace rv1 = routing::v1;

using Callback = std::function<void(grpc::Status)>;

// Setup calls are few and synchronous.
template <typename Stub, typename Req, typename Resp>
absl::StatusOr<Resp> CallSync(Stub& stub,
                              grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                           const Req&, Resp*),
                              const Req& request) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
  Resp response;
  grpc::Status status = (stub.*method)(&ctx, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

std::vector<std::shared_ptr<grpc::Channel>> Channels(const std::string& target,
                                                     int count) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  if (target.empty()) return channels;
  for (int i = 0; i < std::max(1, count); ++i) {
    channels.push_back(MakeBenchChannel(target, i));
  }
  return channels;
}

absl::Status Connected(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
    std::string_view what, absl::Time deadline) {
  for (const auto& channel : channels) {
    if (!channel->WaitForConnected(absl::ToChronoTime(deadline))) {
      return absl::UnavailableError(
          absl::StrCat("cannot connect to the ", Sv(what), " service"));
    }
  }
  return absl::OkStatus();
}

absl::Status NeedAddress(const std::string& address, std::string_view what) {
  if (address.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("this scenario needs the ", Sv(what), " service address"));
  }
  return absl::OkStatus();
}

// Fixture builds must not half-succeed silently.
absl::Status CheckFixtureRun(const RunStats& stats, std::string_view what) {
  if (!stats.drained || !stats.errors.empty()) {
    return absl::InternalError(absl::StrCat(
        "building ", Sv(what), " failed: ", FormatErrors(stats.errors),
        stats.drained ? "" : " (calls did not finish)"));
  }
  return absl::OkStatus();
}

std::string Ms(int64_t ns) {
  return absl::StrFormat("%.2f", static_cast<double>(ns) / 1e6);
}

}  // namespace

Bench::Bench(BenchOptions options) : options_(std::move(options)) {
  const int m = options_.load.channels;
  persona_channels_ = Channels(options_.persona_address, m);
  campaign_channels_ = Channels(options_.campaign_address, m);
  routing_channels_ = Channels(options_.routing_address, m);
  persona_ = MakeStubs<pv1::PersonaService>(persona_channels_);
  campaign_ = MakeStubs<cv1::CampaignService>(campaign_channels_);
  routing_ = MakeStubs<rv1::LeadRoutingService>(routing_channels_);
  for (const WatchedProcess& p : options_.watched) {
    options_.load.watched_pids.push_back(p.pid);
  }
}

absl::Status Bench::Connect(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  if (absl::Status s = Connected(persona_channels_, "persona", deadline);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = Connected(campaign_channels_, "campaign", deadline);
      !s.ok()) {
    return s;
  }
  return Connected(routing_channels_, "routing", deadline);
}

ClosedLoopOptions Bench::FixtureLoad(int64_t count) const {
  ClosedLoopOptions load = options_.load;
  load.concurrency = std::min(16, std::max(1, options_.load.concurrency));
  load.count = count;
  load.warmup = absl::ZeroDuration();
  return load;
}

void Bench::FillCapture(std::string_view tag, int64_t seq,
                        cv1::CaptureLeadRequest& req) const {
  req.set_request_id(RequestId(tag, seq));
  req.set_campaign(campaign_name_);
  req.set_email(absl::StrCat(Sv(tag), "-", options_.run_id, "-", seq,
                             "@loadgen.example"));
  req.set_first_name("Bench");
  req.set_last_name(absl::StrCat(Sv(tag), "-", seq));
  *req.mutable_profile() = ProfileFor(seq);
}

std::string Bench::RequestId(std::string_view tag, int64_t seq) const {
  return absl::StrCat(options_.run_id, "-", Sv(tag), "-", seq);
}

ScenarioResult Bench::Result(std::string name, Kind kind, double target,
                             RunStats stats, std::string note) const {
  ScenarioResult result;
  result.name = std::move(name);
  result.kind = kind;
  result.target_ratio = target;
  result.ok = stats.ok;
  result.window_seconds = stats.window_seconds;
  result.errors = std::move(stats.errors);
  result.latency = Summarize(std::move(stats.latencies_ns));
  result.host_busy = stats.host_busy;
  result.client_cores = stats.client_cores;
  if (const double rps = result.Throughput(); rps > 0) {
    std::vector<double> cores = stats.watched_cores;
    cores.push_back(stats.client_cores);
    result.cpu_us_per_call = PerProcess(cores, 1e6 / rps);
  }
  result.note = std::move(note);
  if (!stats.drained) {
    absl::StrAppend(&result.note, result.note.empty() ? "" : "; ",
                    "calls still in flight after the drain timeout: no "
                    "figures");
  }
  return result;
}

ScenarioResult Bench::Echo(const std::string& name,
                           const std::string& address) {
  std::vector<std::shared_ptr<grpc::Channel>> channels =
      Channels(address, options_.load.channels);
  auto stubs = MakeStubs<v1::EchoService>(channels);
  const std::string payload(static_cast<size_t>(options_.payload_bytes), 'x');
  IssueFn issue = MakeUnary<v1::EchoMessage, v1::EchoMessage>(
      &stubs,
      [](auto& stub, grpc::ClientContext* ctx, const v1::EchoMessage* req,
         v1::EchoMessage* resp,
         Callback cb) { stub.async()->Echo(ctx, req, resp, std::move(cb)); },
      [&payload](int64_t, v1::EchoMessage& req) { req.set_payload(payload); });
  return Result(
      name, Kind::kBaseline, 0, RunClosedLoop(options_.load, issue),
      absl::StrCat(options_.payload_bytes, "-byte payload at ", address));
}

// ---- fixtures --------------------------------------------------------------

absl::Status Bench::EnsurePersonas() {
  if (!personas_.empty()) return absl::OkStatus();
  if (absl::Status s = NeedAddress(options_.persona_address, "persona");
      !s.ok()) {
    return s;
  }
  for (const pv1::Persona& persona : BenchPersonas()) {
    pv1::CreatePersonaRequest req;
    req.set_request_id(RequestId("persona", personas_.size()));
    pv1::Persona* p = req.mutable_persona();
    *p = persona;
    p->set_description("Created by handoff-loadgen.");
    absl::StatusOr<pv1::Persona> created =
        CallSync(*persona_[0], &pv1::PersonaService::Stub::CreatePersona, req);
    if (!created.ok()) return created.status();
    personas_.push_back(created->name());
  }
  return absl::OkStatus();
}

absl::Status Bench::EnsureCampaign() {
  if (!campaign_name_.empty()) return absl::OkStatus();
  if (absl::Status s = NeedAddress(options_.campaign_address, "campaign");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = EnsurePersonas(); !s.ok()) return s;
  cv1::CreateCampaignRequest req;
  req.set_request_id(RequestId("campaign", 0));
  cv1::Campaign* c = req.mutable_campaign();
  c->set_display_name(absl::StrCat("Loadgen ", options_.run_id));
  c->set_channel(cv1::CHANNEL_WEBINAR);
  c->add_target_personas(personas_[0]);
  c->add_target_personas(personas_[1]);
  absl::StatusOr<cv1::Campaign> created =
      CallSync(*campaign_[0], &cv1::CampaignService::Stub::CreateCampaign, req);
  if (!created.ok()) return created.status();
  campaign_name_ = created->name();
  return absl::OkStatus();
}

absl::Status Bench::EnsureReps() {
  if (!reps_.empty()) return absl::OkStatus();
  if (absl::Status s = NeedAddress(options_.routing_address, "routing");
      !s.ok()) {
    return s;
  }
  for (int i = 0; i < options_.reps; ++i) {
    rv1::CreateRepRequest req;
    req.set_request_id(RequestId("rep", i));
    rv1::Rep* rep = req.mutable_rep();
    rep->set_display_name(absl::StrCat("Bench Rep ", i));
    rep->set_email(
        absl::StrCat("rep", i, "-", options_.run_id, "@loadgen.example"));
    rep->set_team("bench");
    rep->set_capacity(options_.rep_capacity);
    absl::StatusOr<rv1::Rep> created =
        CallSync(*routing_[0], &rv1::LeadRoutingService::Stub::CreateRep, req);
    if (!created.ok()) return created.status();
    reps_.push_back(created->name());
  }
  return absl::OkStatus();
}

absl::Status Bench::SetRepsStatus(rv1::RepStatus status) {
  for (const std::string& name : reps_) {
    rv1::UpdateRepRequest req;
    req.mutable_rep()->set_name(name);
    req.mutable_rep()->set_status(status);
    req.mutable_update_mask()->add_paths("status");
    absl::StatusOr<rv1::Rep> updated =
        CallSync(*routing_[0], &rv1::LeadRoutingService::Stub::UpdateRep, req);
    if (!updated.ok()) return updated.status();
  }
  return absl::OkStatus();
}

absl::Status Bench::EnsureLeads() {
  if (!leads_.empty()) return absl::OkStatus();
  if (absl::Status s = EnsureCampaign(); !s.ok()) return s;
  absl::Mutex mu;
  std::vector<std::string> names(static_cast<size_t>(options_.fixture_size));
  IssueFn issue = MakeUnary<cv1::CaptureLeadRequest, cv1::CaptureLeadResponse>(
      &campaign_,
      [](auto& stub, grpc::ClientContext* ctx,
         const cv1::CaptureLeadRequest* req, cv1::CaptureLeadResponse* resp,
         Callback cb) {
        stub.async()->CaptureLead(ctx, req, resp, std::move(cb));
      },
      [this](int64_t seq, cv1::CaptureLeadRequest& req) {
        FillCapture("fixture-lead", seq, req);
      },
      [&](int64_t seq, const cv1::CaptureLeadResponse& resp) {
        absl::MutexLock lock(&mu);
        names[static_cast<size_t>(seq)] = resp.lead().name();
      });
  RunStats stats = RunClosedLoop(FixtureLoad(options_.fixture_size), issue);
  if (absl::Status s = CheckFixtureRun(stats, "fixture leads"); !s.ok()) {
    return s;
  }
  leads_ = std::move(names);
  return absl::OkStatus();
}

absl::Status Bench::EnsureAssignments() {
  if (!assignments_.empty()) return absl::OkStatus();
  if (absl::Status s = EnsureReps(); !s.ok()) return s;
  absl::Mutex mu;
  std::vector<std::string> names;
  IssueFn issue = MakeUnary<rv1::RouteLeadRequest, rv1::RouteLeadResponse>(
      &routing_,
      [](auto& stub, grpc::ClientContext* ctx, const rv1::RouteLeadRequest* req,
         rv1::RouteLeadResponse* resp, Callback cb) {
        stub.async()->RouteLead(ctx, req, resp, std::move(cb));
      },
      [this](int64_t seq, rv1::RouteLeadRequest& req) {
        req.set_request_id(RequestId("fixture-route", seq));
        req.set_lead(absl::StrCat("leads/bench", options_.run_id, "f", seq));
        *req.mutable_lead_summary()->mutable_profile() = ProfileFor(seq);
        req.mutable_lead_summary()->set_score(60);
        req.mutable_lead_summary()->set_mql_reason("SCORE_THRESHOLD");
      },
      [&](int64_t, const rv1::RouteLeadResponse& resp) {
        if (!resp.has_assignment()) return;  // queued
        absl::MutexLock lock(&mu);
        names.push_back(resp.assignment().name());
      });
  RunStats stats = RunClosedLoop(FixtureLoad(options_.fixture_size), issue);
  if (absl::Status s = CheckFixtureRun(stats, "fixture assignments"); !s.ok()) {
    return s;
  }
  if (names.empty()) {
    return absl::FailedPreconditionError(
        "every fixture lead was queued: no rep has room");
  }
  assignments_ = std::move(names);
  return absl::OkStatus();
}

// ---- reads ---------------------------------------------------------------

absl::StatusOr<ScenarioResult> Bench::MatchPersona() {
  if (absl::Status s = EnsurePersonas(); !s.ok()) return s;
  IssueFn issue =
      MakeUnary<pv1::MatchPersonaRequest, pv1::MatchPersonaResponse>(
          &persona_,
          [](auto& stub, grpc::ClientContext* ctx,
             const pv1::MatchPersonaRequest* req,
             pv1::MatchPersonaResponse* resp, Callback cb) {
            stub.async()->MatchPersona(ctx, req, resp, std::move(cb));
          },
          [](int64_t seq, pv1::MatchPersonaRequest& req) {
            *req.mutable_profile() = ProfileFor(seq);
          });
  return Result("MatchPersona", Kind::kRead, 0.7,
                RunClosedLoop(options_.load, issue),
                absl::StrCat(personas_.size(),
                             " personas created by the loadgen (plus any "
                             "already stored); 120 rotating profiles"));
}

absl::StatusOr<ScenarioResult> Bench::GetLead() {
  if (absl::Status s = EnsureLeads(); !s.ok()) return s;
  const std::vector<std::string>& leads = leads_;
  IssueFn issue = MakeUnary<cv1::GetLeadRequest, cv1::Lead>(
      &campaign_,
      [](auto& stub, grpc::ClientContext* ctx, const cv1::GetLeadRequest* req,
         cv1::Lead* resp,
         Callback cb) { stub.async()->GetLead(ctx, req, resp, std::move(cb)); },
      [&leads](int64_t seq, cv1::GetLeadRequest& req) {
        req.set_name(leads[static_cast<size_t>(seq) % leads.size()]);
      });
  return Result("GetLead", Kind::kRead, 0.7,
                RunClosedLoop(options_.load, issue),
                absl::StrCat("round robin over ", leads.size(), " leads"));
}

absl::StatusOr<ScenarioResult> Bench::GetAssignment() {
  if (absl::Status s = EnsureAssignments(); !s.ok()) return s;
  const std::vector<std::string>& names = assignments_;
  IssueFn issue = MakeUnary<rv1::GetAssignmentRequest, rv1::Assignment>(
      &routing_,
      [](auto& stub, grpc::ClientContext* ctx,
         const rv1::GetAssignmentRequest* req, rv1::Assignment* resp,
         Callback cb) {
        stub.async()->GetAssignment(ctx, req, resp, std::move(cb));
      },
      [&names](int64_t seq, rv1::GetAssignmentRequest& req) {
        req.set_name(names[static_cast<size_t>(seq) % names.size()]);
      });
  return Result("GetAssignment", Kind::kRead, 0.7,
                RunClosedLoop(options_.load, issue),
                absl::StrCat("round robin over ", names.size(),
                             " assignments (with explanations)"));
}

// ---- durable writes --------------------------------------------------------

absl::StatusOr<ScenarioResult> Bench::CaptureLead() {
  if (absl::Status s = EnsureCampaign(); !s.ok()) return s;
  IssueFn issue = MakeUnary<cv1::CaptureLeadRequest, cv1::CaptureLeadResponse>(
      &campaign_,
      [](auto& stub, grpc::ClientContext* ctx,
         const cv1::CaptureLeadRequest* req, cv1::CaptureLeadResponse* resp,
         Callback cb) {
        stub.async()->CaptureLead(ctx, req, resp, std::move(cb));
      },
      [this](int64_t seq, cv1::CaptureLeadRequest& req) {
        FillCapture("capture", seq, req);
        req.set_company("Loadgen Inc");
        req.set_source("landing-page/bench");
      });
  return Result("CaptureLead", Kind::kWrite, 0.3,
                RunClosedLoop(options_.load, issue),
                "a new email per call; each asks persona for the fit "
                "(MatchPersona) before its write");
}

absl::StatusOr<ScenarioResult> Bench::RecordEngagement() {
  if (absl::Status s = EnsureLeads(); !s.ok()) return s;
  const std::vector<std::string>& leads = leads_;
  IssueFn issue =
      MakeUnary<cv1::RecordEngagementRequest, cv1::RecordEngagementResponse>(
          &campaign_,
          [](auto& stub, grpc::ClientContext* ctx,
             const cv1::RecordEngagementRequest* req,
             cv1::RecordEngagementResponse* resp, Callback cb) {
            stub.async()->RecordEngagement(ctx, req, resp, std::move(cb));
          },
          [this, &leads](int64_t seq, cv1::RecordEngagementRequest& req) {
            req.set_request_id(RequestId("engage", seq));
            req.set_lead(leads[static_cast<size_t>(seq) % leads.size()]);
            req.set_type(cv1::ENGAGEMENT_TYPE_EMAIL_OPEN);
          });
  return Result(
      "RecordEngagement", Kind::kWrite, 0.3,
      RunClosedLoop(options_.load, issue),
      absl::StrCat("EMAIL_OPEN (1 point) round robin over ", leads.size(),
                   " leads; a lead crossing the MQL threshold is "
                   "handed to routing through the outbox"));
}

absl::StatusOr<ScenarioResult> Bench::RouteLead(bool queued,
                                                rv1::AssignmentView view) {
  if (absl::Status s = EnsureReps(); !s.ok()) return s;
  if (queued) {
    if (absl::Status s = SetRepsStatus(rv1::REP_STATUS_AWAY); !s.ok()) {
      return s;
    }
  }
  const bool full = view == rv1::ASSIGNMENT_VIEW_FULL;
  const std::string tag = queued ? "q" : (full ? "f" : "r");
  std::atomic<int64_t> offered{0}, queued_count{0};
  IssueFn issue = MakeUnary<rv1::RouteLeadRequest, rv1::RouteLeadResponse>(
      &routing_,
      [](auto& stub, grpc::ClientContext* ctx, const rv1::RouteLeadRequest* req,
         rv1::RouteLeadResponse* resp, Callback cb) {
        stub.async()->RouteLead(ctx, req, resp, std::move(cb));
      },
      [this, &tag, view](int64_t seq, rv1::RouteLeadRequest& req) {
        req.set_request_id(RequestId(absl::StrCat("route-", tag), seq));
        req.set_view(view);
        req.set_lead(absl::StrCat("leads/bench", options_.run_id, tag, seq));
        rv1::LeadSummary* summary = req.mutable_lead_summary();
        *summary->mutable_profile() = ProfileFor(seq);
        summary->set_score(60);
        summary->set_mql_reason("SCORE_THRESHOLD");
      },
      [&](int64_t, const rv1::RouteLeadResponse& resp) {
        (resp.queued() ? queued_count : offered)
            .fetch_add(1, std::memory_order_relaxed);
      });
  RunStats stats = RunClosedLoop(options_.load, issue);
  // Counted over warmup too; they only say which path the calls took.
  std::string note = absl::StrCat(
      "a new lead per call; ", options_.reps, " reps of capacity ",
      options_.rep_capacity, (queued ? ", all AWAY" : ""), "; ", offered.load(),
      " offered, ", queued_count.load(), " queued (warmup included)",
      queued ? ""
      : full ? "; view FULL: each offer with its explanation"
             : "; view BASIC, as campaign's outbox asks: the explanation "
               "stays with GetAssignment");
  if (queued) {
    if (absl::Status s = SetRepsStatus(rv1::REP_STATUS_AVAILABLE); !s.ok()) {
      return s;
    }
  }
  const bool target = !queued && !full;
  return Result(queued ? "RouteLead (queued)"
                : full ? "RouteLead (view FULL)"
                       : "RouteLead",
                target ? Kind::kWrite : Kind::kInfo, target ? 0.3 : 0,
                std::move(stats), std::move(note));
}

// ---- end to end ------------------------------------------------------------

namespace {

struct Mql {
  std::string lead;
  absl::Time mql_time;
  absl::Time sent;
  std::optional<absl::Time> offer_time;
};

// Open-loop state shared with the completions.
struct OpenLoop {
  absl::Mutex mu;
  int64_t in_flight ABSL_GUARDED_BY(mu) = 0;
  std::vector<Mql> mqls ABSL_GUARDED_BY(mu);
  int64_t capture_errors ABSL_GUARDED_BY(mu) = 0;
  int64_t engagement_errors ABSL_GUARDED_BY(mu) = 0;
};

}  // namespace

absl::StatusOr<MqlToOfferResult> Bench::MqlToOffer(double rate,
                                                   absl::Duration duration,
                                                   int max_in_flight) {
  if (absl::Status s = EnsureCampaign(); !s.ok()) return s;
  if (absl::Status s = EnsureReps(); !s.ok()) return s;
  MqlToOfferResult result;
  result.rate = rate;
  result.seconds = absl::ToDoubleSeconds(duration);
  result.scheduled = static_cast<int64_t>(rate * result.seconds);
  const std::string tag = absl::StrCat("e2e", static_cast<int64_t>(rate));
  auto state = std::make_shared<OpenLoop>();
  const absl::Duration period = absl::Seconds(1) / rate;
  const std::vector<double> cpu_before = WatchedCpuSeconds();
  const absl::Time start = absl::Now();

  for (int64_t i = 0; i < result.scheduled; ++i) {
    const absl::Time due = start + period * i;
    const absl::Duration wait = due - absl::Now();
    if (wait > absl::ZeroDuration()) absl::SleepFor(wait);
    {
      absl::MutexLock lock(&state->mu);
      if (state->in_flight >= max_in_flight) {
        ++result.skipped;
        continue;
      }
      ++state->in_flight;
    }
    auto capture = std::make_shared<
        UnaryCall<cv1::CaptureLeadRequest, cv1::CaptureLeadResponse>>();
    capture->ctx.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
    capture->req.set_request_id(RequestId(tag + "-capture", i));
    capture->req.set_campaign(campaign_name_);
    capture->req.set_email(
        absl::StrCat(tag, "-", options_.run_id, "-", i, "@loadgen.example"));
    capture->req.set_first_name("Demo");
    capture->req.set_last_name(absl::StrCat("Requester", i));
    *capture->req.mutable_profile() = ProfileFor(i);
    const size_t channel = static_cast<size_t>(i) % campaign_.size();
    auto* stub = campaign_[channel].get();
    std::string engage_id = RequestId(tag + "-engage", i);
    stub->async()->CaptureLead(
        &capture->ctx, &capture->req, &capture->resp,
        [state, capture, stub, engage_id](grpc::Status status) {
          if (!status.ok()) {
            absl::MutexLock lock(&state->mu);
            ++state->capture_errors;
            --state->in_flight;
            return;
          }
          auto engage =
              std::make_shared<UnaryCall<cv1::RecordEngagementRequest,
                                         cv1::RecordEngagementResponse>>();
          engage->ctx.set_deadline(std::chrono::system_clock::now() +
                                   kCallTimeout);
          engage->req.set_request_id(engage_id);
          engage->req.set_lead(capture->resp.lead().name());
          engage->req.set_type(cv1::ENGAGEMENT_TYPE_DEMO_REQUEST);
          const absl::Time sent = absl::Now();
          stub->async()->RecordEngagement(
              &engage->ctx, &engage->req, &engage->resp,
              [state, engage, sent](grpc::Status status) {
                absl::MutexLock lock(&state->mu);
                --state->in_flight;
                if (!status.ok() || !engage->resp.became_mql()) {
                  ++state->engagement_errors;
                  return;
                }
                state->mqls.push_back(
                    {engage->resp.lead().name(),
                     FromProtoTime(engage->resp.lead().mql_time()), sent,
                     std::nullopt});
              });
        });
  }
  {
    absl::MutexLock lock(&state->mu);
    auto idle = [&]() ABSL_SHARED_LOCKS_REQUIRED(state->mu) {
      return state->in_flight == 0;
    };
    if (!state->mu.AwaitWithTimeout(absl::Condition(&idle),
                                    absl::Seconds(60))) {
      return absl::DeadlineExceededError(
          "captures and engagements still in flight after 60 s");
    }
  }
  const std::vector<double> cpu_after = WatchedCpuSeconds();
  std::vector<Mql> mqls;
  {
    absl::MutexLock lock(&state->mu);
    mqls = std::move(state->mqls);
    result.capture_errors = state->capture_errors;
    result.engagement_errors = state->engagement_errors;
  }
  result.mqls = static_cast<int64_t>(mqls.size());
  if (result.mqls > 0) {
    result.cpu_ms_per_mql = PerProcess(CpuSecondsUsed(cpu_before, cpu_after),
                                       1000 / static_cast<double>(result.mqls));
  }

  // The offers are read after the load, so the reads do not compete with
  // it; the figure comes from the services' own timestamps.
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  std::vector<size_t> missing(mqls.size());
  for (size_t i = 0; i < missing.size(); ++i) missing[i] = i;
  while (!missing.empty() && absl::Now() < give_up) {
    absl::Mutex mu;
    IssueFn issue =
        MakeUnary<rv1::ListAssignmentsRequest, rv1::ListAssignmentsResponse>(
            &routing_,
            [](auto& stub, grpc::ClientContext* ctx,
               const rv1::ListAssignmentsRequest* req,
               rv1::ListAssignmentsResponse* resp, Callback cb) {
              stub.async()->ListAssignments(ctx, req, resp, std::move(cb));
            },
            [&](int64_t seq, rv1::ListAssignmentsRequest& req) {
              req.set_filter(absl::StrCat(
                  "lead=", mqls[missing[static_cast<size_t>(seq)]].lead));
              req.set_page_size(10);
            },
            [&](int64_t seq, const rv1::ListAssignmentsResponse& resp) {
              std::optional<absl::Time> first;
              for (const rv1::Assignment& a : resp.assignments()) {
                const absl::Time t = FromProtoTime(a.offer_time());
                if (!first.has_value() || t < *first) first = t;
              }
              if (!first.has_value()) return;
              absl::MutexLock lock(&mu);
              mqls[missing[static_cast<size_t>(seq)]].offer_time = first;
            });
    RunClosedLoop(FixtureLoad(static_cast<int64_t>(missing.size())), issue);
    std::erase_if(missing,
                  [&](size_t i) { return mqls[i].offer_time.has_value(); });
    if (!missing.empty()) absl::SleepFor(absl::Milliseconds(200));
  }

  std::vector<int64_t> mql_to_offer, sent_to_offer;
  for (const Mql& m : mqls) {
    if (!m.offer_time.has_value()) continue;
    mql_to_offer.push_back(std::max<int64_t>(
        0, absl::ToInt64Nanoseconds(*m.offer_time - m.mql_time)));
    sent_to_offer.push_back(
        std::max<int64_t>(0, absl::ToInt64Nanoseconds(*m.offer_time - m.sent)));
  }
  result.offered = static_cast<int64_t>(mql_to_offer.size());
  result.not_offered = result.mqls - result.offered;
  result.mql_to_offer = Summarize(std::move(mql_to_offer));
  result.sent_to_offer = Summarize(std::move(sent_to_offer));
  return result;
}

std::vector<double> Bench::WatchedCpuSeconds() const {
  std::vector<double> seconds = ProcessesCpuSeconds(options_.load.watched_pids);
  seconds.push_back(SelfCpuSeconds());
  return seconds;
}

std::vector<std::pair<std::string, double>> Bench::PerProcess(
    const std::vector<double>& figures, double scale) const {
  std::vector<std::pair<std::string, double>> named;
  for (size_t i = 0; i < figures.size(); ++i) {
    if (figures[i] < 0) continue;
    named.emplace_back(
        i < options_.watched.size() ? options_.watched[i].name : "loadgen",
        figures[i] * scale);
  }
  return named;
}

std::string FormatMqlToOffer(const MqlToOfferResult& r) {
  const bool met = r.offered > 0 && r.not_offered == 0 && r.skipped == 0 &&
                   r.mql_to_offer.p99_ns <= 50'000'000;
  std::string out = absl::StrFormat(
      "MQL to rep offer, open loop at %.0f MQL/s for %.0f s "
      "(target: p99 <= 50 ms at 1,000 MQL/s)\n",
      r.rate, r.seconds);
  absl::StrAppendFormat(
      &out,
      "  scheduled %d, skipped %d (more than the in-flight cap still "
      "capturing/engaging), capture errors %d, engagement errors %d\n",
      r.scheduled, r.skipped, r.capture_errors, r.engagement_errors);
  absl::StrAppendFormat(
      &out, "  MQLs %d (%.1f/s achieved), offers found %d, not offered %d\n",
      r.mqls, r.seconds > 0 ? static_cast<double>(r.mqls) / r.seconds : 0.0,
      r.offered, r.not_offered);
  absl::StrAppend(&out, "  lead.mql_time -> assignment.offer_time: p50 ",
                  Ms(r.mql_to_offer.p50_ns), " ms, p99 ",
                  Ms(r.mql_to_offer.p99_ns), " ms, max ",
                  Ms(r.mql_to_offer.max_ns), " ms\n");
  absl::StrAppend(&out, "  demo request sent -> assignment.offer_time: p50 ",
                  Ms(r.sent_to_offer.p50_ns), " ms, p99 ",
                  Ms(r.sent_to_offer.p99_ns), " ms, max ",
                  Ms(r.sent_to_offer.max_ns), " ms\n");
  if (!r.cpu_ms_per_mql.empty()) {
    absl::StrAppend(&out,
                    "  CPU per MQL, first capture to last engagement reply "
                    "(deliveries still queued then are not counted):");
    bool first = true;
    for (const auto& [process, ms] : r.cpu_ms_per_mql) {
      // The echo servers are watched too and idle here.
      if (ms < 0.05) continue;
      absl::StrAppendFormat(&out, "%s %s %.2f ms", first ? "" : ",", process,
                            ms);
      first = false;
    }
    absl::StrAppend(&out, "\n");
  }
  if (r.rate < 1000) {
    absl::StrAppend(&out, "  below the target's rate: a reference point\n");
  } else {
    absl::StrAppend(&out, "  target ", met ? "met" : "NOT met",
                    r.skipped > 0 ? " (the rate was not sustained)" : "", "\n");
  }
  return out;
}

}  // namespace handoff::bench
