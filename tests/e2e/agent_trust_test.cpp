// Issue 8, point 1: an agent speaks only for its own server. A second connection holding server
// X's token forges every kind of report for an operation running on server Y (output, accepted,
// started, rejected, finished, and a hello listing it). Each closes that connection and is recorded
// as a security event; Y's operation keeps exactly what its real agent reports.
#include "tests/e2e/e2e_checks.hpp"

#include "proto/messages.hpp"
#include "proto/output_frame.hpp"
#include "tests/support/fake_agent.hpp"
#include "tests/support/script_file.hpp"
#include "tests/support/wait.hpp"

#include <fmt/format.h>

#include <pqxx/pqxx>

#include <fstream>
#include <functional>

using namespace tether;
using namespace std::chrono_literals;

namespace {

struct Forgery {
  const char* what;
  // Sends the forged report on a connection that has been welcomed.
  std::function<void(testing::FakeAgent&, const std::string& operation_id)> send;
};

boost::json::object operator_view(testing::TetherStack& stack, const std::string& operation_id) {
  auto response = stack.admin("GET", "/api/operations/" + operation_id);
  INFO(testing::describe(response));
  REQUIRE(response.status == 200);
  return e2e::json_object(response);
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t count = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++count;
  return count;
}

}  // namespace

TEST_CASE("a connection with one server's token cannot report on another server's operation", "[e2e][trust]") {
  testing::TestDatabase database;
  testing::StackOptions options;
  options.agents = 2;
  options.sync_wait_cap_seconds = 1;
  testing::TetherStack stack(database, options);
  const auto key = stack.create_automation_key();
  const auto& victim = stack.agent(1);
  const auto intruder_token = stack.agent(0).token;

  // Y's real command: prints one line, waits for a file, exits 3.
  const auto release = stack.dir() / "release";
  auto client = stack.client();
  auto body = e2e::exec_body(victim.server_id,
                             fmt::format("echo real; i=0; while [ ! -e {} ] && [ $i -lt 600 ]; do sleep 0.1; "
                                         "i=$((i+1)); done; exit 3",
                                         testing::shell_quote(release.string())));
  body["timeout_seconds"] = 120;
  const auto started = testing::exec(client, key.key, body);
  INFO(testing::describe(started));
  REQUIRE(started.status == 200);
  const auto operation_id = e2e::string_field(e2e::json_object(started), "operation_id");
  // Its first chunk ("real\n", seq 1) is stored: a forged chunk 2 would continue the sequence.
  pqxx::connection db(database.url());
  const auto stored_seq = [&] {
    pqxx::nontransaction read(db);
    return read.exec_params1("SELECT output_seq FROM operations WHERE id = $1", operation_id)[0].as<int>();
  };
  REQUIRE(testing::wait_until([&] { return stored_seq() == 1; }, 20s));

  // X's own agent stops, so that the forging connection is never replaced by it mid-test.
  stack.stop_agent(0);

  const std::vector<Forgery> forgeries = {
      {"output frame",
       [](auto& socket, const auto& id) {
         socket.send_output(proto::encode_output_frame(proto::Stream::stdout_stream, id, 2, "forged output\n"));
       }},
      {"accepted", [](auto& socket, const auto& id) { socket.send(proto::Accepted{id}); }},
      {"started", [](auto& socket, const auto& id) { socket.send(proto::Started{id}); }},
      {"rejected",
       [](auto& socket, const auto& id) {
         socket.send(proto::Rejected{id, "forged rejection"});
       }},
      {"finished",
       [](auto& socket, const auto& id) {
         socket.send(proto::Finished{id, "completed", 0, 1, std::nullopt, 1, std::nullopt});
       }},
  };
  for (const auto& forgery : forgeries) {
    INFO("forged " << forgery.what);
    testing::FakeAgent socket(stack.port(), intruder_token, testing::fake_hello());  // welcomed
    forgery.send(socket, operation_id);
    CHECK(socket.wait_closed(10s));
  }

  {
    INFO("a hello listing the other server's operation is refused and told nothing");
    CHECK_THROWS_WITH(testing::FakeAgent(stack.port(), intruder_token, testing::fake_hello({{operation_id, false, 0}})),
                      Catch::Contains("did not answer the hello with a welcome"));
  }

  // Y's operation is untouched: still running, only its real output.
  CHECK(e2e::string_field(operator_view(stack, operation_id), "status") == "running");
  CHECK(stored_seq() == 1);

  std::ofstream(release).put('\n');
  const auto ended = testing::wait_for_operation(client, key.key, operation_id, 30s);
  INFO(boost::json::serialize(ended) << "\n" << stack.controller_log());
  CHECK(e2e::string_field(ended, "status") == "completed");
  const auto& result = ended.at("result").as_object();
  CHECK(result.at("exit_code") == 3);
  CHECK(result.at("stdout") == "real\n");

  // Six refusals, each a security event in the log and in the audit.
  CHECK(count_of(stack.controller_log(), "event=security_foreign_operation") == forgeries.size() + 1);
  auto audit = stack.admin("GET", "/api/audit?action=agent.foreign_operation&limit=50");
  REQUIRE(audit.status == 200);
  const auto entries = e2e::json_object(audit).at("entries").as_array();
  CHECK(entries.size() == forgeries.size() + 1);
}
