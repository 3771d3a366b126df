#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "common/server/server.h"
#include "handoff/persona/v1/persona.grpc.pb.h"
#include "services/persona/persona_server.h"

namespace handoff::persona {
namespace {

using ::testing::HasSubstr;

// One in-process server for the whole binary; each case uses fresh personas.
class PersonaGrpcTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    clock_ = new FakeClock();
    metrics_ = new Metrics("persona");
    absl::StatusOr<std::unique_ptr<PersonaServer>> server =
        PersonaServer::Create({.db_path = ":memory:"}, *clock_, *metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    module_ = server->release();
    ServerOptions options;
    options.address = "127.0.0.1:0";
    options.shutdown_grace = absl::ZeroDuration();
    options.drain_timeout = absl::Seconds(1);
    absl::StatusOr<std::unique_ptr<GrpcServer>> grpc =
        GrpcServer::Start(options, module_->GrpcServices(), *metrics_);
    ASSERT_TRUE(grpc.ok()) << grpc.status();
    grpc_ = grpc->release();
    channel_ = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(grpc_->port()),
                            grpc::InsecureChannelCredentials()));
  }

  static void TearDownTestSuite() {
    delete channel_;
    if (grpc_ != nullptr) grpc_->Shutdown();
    delete grpc_;
    delete module_;
    delete metrics_;
    delete clock_;
  }

  void SetUp() override {
    ASSERT_NE(grpc_, nullptr);
    stub_ = v1::PersonaService::NewStub(*channel_);
  }

  static void WithDeadline(grpc::ClientContext& ctx) {
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(5));
  }

  v1::Persona CreateOrDie(const std::string& display_name) {
    v1::CreatePersonaRequest request;
    request.mutable_persona()->set_display_name(display_name);
    request.mutable_persona()->mutable_criteria()->add_industries("software");
    request.mutable_persona()->mutable_criteria()->add_countries("de");
    v1::Persona persona;
    grpc::ClientContext ctx;
    WithDeadline(ctx);
    grpc::Status status = stub_->CreatePersona(&ctx, request, &persona);
    EXPECT_TRUE(status.ok()) << status.error_message();
    clock_->Advance(absl::Milliseconds(1));
    return persona;
  }

  static FakeClock* clock_;
  static Metrics* metrics_;
  static PersonaServer* module_;
  static GrpcServer* grpc_;
  static std::shared_ptr<grpc::Channel>* channel_;
  std::unique_ptr<v1::PersonaService::Stub> stub_;
};

FakeClock* PersonaGrpcTest::clock_ = nullptr;
Metrics* PersonaGrpcTest::metrics_ = nullptr;
PersonaServer* PersonaGrpcTest::module_ = nullptr;
GrpcServer* PersonaGrpcTest::grpc_ = nullptr;
std::shared_ptr<grpc::Channel>* PersonaGrpcTest::channel_ = nullptr;

TEST_F(PersonaGrpcTest, CreateGetAndMatchOverTheWire) {
  v1::Persona created = CreateOrDie("German software buyer");
  EXPECT_EQ(created.criteria().countries(0), "DE");

  v1::GetPersonaRequest get;
  get.set_name(created.name());
  v1::Persona got;
  grpc::ClientContext get_ctx;
  WithDeadline(get_ctx);
  ASSERT_TRUE(stub_->GetPersona(&get_ctx, get, &got).ok());
  EXPECT_EQ(got.etag(), created.etag());

  v1::MatchPersonaRequest match;
  match.mutable_profile()->set_industry("Software");
  match.mutable_profile()->set_country("FR");
  match.set_min_score(50);
  v1::MatchPersonaResponse matches;
  grpc::ClientContext match_ctx;
  WithDeadline(match_ctx);
  grpc::Status status = stub_->MatchPersona(&match_ctx, match, &matches);
  ASSERT_TRUE(status.ok()) << status.error_message();
  bool found = false;
  for (const v1::PersonaMatch& m : matches.matches()) {
    if (m.persona() != created.name()) continue;
    found = true;
    EXPECT_EQ(m.score(), 67);  // industry 30 of 45
    ASSERT_EQ(m.criteria_size(), 2);
    EXPECT_EQ(m.criteria(1).detail(), "country FR not in [DE]");
  }
  EXPECT_TRUE(found);
}

TEST_F(PersonaGrpcTest, UpdateListAndDeleteOverTheWire) {
  v1::Persona created = CreateOrDie("To be renamed");
  v1::UpdatePersonaRequest update;
  *update.mutable_persona() = created;
  update.mutable_persona()->set_display_name("Renamed");
  update.mutable_update_mask()->add_paths("display_name");
  v1::Persona updated;
  grpc::ClientContext update_ctx;
  WithDeadline(update_ctx);
  ASSERT_TRUE(stub_->UpdatePersona(&update_ctx, update, &updated).ok());
  EXPECT_EQ(updated.display_name(), "Renamed");

  v1::ListPersonasRequest list;
  list.set_filter("industry=SOFTWARE");
  list.set_page_size(1000);
  v1::ListPersonasResponse listed;
  grpc::ClientContext list_ctx;
  WithDeadline(list_ctx);
  ASSERT_TRUE(stub_->ListPersonas(&list_ctx, list, &listed).ok());
  bool listed_renamed = false;
  for (const v1::Persona& p : listed.personas()) {
    if (p.name() == created.name())
      listed_renamed = p.display_name() == "Renamed";
  }
  EXPECT_TRUE(listed_renamed);

  v1::DeletePersonaRequest del;
  del.set_name(created.name());
  del.set_etag(updated.etag());
  google::protobuf::Empty empty;
  grpc::ClientContext delete_ctx;
  WithDeadline(delete_ctx);
  ASSERT_TRUE(stub_->DeletePersona(&delete_ctx, del, &empty).ok());
}

TEST_F(PersonaGrpcTest, ErrorsArriveAsCanonicalCodesNamingTheField) {
  v1::CreatePersonaRequest create;
  create.mutable_persona()->mutable_criteria()->add_countries("DE");
  create.mutable_persona()->mutable_criteria()->add_countries("Germany");
  create.mutable_persona()->set_display_name("Bad country");
  v1::Persona persona;
  grpc::ClientContext create_ctx;
  WithDeadline(create_ctx);
  grpc::Status status = stub_->CreatePersona(&create_ctx, create, &persona);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("persona.criteria.countries[1]"));

  v1::GetPersonaRequest get;
  get.set_name("personas/0123456789abc0123456");
  grpc::ClientContext get_ctx;
  WithDeadline(get_ctx);
  status = stub_->GetPersona(&get_ctx, get, &persona);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);

  v1::Persona created = CreateOrDie("Etag check");
  v1::UpdatePersonaRequest update;
  *update.mutable_persona() = created;
  update.mutable_persona()->set_etag("stale");
  grpc::ClientContext update_ctx;
  WithDeadline(update_ctx);
  status = stub_->UpdatePersona(&update_ctx, update, &persona);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);

  v1::MatchPersonaRequest match;
  match.set_max_results(-1);
  v1::MatchPersonaResponse matches;
  grpc::ClientContext match_ctx;
  WithDeadline(match_ctx);
  status = stub_->MatchPersona(&match_ctx, match, &matches);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("max_results"));
}

}  // namespace
}  // namespace handoff::persona
