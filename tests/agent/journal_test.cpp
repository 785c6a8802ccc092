#include "agent/journal.hpp"

#include "tests/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

using namespace tether::agent;
namespace fs = std::filesystem;

namespace {

OperationRecord sample_record(const std::string& id) {
  OperationRecord record;
  record.id = id;
  record.command = "echo hi";
  record.working_directory = "/tmp";
  record.timeout_seconds = 30;
  record.env_keys = {"API_KEY", "DB_URL"};
  record.state = OperationState::running;
  record.accepted_at = "2026-04-10T14:30:00Z";
  record.boot_id = "boot-1";
  record.process = ProcessIdentity{1234, 1234, 5678};
  return record;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

const std::string id_a = "11111111-1111-4111-8111-111111111111";
const std::string id_b = "22222222-2222-4222-8222-222222222222";

}  // namespace

TEST_CASE("journal records survive a restart with every field intact", "[agent][journal]") {
  tether::testing::TempDir dir("agent-journal");
  {
    Journal journal(dir.path());
    journal.save(sample_record(id_a), Durability::synced);
    auto finished = sample_record(id_b);
    finished.state = OperationState::finished;
    finished.working_directory.reset();
    finished.result = OperationResult{"completed", 3, 42, std::nullopt, 7};
    journal.save(finished, Durability::file_synced);
  }
  Journal reopened(dir.path());
  auto loaded = reopened.load_all();
  CHECK(loaded.problems.empty());
  REQUIRE(loaded.records.size() == 2);
  std::sort(loaded.records.begin(), loaded.records.end(), [](auto& a, auto& b) { return a.id < b.id; });

  const auto& running = loaded.records[0];
  CHECK(running.id == id_a);
  CHECK(running.type == "exec");
  CHECK(running.command == "echo hi");
  CHECK(running.working_directory == std::optional<std::string>("/tmp"));
  CHECK(running.timeout_seconds == 30);
  CHECK(running.env_keys == std::vector<std::string>{"API_KEY", "DB_URL"});
  CHECK(running.state == OperationState::running);
  CHECK(running.boot_id == "boot-1");
  REQUIRE(running.process.has_value());
  CHECK(running.process->pid == 1234);
  CHECK(running.process->start_ticks == 5678u);
  CHECK_FALSE(running.result.has_value());

  const auto& finished = loaded.records[1];
  CHECK(finished.state == OperationState::finished);
  CHECK_FALSE(finished.working_directory.has_value());
  REQUIRE(finished.result.has_value());
  CHECK(finished.result->status == "completed");
  CHECK(finished.result->exit_code == 3);
  CHECK(finished.result->duration_ms == 42);
  CHECK(finished.result->last_seq == 7u);
}

TEST_CASE("journal keeps each operation type's fields and a deploy's resolved commit", "[agent][journal]") {
  tether::testing::TempDir dir("agent-journal");
  const std::string sha = "89abcdef0123456789abcdef0123456789abcdef";
  {
    Journal journal(dir.path());
    auto deploy = sample_record(id_a);
    deploy.type = "deploy";
    deploy.commit_ref = "release/v2";
    deploy.state = OperationState::finished;
    deploy.result = OperationResult{"completed", 0, 900, std::nullopt, 3, sha};
    journal.save(deploy, Durability::synced);
    auto login = sample_record(id_b);
    login.type = "registry_login";
    login.command.clear();
    login.registry_url = "ghcr.io";
    login.username = "ci-bot";
    journal.save(login, Durability::synced);
  }
  auto loaded = Journal(dir.path()).load_all();
  REQUIRE(loaded.records.size() == 2);
  std::sort(loaded.records.begin(), loaded.records.end(), [](auto& a, auto& b) { return a.id < b.id; });
  const auto& deploy = loaded.records[0];
  CHECK(deploy.type == "deploy");
  CHECK(deploy.commit_ref == "release/v2");
  CHECK(deploy.result->resolved_commit == sha);
  CHECK_FALSE(deploy.container_name.has_value());
  const auto& login = loaded.records[1];
  CHECK(login.registry_url == "ghcr.io");
  CHECK(login.username == "ci-bot");
  CHECK_FALSE(login.commit_ref.has_value());
  // Fields of other types are not written at all.
  CHECK(slurp(Journal(dir.path()).record_path(id_b)).find("container_name") == std::string::npos);
}

TEST_CASE("journal save replaces the record atomically and leaves no temporary file", "[agent][journal]") {
  tether::testing::TempDir dir("agent-journal");
  Journal journal(dir.path());
  auto record = sample_record(id_a);
  journal.save(record, Durability::synced);
  record.state = OperationState::finished;
  record.result = OperationResult{"timeout", std::nullopt, 1000, "command exceeded its timeout of 1 s", 0};
  journal.save(record, Durability::unsynced);

  CHECK(fs::exists(journal.record_path(id_a)));
  CHECK_FALSE(fs::exists(journal.record_path(id_a).string() + ".tmp"));
  const auto text = slurp(journal.record_path(id_a));
  CHECK(text.find("\"state\":\"finished\"") != std::string::npos);
  CHECK(decode_record(text).result->exit_code == std::nullopt);
  CHECK((fs::status(journal.directory()).permissions() & fs::perms::others_all) == fs::perms::none);
}

TEST_CASE("journal forget deletes the record and its spool", "[agent][journal]") {
  tether::testing::TempDir dir("agent-journal");
  Journal journal(dir.path());
  journal.save(sample_record(id_a), Durability::synced);
  std::ofstream(journal.spool_path(id_a)) << "x";
  journal.forget(id_a);
  CHECK_FALSE(fs::exists(journal.record_path(id_a)));
  CHECK_FALSE(fs::exists(journal.spool_path(id_a)));
  CHECK(journal.load_all().records.empty());
  CHECK_NOTHROW(journal.forget(id_a));
}

TEST_CASE("journal loading quarantines unreadable records and sweeps leftovers", "[agent][journal]") {
  tether::testing::TempDir dir("agent-journal");
  Journal journal(dir.path());
  journal.save(sample_record(id_a), Durability::synced);
  std::ofstream(journal.record_path(id_b)) << "{not json";
  std::ofstream(journal.directory() / (id_a + ".json.tmp")) << "half";
  const std::string orphan_id = "33333333-3333-4333-8333-333333333333";
  std::ofstream(journal.spool_path(orphan_id)) << "spool of a forgotten operation";

  const auto loaded = journal.load_all();
  REQUIRE(loaded.records.size() == 1);
  CHECK(loaded.records[0].id == id_a);
  REQUIRE(loaded.problems.size() == 1);
  CHECK_THAT(loaded.problems[0], Catch::Contains(id_b));
  CHECK(fs::exists(journal.record_path(id_b).string() + ".corrupt"));
  CHECK_FALSE(fs::exists(journal.record_path(id_b)));
  CHECK_FALSE(fs::exists(journal.directory() / (id_a + ".json.tmp")));
  CHECK_FALSE(fs::exists(journal.spool_path(orphan_id)));
}
