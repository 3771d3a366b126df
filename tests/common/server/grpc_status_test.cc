#include "common/server/grpc_status.h"

#include <gtest/gtest.h>

namespace handoff {
namespace {

TEST(GrpcStatusTest, OkBothWays) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(GrpcStatusTest, EveryCodeMapsOneToOneAndKeepsMessage) {
  for (int code = 1; code <= 16; ++code) {
    SCOPED_TRACE(code);
    const absl::Status status(static_cast<absl::StatusCode>(code),
                              "email: must contain @");
    const grpc::Status converted = ToGrpcStatus(status);
    EXPECT_EQ(static_cast<int>(converted.error_code()), code);
    EXPECT_EQ(converted.error_message(), "email: must contain @");
    EXPECT_EQ(FromGrpcStatus(converted), status);
  }
  EXPECT_EQ(ToGrpcStatus(absl::InvalidArgumentError("x")).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(
      FromGrpcStatus(grpc::Status(grpc::StatusCode::ABORTED, "etag")).code(),
      absl::StatusCode::kAborted);
}

}  // namespace
}  // namespace handoff
