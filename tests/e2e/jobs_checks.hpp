#pragma once
// Assertions shared by the end-to-end tests of jobs, schedules and runs (Catch2, so that they
// report where they were called from).
#include "tests/e2e/e2e_checks.hpp"
#include "tests/support/automation_api.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace tether::e2e {

using testing::array_at;
using testing::AutomationApi;
using testing::epoch_micros;
using testing::object_at;
using testing::objects;
using testing::optional_string;

// The error shape of the jobs and runs routes: {"error": "...", "detail": "..."}, both the same
// non-empty text, as JSON. Returns the detail.
inline std::string check_jobs_error(const http::Response& response, unsigned expected_status) {
  INFO(describe(response));
  CHECK(response.status == expected_status);
  CHECK(response.header("Content-Type").value_or("").rfind("application/json", 0) == 0);
  boost::json::object body;
  REQUIRE_NOTHROW(body = json_object(response));
  const auto* error = body.if_contains("error");
  const auto* detail = body.if_contains("detail");
  REQUIRE(error != nullptr);
  REQUIRE(detail != nullptr);
  REQUIRE(error->is_string());
  REQUIRE(detail->is_string());
  CHECK_FALSE(detail->as_string().empty());
  CHECK(error->as_string() == detail->as_string());
  return std::string(detail->as_string());
}

// A 422 whose detail names `field` (e.g. "schedule.expr: minute 61 is out of range 0-59").
inline void check_names_field(const http::Response& response, const std::string& field) {
  INFO("the detail must name " << field);
  const auto detail = check_jobs_error(response, 422);
  CHECK(detail.find(field) != std::string::npos);
}

// The operations of a run as GET /api/automation/runs/{id} shows them.
inline std::vector<boost::json::object> run_operations(const boost::json::object& run) {
  INFO(boost::json::serialize(run));
  REQUIRE(run.contains("operations"));
  REQUIRE(run.at("operations").is_array());
  return objects(run.at("operations").as_array());
}

// run["targets"][key] (total, pending, running, succeeded, failed, canceled).
inline std::int64_t target_count(const boost::json::object& run, std::string_view key) {
  INFO(boost::json::serialize(run));
  REQUIRE(run.contains("targets"));
  REQUIRE(run.at("targets").is_object());
  return int_field(run.at("targets").as_object(), key);
}

// Every field of `sent` is in `returned` with the same value; objects are compared the same way
// member by member (the answer may carry more members, e.g. a schedule's unused fields as null).
inline void check_echoed(const boost::json::value& sent, const boost::json::value& returned, const std::string& path) {
  INFO("field " << path << ": sent " << boost::json::serialize(sent) << ", returned "
                << boost::json::serialize(returned));
  if (sent.is_object()) {
    REQUIRE(returned.is_object());
    for (const auto& [key, value] : sent.as_object()) {
      const auto* got = returned.as_object().if_contains(key);
      INFO("member " << path << "." << std::string(key));
      REQUIRE(got != nullptr);
      check_echoed(value, *got, path + "." + std::string(key));
    }
  } else {
    CHECK(sent == returned);
  }
}

// GET /api/operations/{id} (operator view) with the client's key.
inline boost::json::object operation_view(AutomationApi& api, const std::string& operation_id) {
  const auto response = api.call("GET", "/api/operations/" + operation_id);
  INFO(describe(response));
  REQUIRE(response.status == 200);
  return json_object(response);
}

// The stdout an operation's operator view shows.
inline std::string operation_stdout(AutomationApi& api, const std::string& operation_id) {
  const auto view = operation_view(api, operation_id);
  INFO(boost::json::serialize(view));
  REQUIRE(view.contains("result"));
  REQUIRE(view.at("result").is_object());
  return string_field(view.at("result").as_object(), "stdout");
}

// The runs of a list sorted by scheduled_at (oldest first), with their scheduled_at in µs.
inline std::vector<std::pair<std::int64_t, boost::json::object>> by_scheduled_at(const boost::json::array& runs) {
  std::vector<std::pair<std::int64_t, boost::json::object>> out;
  for (const auto& run : objects(runs)) {
    INFO(boost::json::serialize(run));
    REQUIRE(run.contains("scheduled_at"));
    out.emplace_back(epoch_micros(run.at("scheduled_at")), run);
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

// The number of runs that share a scheduled_at, for each scheduled_at held by more than one.
// Keyed by the instant (µs since the epoch), so that two spellings of one instant count as one.
inline std::map<std::int64_t, int> repeated_scheduled_at(const boost::json::array& runs) {
  std::map<std::int64_t, int> counts;
  for (const auto& run : objects(runs)) counts[epoch_micros(run.at("scheduled_at"))]++;
  std::map<std::int64_t, int> repeated;
  for (const auto& [at, count] : counts) {
    if (count > 1) repeated[at] = count;
  }
  return repeated;
}

}  // namespace tether::e2e
