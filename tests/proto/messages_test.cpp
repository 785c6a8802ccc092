#include "proto/messages.hpp"

#include "common/json_fields.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace tether::proto;
using tether::json::FieldError;

namespace {

const std::string op1 = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
const std::string op2 = "9b2e4c1a-0d7f-4e55-8a6b-1c2d3e4f5a6b";

template <class T>
T agent_round_trip(const T& message) {
  const auto decoded = decode_agent_message(encode(AgentMessage{message}));
  REQUIRE(decoded.has_value());
  REQUIRE(std::holds_alternative<T>(*decoded));
  return std::get<T>(*decoded);
}

template <class T>
T controller_round_trip(const T& message) {
  const auto decoded = decode_controller_message(encode(ControllerMessage{message}));
  REQUIRE(decoded.has_value());
  REQUIRE(std::holds_alternative<T>(*decoded));
  return std::get<T>(*decoded);
}

std::string type_of(const std::string& encoded) {
  return std::string(boost::json::parse(encoded).as_object().at("type").as_string());
}

}  // namespace

TEST_CASE("hello survives encode and decode with its journal summary", "[proto]") {
  Hello hello;
  hello.agent_version = "0.1.0";
  hello.hostname = "web-1";
  hello.os = "Debian GNU/Linux 12";
  hello.kernel = "6.1.0";
  hello.arch = "x86_64";
  hello.boot_id = "b1d7c9e0-0000-4000-8000-000000000001";
  hello.capabilities = {"exec"};
  hello.operations = {{op1, false, 0}, {op2, true, 4'000'000'000ull}};

  const std::string encoded = encode(AgentMessage{hello});
  CHECK(type_of(encoded) == "hello");
  const auto decoded = agent_round_trip(hello);
  CHECK(decoded.protocol_version == protocol_version);
  CHECK(decoded.agent_version == "0.1.0");
  CHECK(decoded.hostname == "web-1");
  CHECK(decoded.os == hello.os);
  CHECK(decoded.kernel == "6.1.0");
  CHECK(decoded.arch == "x86_64");
  CHECK(decoded.boot_id == hello.boot_id);
  CHECK(decoded.capabilities == std::vector<std::string>{"exec"});
  REQUIRE(decoded.operations.size() == 2);
  CHECK(decoded.operations[0].operation_id == op1);
  CHECK_FALSE(decoded.operations[0].finished);
  CHECK(decoded.operations[0].last_seq == 0);
  CHECK(decoded.operations[1].operation_id == op2);
  CHECK(decoded.operations[1].finished);
  CHECK(decoded.operations[1].last_seq == 4'000'000'000ull);
}

TEST_CASE("heartbeat, accepted, rejected and started survive encode and decode", "[proto]") {
  CHECK(type_of(encode(AgentMessage{Heartbeat{}})) == "heartbeat");
  agent_round_trip(Heartbeat{});
  CHECK(type_of(encode(AgentMessage{Accepted{op1}})) == "accepted");
  CHECK(agent_round_trip(Accepted{op1}).operation_id == op1);
  CHECK(type_of(encode(AgentMessage{Started{op1}})) == "started");
  CHECK(agent_round_trip(Started{op1}).operation_id == op1);
  const auto rejected = agent_round_trip(Rejected{op2, "unknown operation type"});
  CHECK(type_of(encode(AgentMessage{Rejected{op2, "x"}})) == "rejected");
  CHECK(rejected.operation_id == op2);
  CHECK(rejected.error == "unknown operation type");
}

TEST_CASE("finished survives encode and decode with and without exit code and error", "[proto]") {
  Finished completed{op1, "completed", 3, 4500, std::nullopt, 17};
  CHECK(type_of(encode(AgentMessage{completed})) == "finished");
  auto decoded = agent_round_trip(completed);
  CHECK(decoded.operation_id == op1);
  CHECK(decoded.status == "completed");
  CHECK(decoded.exit_code == 3);
  CHECK(decoded.duration_ms == 4500);
  CHECK_FALSE(decoded.error.has_value());
  CHECK(decoded.last_seq == 17);

  Finished failed{op2, "failed", std::nullopt, 0, std::string("chdir /nope: No such file or directory"), 0};
  decoded = agent_round_trip(failed);
  CHECK(decoded.status == "failed");
  CHECK_FALSE(decoded.exit_code.has_value());
  CHECK(decoded.error == "chdir /nope: No such file or directory");
  CHECK(decoded.last_seq == 0);

  for (const char* status : {"timeout", "canceled"}) {
    CHECK(agent_round_trip(Finished{op1, status, std::nullopt, 1000, std::nullopt, 2}).status == status);
  }
}

TEST_CASE("welcome survives encode and decode with what the controller has stored", "[proto]") {
  Welcome welcome{"6c1e0d5a-1b2c-4d3e-8f40-5a6b7c8d9e0f", 10, {{op1, 12, false}, {op2, 40, true}}};
  CHECK(type_of(encode(ControllerMessage{welcome})) == "welcome");
  const auto decoded = controller_round_trip(welcome);
  CHECK(decoded.server_id == welcome.server_id);
  CHECK(decoded.heartbeat_interval_seconds == 10);
  REQUIRE(decoded.operations.size() == 2);
  CHECK(decoded.operations[0].operation_id == op1);
  CHECK(decoded.operations[0].stored_seq == 12);
  CHECK_FALSE(decoded.operations[0].finished_stored);
  CHECK(decoded.operations[1].stored_seq == 40);
  CHECK(decoded.operations[1].finished_stored);
}

TEST_CASE("dispatch survives encode and decode with env, working directory and UTF-8 text", "[proto]") {
  Dispatch dispatch;
  dispatch.operation_id = op1;
  dispatch.command = "printf '%s' \"$GREETING\" # h\xC3\xA9llo \xE2\x82\xAC";
  dispatch.working_directory = "/opt/app";
  dispatch.env = {{"GREETING", "hi \"there\"\n"}, {"EMPTY", ""}, {"API_KEY", "s3cr\xC3\xA9t"}};
  dispatch.timeout_seconds = 900;
  CHECK(type_of(encode(ControllerMessage{dispatch})) == "dispatch");
  auto decoded = controller_round_trip(dispatch);
  CHECK(decoded.operation_id == op1);
  CHECK(decoded.operation_type == "exec");
  CHECK(decoded.command == dispatch.command);
  CHECK(decoded.working_directory == "/opt/app");
  CHECK(decoded.env == dispatch.env);
  CHECK(decoded.timeout_seconds == 900);

  dispatch.working_directory.reset();
  dispatch.env.clear();
  decoded = controller_round_trip(dispatch);
  CHECK_FALSE(decoded.working_directory.has_value());
  CHECK(decoded.env.empty());
}

TEST_CASE("dispatch of each operation type survives encode and decode with its own fields", "[proto]") {
  Dispatch deploy;
  deploy.operation_id = op1;
  deploy.operation_type = "deploy";
  deploy.command = "docker compose up -d";
  deploy.working_directory = "/srv/app";
  deploy.commit_ref = "release/2026-04";
  deploy.env = {{"FEATURE_FLAG", "true"}};
  auto decoded = controller_round_trip(deploy);
  CHECK(decoded.operation_type == "deploy");
  CHECK(decoded.command == "docker compose up -d");
  CHECK(decoded.working_directory == "/srv/app");
  CHECK(decoded.commit_ref == "release/2026-04");
  CHECK(decoded.env == deploy.env);
  CHECK_FALSE(decoded.container_name.has_value());
  CHECK_FALSE(decoded.password.has_value());

  Dispatch restart;
  restart.operation_id = op1;
  restart.operation_type = "restart";
  restart.container_name = "web_1.blue-2";
  decoded = controller_round_trip(restart);
  CHECK(decoded.operation_type == "restart");
  CHECK(decoded.container_name == "web_1.blue-2");
  CHECK(decoded.command.empty());
  CHECK_FALSE(decoded.commit_ref.has_value());

  Dispatch login;
  login.operation_id = op2;
  login.operation_type = "registry_login";
  login.registry_url = "ghcr.io";
  login.username = "ci-bot";
  login.password = "p\"a$s w\nord\xC3\xA9";
  decoded = controller_round_trip(login);
  CHECK(decoded.operation_type == "registry_login");
  CHECK(decoded.registry_url == "ghcr.io");
  CHECK(decoded.username == "ci-bot");
  CHECK(decoded.password == login.password);

  Dispatch logout;
  logout.operation_id = op2;
  logout.operation_type = "registry_logout";
  logout.registry_url = "registry.example.com:5000";
  decoded = controller_round_trip(logout);
  CHECK(decoded.registry_url == "registry.example.com:5000");
  CHECK_FALSE(decoded.username.has_value());
  CHECK_FALSE(decoded.password.has_value());

  Dispatch reboot;
  reboot.operation_id = op2;
  reboot.operation_type = "reboot";
  reboot.timeout_seconds = 300;
  decoded = controller_round_trip(reboot);
  CHECK(decoded.operation_type == "reboot");
  CHECK(decoded.timeout_seconds == 300);
}

TEST_CASE("dispatch fields of other operation types are left out of the encoded message", "[proto]") {
  Dispatch exec;
  exec.operation_id = op1;
  exec.command = "true";
  const auto encoded = boost::json::parse(encode(ControllerMessage{exec})).as_object();
  for (const char* field : {"commit_ref", "container_name", "registry_url", "username", "password"}) {
    INFO(field);
    CHECK_FALSE(encoded.contains(field));
  }
}

TEST_CASE("finished carries the resolved commit of a deploy and null otherwise", "[proto]") {
  const std::string sha = "0123456789abcdef0123456789abcdef01234567";
  Finished deployed{op1, "completed", 0, 1200, std::nullopt, 5, sha};
  CHECK(agent_round_trip(deployed).resolved_commit == sha);

  Finished plain{op1, "completed", 0, 10, std::nullopt, 1};
  const auto encoded = boost::json::parse(encode(AgentMessage{plain})).as_object();
  REQUIRE(encoded.contains("resolved_commit"));
  CHECK(encoded.at("resolved_commit").is_null());
  CHECK_FALSE(agent_round_trip(plain).resolved_commit.has_value());

  // An older agent leaves the field out entirely.
  const auto without = decode_agent_message(R"({"type":"finished","operation_id":")" + op1 +
                                            R"(","status":"completed","exit_code":0,"last_seq":0})");
  REQUIRE(without.has_value());
  CHECK_FALSE(std::get<Finished>(*without).resolved_commit.has_value());
  CHECK_THROWS_WITH(decode_agent_message(R"({"type":"finished","operation_id":")" + op1 +
                                         R"(","status":"completed","last_seq":0,"resolved_commit":7})"),
                    Catch::Contains("resolved_commit"));
}

TEST_CASE("dispatch without the fields its operation type needs is rejected naming the field", "[proto]") {
  const std::string head = R"({"type":"dispatch","operation_id":")" + op1 + R"(","timeout_seconds":5,)";
  const auto rejects = [&](const std::string& rest, const std::string& message) {
    const auto text = head + rest + "}";
    INFO(text);
    CHECK_THROWS_AS(decode_controller_message(text), FieldError);
    CHECK_THROWS_WITH(decode_controller_message(text), Catch::Contains(message));
  };
  rejects(R"("operation_type":"deploy","command":"up","working_directory":"/srv/app")",
          "commit_ref: field required for deploy");
  rejects(R"("operation_type":"deploy","command":"up","commit_ref":"main")", "working_directory: field required for deploy");
  rejects(R"("operation_type":"deploy","working_directory":"/srv/app","commit_ref":"main")", "command");
  rejects(R"("operation_type":"deploy","command":"up","working_directory":"/srv/app","commit_ref":3)", "commit_ref");
  rejects(R"("operation_type":"restart")", "container_name: field required for restart");
  rejects(R"("operation_type":"registry_login","username":"u","password":"p")",
          "registry_url: field required for registry_login");
  rejects(R"("operation_type":"registry_login","registry_url":"ghcr.io","password":"p")",
          "username: field required for registry_login");
  rejects(R"("operation_type":"registry_login","registry_url":"ghcr.io","username":"u")",
          "password: field required for registry_login");
  rejects(R"("operation_type":"registry_logout")", "registry_url: field required for registry_logout");

  // What each type needs is enough: restart, reboot and logout carry no command.
  for (const std::string rest : {R"("operation_type":"restart","container_name":"web")", R"("operation_type":"reboot")",
                                 R"("operation_type":"registry_logout","registry_url":"ghcr.io")"}) {
    INFO(rest);
    CHECK(decode_controller_message(head + rest + "}").has_value());
  }
}

TEST_CASE("ack, finished_ack and cancel survive encode and decode", "[proto]") {
  CHECK(type_of(encode(ControllerMessage{Ack{op1, 9}})) == "ack");
  const auto ack = controller_round_trip(Ack{op1, 9});
  CHECK(ack.operation_id == op1);
  CHECK(ack.seq == 9);
  CHECK(type_of(encode(ControllerMessage{FinishedAck{op2}})) == "finished_ack");
  CHECK(controller_round_trip(FinishedAck{op2}).operation_id == op2);
  CHECK(type_of(encode(ControllerMessage{Cancel{op1}})) == "cancel");
  CHECK(controller_round_trip(Cancel{op1}).operation_id == op1);
}

TEST_CASE("a message type the reader does not know decodes to nullopt", "[proto]") {
  CHECK_FALSE(decode_agent_message(R"({"type":"telemetry","cpu":0.5})").has_value());
  CHECK_FALSE(decode_controller_message(R"({"type":"shutdown"})").has_value());
  // Each direction knows only its own peer's messages.
  CHECK_FALSE(decode_agent_message(encode(ControllerMessage{Cancel{op1}})).has_value());
  CHECK_FALSE(decode_controller_message(encode(AgentMessage{Started{op1}})).has_value());
}

TEST_CASE("text that is not a JSON object with a type is rejected", "[proto]") {
  CHECK_THROWS_WITH(decode_agent_message("{not json"), Catch::Contains("not valid JSON"));
  CHECK_THROWS_WITH(decode_controller_message("[1]"), Catch::Contains("must be a JSON object"));
  CHECK_THROWS_WITH(decode_agent_message(R"({"operation_id":"x"})"), Catch::StartsWith("type:"));
  CHECK_THROWS_WITH(decode_controller_message(R"({"type":7})"), Catch::StartsWith("type:"));
}

TEST_CASE("malformed agent messages are rejected with the field at fault named", "[proto]") {
  const auto rejects = [](const std::string& text, const std::string& field) {
    INFO(text);
    CHECK_THROWS_AS(decode_agent_message(text), FieldError);
    CHECK_THROWS_WITH(decode_agent_message(text), Catch::Contains(field));
  };
  rejects(R"({"type":"accepted"})", "operation_id");
  rejects(R"({"type":"accepted","operation_id":"not-a-uuid"})", "operation_id");
  rejects(R"({"type":"started","operation_id":42})", "operation_id");
  rejects(R"({"type":"rejected","operation_id":")" + op1 + R"("})", "error");
  rejects(R"({"type":"finished","operation_id":")" + op1 + R"(","status":"exploded","last_seq":1})", "status");
  rejects(R"({"type":"finished","operation_id":")" + op1 + R"(","status":"completed"})", "last_seq");
  rejects(R"({"type":"finished","operation_id":")" + op1 + R"(","status":"completed","last_seq":-1})", "last_seq");
  rejects(R"({"type":"finished","operation_id":")" + op1 + R"(","status":"completed","last_seq":1,"exit_code":"3"})",
          "exit_code");
  rejects(R"({"type":"hello"})", "protocol_version");
  rejects(R"({"type":"hello","protocol_version":1,"capabilities":["exec",5]})", "capabilities");
  rejects(R"({"type":"hello","protocol_version":1,"operations":[3]})", "operations");
  rejects(R"({"type":"hello","protocol_version":1,"operations":[{"operation_id":")" + op1 +
              R"(","state":"paused","last_seq":0}]})",
          "state");
  rejects(R"({"type":"hello","protocol_version":1,"operations":[{"state":"running","last_seq":0}]})", "operation_id");
}

TEST_CASE("malformed controller messages are rejected with the field at fault named", "[proto]") {
  const auto rejects = [](const std::string& text, const std::string& field) {
    INFO(text);
    CHECK_THROWS_AS(decode_controller_message(text), FieldError);
    CHECK_THROWS_WITH(decode_controller_message(text), Catch::Contains(field));
  };
  const std::string id = R"("operation_id":")" + op1 + R"(")";
  rejects(R"({"type":"dispatch",)" + id + R"(,"operation_type":"exec","timeout_seconds":5})", "command");
  rejects(R"({"type":"dispatch",)" + id + R"(,"command":"true","timeout_seconds":5})", "operation_type");
  rejects(R"({"type":"dispatch",)" + id + R"(,"operation_type":"exec","command":"true"})", "timeout_seconds");
  rejects(R"({"type":"dispatch",)" + id + R"(,"operation_type":"exec","command":"true","timeout_seconds":0})",
          "timeout_seconds");
  rejects(R"({"type":"dispatch",)" + id +
              R"(,"operation_type":"exec","command":"true","timeout_seconds":5,"env":{"PORT":8080}})",
          "env.PORT");
  rejects(R"({"type":"dispatch",)" + id + R"(,"operation_type":"exec","command":"true","timeout_seconds":5,"env":[]})",
          "env");
  rejects(R"({"type":"dispatch",)" + id +
              R"(,"operation_type":"exec","command":"true","timeout_seconds":5,"working_directory":7})",
          "working_directory");
  rejects(R"({"type":"welcome","server_id":"s","heartbeat_interval_seconds":0})", "heartbeat_interval_seconds");
  rejects(R"({"type":"welcome","heartbeat_interval_seconds":10})", "server_id");
  rejects(R"({"type":"welcome","server_id":"s","heartbeat_interval_seconds":10,"operations":[{)" + id +
              R"(,"stored_seq":"3"}]})",
          "stored_seq");
  rejects(R"({"type":"ack",)" + id + R"(,"seq":"9"})", "seq");
  rejects(R"({"type":"ack",)" + id + "}", "seq");
  rejects(R"({"type":"cancel","operation_id":"3f2504e0"})", "operation_id");
}

TEST_CASE("only the four terminal statuses count as finished", "[proto]") {
  for (const char* status : {"completed", "timeout", "failed", "canceled"}) CHECK(is_finished_status(status));
  for (const char* status : {"running", "queued", "dispatched", "", "Completed"}) CHECK_FALSE(is_finished_status(status));
}

TEST_CASE("a hello past its bounds or with control characters is rejected naming the field", "[proto][hello]") {
  const auto hello_with = [](const std::string& field, const std::string& value) {
    Hello hello;
    boost::json::object obj = boost::json::parse(encode(AgentMessage{hello})).as_object();
    obj[field] = value;
    return boost::json::serialize(obj);
  };
  for (const auto& [field, max] : std::vector<std::pair<std::string, std::size_t>>{
           {"agent_version", 64}, {"hostname", 255}, {"os", 256}, {"kernel", 256}, {"arch", 64}, {"boot_id", 64}}) {
    INFO(field);
    CHECK_NOTHROW(decode_agent_message(hello_with(field, std::string(max, 'x'))));
    CHECK_THROWS_WITH(decode_agent_message(hello_with(field, std::string(max + 1, 'x'))), Catch::Contains(field));
  }
  CHECK_THROWS_WITH(decode_agent_message(hello_with("hostname", "web-1\n2026-12-01 info forged line")),
                    Catch::Contains("hostname") && Catch::Contains("control"));

  Hello many;
  many.capabilities.assign(33, "exec");
  CHECK_THROWS_WITH(decode_agent_message(encode(AgentMessage{many})), Catch::Contains("capabilities"));
  Hello journal;
  journal.operations.assign(10001, JournalEntrySummary{op1, false, 0});
  CHECK_THROWS_WITH(decode_agent_message(encode(AgentMessage{journal})), Catch::Contains("operations"));
  journal.operations.resize(10000);
  CHECK_NOTHROW(decode_agent_message(encode(AgentMessage{journal})));
}

TEST_CASE("an agent fits its hello to the bounds before sending it", "[proto][hello]") {
  Hello hello;
  hello.hostname = "odd\thost";
  hello.os = std::string(255, 'x') + "\xc3\xa9";  // a two-byte character across the 256-byte bound
  hello.kernel = std::string(300, 'k');
  fit_to_limits(hello);
  CHECK(hello.hostname == "odd host");
  CHECK(hello.os == std::string(255, 'x'));
  CHECK(hello.kernel.size() == 256);
  CHECK_NOTHROW(decode_agent_message(encode(AgentMessage{hello})));
}

TEST_CASE("integer fields wider than an int are refused, never narrowed", "[proto]") {
  // 4294967297 narrowed to int is 1: a hello of that "version" must not pass as protocol 1.
  CHECK_THROWS_WITH(decode_agent_message(R"({"type":"hello","protocol_version":4294967297})"),
                    Catch::Contains("protocol_version"));
  CHECK_THROWS_WITH(decode_agent_message(R"({"type":"finished","operation_id":")" + op1 +
                                         R"(","status":"completed","last_seq":0,"exit_code":4294967296})"),
                    Catch::Contains("exit_code"));
  CHECK_THROWS_WITH(decode_controller_message(R"({"type":"welcome","server_id":"s","heartbeat_interval_seconds":4294967306})"),
                    Catch::Contains("heartbeat_interval_seconds"));
}
