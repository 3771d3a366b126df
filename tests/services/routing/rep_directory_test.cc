#include "services/routing/rep_directory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/services/routing/routing_fixture.h"

namespace handoff::routing {
namespace {

using RepDirectoryTest = RoutingFixture;

v1::CreateRepRequest ValidCreate() {
  v1::CreateRepRequest request;
  request.mutable_rep()->set_display_name("Ada Lovelace");
  request.mutable_rep()->set_email("ada@example.com");
  request.mutable_rep()->set_team("emea-smb");
  request.mutable_rep()->set_capacity(3);
  return request;
}

int CountReps(RepDirectory& reps) {
  v1::ListRepsRequest request;
  request.set_page_size(1000);
  absl::StatusOr<v1::ListRepsResponse> response = reps.ListReps(request);
  EXPECT_TRUE(response.ok()) << response.status();
  return response.ok() ? response->reps_size() : -1;
}

TEST_F(RepDirectoryTest, CreateDefaultsToAvailableAndGetReturnsIt) {
  absl::StatusOr<v1::Rep> created = reps_->CreateRep(ValidCreate());
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(created->name().starts_with("reps/"));
  EXPECT_EQ(created->status(), v1::REP_STATUS_AVAILABLE);
  EXPECT_FALSE(created->etag().empty());
  EXPECT_TRUE(created->has_create_time());
  EXPECT_EQ(created->open_assignments(), 0);

  v1::Rep got = GetRep(created->name());
  EXPECT_EQ(got.display_name(), "Ada Lovelace");
  EXPECT_EQ(got.team(), "emea-smb");
  EXPECT_EQ(got.capacity(), 3);
  EXPECT_EQ(got.etag(), created->etag());
}

TEST_F(RepDirectoryTest, CreateIsIdempotentByRequestId) {
  v1::CreateRepRequest request = ValidCreate();
  request.set_request_id("req-1");
  absl::StatusOr<v1::Rep> first = reps_->CreateRep(request);
  absl::StatusOr<v1::Rep> again = reps_->CreateRep(request);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->name(), again->name());
  EXPECT_EQ(CountReps(*reps_), 1);
}

TEST_F(RepDirectoryTest, CreateValidationNamesTheFieldAndCreatesNothing) {
  struct Case {
    std::function<void(v1::Rep&)> spoil;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](v1::Rep& r) { r.clear_display_name(); }, "rep.display_name"},
      {[](v1::Rep& r) { r.set_display_name(std::string(201, 'x')); },
       "rep.display_name"},
      {[](v1::Rep& r) { r.clear_team(); }, "rep.team"},
      {[](v1::Rep& r) { r.set_team("emea smb"); }, "rep.team"},
      {[](v1::Rep& r) { r.set_capacity(0); }, "rep.capacity"},
      {[](v1::Rep& r) { r.set_capacity(-2); }, "rep.capacity"},
      {[](v1::Rep& r) { r.set_email("not-an-email"); }, "rep.email"},
      {[](v1::Rep& r) { r.set_email("a@b@c.com"); }, "rep.email"},
      {[](v1::Rep& r) { r.set_status(static_cast<v1::RepStatus>(9)); },
       "rep.status"},
  };
  for (const Case& c : cases) {
    v1::CreateRepRequest request = ValidCreate();
    c.spoil(*request.mutable_rep());
    EXPECT_TRUE(FailsNaming(reps_->CreateRep(request).status(),
                            absl::StatusCode::kInvalidArgument, c.field));
  }
  EXPECT_EQ(CountReps(*reps_), 0);
}

TEST_F(RepDirectoryTest, EmailIsOptional) {
  v1::CreateRepRequest request = ValidCreate();
  request.mutable_rep()->clear_email();
  EXPECT_TRUE(reps_->CreateRep(request).ok());
}

TEST_F(RepDirectoryTest, GetUnknownOrMalformedName) {
  v1::GetRepRequest request;
  request.set_name("reps/nobody");
  EXPECT_EQ(reps_->GetRep(request).status().code(),
            absl::StatusCode::kNotFound);
  request.set_name("leads/x");
  EXPECT_TRUE(FailsNaming(reps_->GetRep(request).status(),
                          absl::StatusCode::kInvalidArgument, "name"));
}

TEST_F(RepDirectoryTest, ListFiltersByTeamAndStatusAndPages) {
  const std::string a = AddRep("A", 1, v1::REP_STATUS_AVAILABLE, "emea");
  const std::string b = AddRep("B", 1, v1::REP_STATUS_AWAY, "emea");
  const std::string c = AddRep("C", 1, v1::REP_STATUS_AVAILABLE, "amer");

  v1::ListRepsRequest request;
  request.set_filter("team=emea");
  absl::StatusOr<v1::ListRepsResponse> emea = reps_->ListReps(request);
  ASSERT_TRUE(emea.ok()) << emea.status();
  ASSERT_EQ(emea->reps_size(), 2);
  EXPECT_EQ(emea->reps(0).name(), a);
  EXPECT_EQ(emea->reps(1).name(), b);

  request.set_filter("status=AVAILABLE AND team=emea");
  absl::StatusOr<v1::ListRepsResponse> available = reps_->ListReps(request);
  ASSERT_TRUE(available.ok()) << available.status();
  ASSERT_EQ(available->reps_size(), 1);
  EXPECT_EQ(available->reps(0).name(), a);

  std::vector<std::string> paged;
  v1::ListRepsRequest page;
  page.set_page_size(2);
  do {
    absl::StatusOr<v1::ListRepsResponse> response = reps_->ListReps(page);
    ASSERT_TRUE(response.ok()) << response.status();
    for (const v1::Rep& rep : response->reps()) paged.push_back(rep.name());
    page.set_page_token(response->next_page_token());
  } while (!page.page_token().empty());
  EXPECT_EQ(paged, (std::vector<std::string>{a, b, c}));

  request.set_filter("status=SLEEPING");
  EXPECT_TRUE(FailsNaming(reps_->ListReps(request).status(),
                          absl::StatusCode::kInvalidArgument, "filter"));
  request.set_filter("color=red");
  EXPECT_TRUE(FailsNaming(reps_->ListReps(request).status(),
                          absl::StatusCode::kInvalidArgument, "filter"));
}

TEST_F(RepDirectoryTest, UpdateHonoursMaskAndEtag) {
  absl::StatusOr<v1::Rep> created = reps_->CreateRep(ValidCreate());
  ASSERT_TRUE(created.ok());

  v1::UpdateRepRequest request;
  request.mutable_rep()->set_name(created->name());
  request.mutable_rep()->set_team("amer");
  request.mutable_rep()->set_display_name("ignored: not in the mask");
  request.mutable_rep()->set_etag(created->etag());
  request.mutable_update_mask()->add_paths("team");
  absl::StatusOr<v1::Rep> updated = reps_->UpdateRep(request);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->team(), "amer");
  EXPECT_EQ(updated->display_name(), "Ada Lovelace");
  EXPECT_NE(updated->etag(), created->etag());

  // The old etag is stale now; nothing changes.
  request.mutable_rep()->set_team("apac");
  EXPECT_EQ(reps_->UpdateRep(request).status().code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(GetRep(created->name()).team(), "amer");
}

TEST_F(RepDirectoryTest, UpdateValidatesAndChangesNothingOnError) {
  const std::string rep = AddRep("A", 2);
  const v1::Rep before = GetRep(rep);

  v1::UpdateRepRequest request;
  request.mutable_rep()->set_name(rep);
  request.mutable_update_mask()->add_paths("capacity");
  request.mutable_rep()->set_capacity(0);
  EXPECT_TRUE(FailsNaming(reps_->UpdateRep(request).status(),
                          absl::StatusCode::kInvalidArgument, "rep.capacity"));

  request.mutable_update_mask()->set_paths(0, "open_assignments");
  EXPECT_TRUE(FailsNaming(reps_->UpdateRep(request).status(),
                          absl::StatusCode::kInvalidArgument, "update_mask"));

  request.mutable_update_mask()->set_paths(0, "status");
  request.mutable_rep()->set_status(v1::REP_STATUS_UNSPECIFIED);
  EXPECT_TRUE(FailsNaming(reps_->UpdateRep(request).status(),
                          absl::StatusCode::kInvalidArgument, "rep.status"));

  request.mutable_rep()->set_name("reps/missing");
  request.mutable_rep()->set_status(v1::REP_STATUS_AWAY);
  EXPECT_EQ(reps_->UpdateRep(request).status().code(),
            absl::StatusCode::kNotFound);

  const v1::Rep after = GetRep(rep);
  EXPECT_EQ(after.etag(), before.etag());
  EXPECT_EQ(after.capacity(), 2);
  EXPECT_EQ(after.status(), v1::REP_STATUS_AVAILABLE);
}

TEST_F(RepDirectoryTest, EmptyMaskUpdatesEveryField) {
  const std::string rep = AddRep("A", 2);
  v1::UpdateRepRequest request;
  request.mutable_rep()->set_name(rep);
  request.mutable_rep()->set_display_name("B");
  request.mutable_rep()->set_team("apac");
  request.mutable_rep()->set_capacity(4);
  request.mutable_rep()->set_status(v1::REP_STATUS_AWAY);
  absl::StatusOr<v1::Rep> updated = reps_->UpdateRep(request);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->display_name(), "B");
  EXPECT_EQ(updated->email(), "");
  EXPECT_EQ(updated->team(), "apac");
  EXPECT_EQ(updated->capacity(), 4);
  EXPECT_EQ(updated->status(), v1::REP_STATUS_AWAY);
}

}  // namespace
}  // namespace handoff::routing
