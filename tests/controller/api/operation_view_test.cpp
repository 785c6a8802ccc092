#include "controller/api/v1/operation_view.hpp"

#include <catch2/catch.hpp>

using namespace tether;

namespace {
store::OperationRecord record_with_status(const std::string& status) {
  store::OperationRecord r;
  r.id = "11111111-2222-3333-4444-555555555555";
  r.type = "exec";
  r.server_id = "66666666-7777-8888-9999-000000000000";
  r.server_name = "prod-1";
  r.status = status;
  r.created_at = "2026-04-10T14:30:00Z";
  return r;
}
}  // namespace

TEST_CASE("v1 shows only running, completed, failed and timeout", "[v1][view]") {
  CHECK(api::v1::public_status("queued") == "running");
  CHECK(api::v1::public_status("dispatched") == "running");
  CHECK(api::v1::public_status("running") == "running");
  CHECK(api::v1::public_status("completed") == "completed");
  CHECK(api::v1::public_status("timeout") == "timeout");
  CHECK(api::v1::public_status("failed") == "failed");
  CHECK(api::v1::public_status("canceled") == "failed");
}

TEST_CASE("an unfinished exec answers only its id and running", "[v1][view]") {
  const auto answer = api::v1::exec_answer(record_with_status("dispatched"));
  CHECK(answer.size() == 2);
  CHECK(answer.at("status") == "running");
  CHECK(answer.at("operation_id") == "11111111-2222-3333-4444-555555555555");
}

TEST_CASE("a finished exec answers the full result in the seed's shape", "[v1][view]") {
  auto record = record_with_status("completed");
  record.exit_code = 3;
  record.duration_ms = 12;
  record.stdout_data = "hi\n";
  record.stderr_data = "err\n";
  const auto answer = api::v1::exec_answer(record);
  CHECK(answer.at("status") == "completed");
  CHECK(answer.at("exit_code") == 3);
  CHECK(answer.at("stdout") == "hi\n");
  CHECK(answer.at("stderr") == "err\n");
  CHECK(answer.at("duration_ms") == 12);
  CHECK_FALSE(answer.contains("error"));
}

TEST_CASE("a canceled operation reads as failed with an error saying so", "[v1][view]") {
  const auto view = api::v1::operation_view(record_with_status("canceled"));
  CHECK(view.at("status") == "failed");
  CHECK_THAT(std::string(view.at("error").as_string()), Catch::Contains("canceled"));
  CHECK(view.at("result").is_object());
}

TEST_CASE("the poll view has the seed's fields and a null result while running", "[v1][view]") {
  const auto view = api::v1::operation_view(record_with_status("running"));
  for (const char* field : {"operation_id", "operation_type", "server_id", "server_name", "status", "result", "run_id",
                            "started_at", "completed_at"}) {
    CHECK(view.contains(field));
  }
  CHECK(view.at("result").is_null());
  CHECK(view.at("server_name") == "prod-1");
}

TEST_CASE("output that is not UTF-8 is rendered as valid JSON text", "[v1][view]") {
  auto record = record_with_status("completed");
  record.stdout_data = std::string("ok\xff\xfe", 4);
  const auto answer = api::v1::exec_answer(record);
  CHECK(answer.at("stdout") == "ok\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST_CASE("results say whether stdout and stderr were cut at the stored limit", "[v1][view]") {
  auto record = record_with_status("completed");
  record.stdout_data = std::string(1024, 'x');
  record.stdout_truncated = true;
  const auto answer = api::v1::exec_answer(record);
  CHECK(answer.at("stdout_truncated") == true);
  CHECK(answer.at("stderr_truncated") == false);
  const auto view = api::v1::operation_view(record);
  const auto& result = view.at("result").as_object();
  CHECK(result.at("stdout_truncated") == true);
  CHECK(result.at("stderr_truncated") == false);
  record.stdout_truncated = false;
  record.stderr_truncated = true;
  CHECK(api::v1::exec_answer(record).at("stderr_truncated") == true);
  CHECK(api::v1::exec_answer(record).at("stdout_truncated") == false);
}
