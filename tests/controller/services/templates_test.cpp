// The template library (controller/services/templates.hpp): every template, applied with good
// parameters, makes a job the jobs parser accepts; every missing required parameter and every bad
// value is refused naming the parameter; a value reaches a command only single-quoted, so that
// spaces and quotes stay one word, and `;`, `$(` and the like are refused by every rule.
#include "controller/api/automation/job_input.hpp"
#include "controller/http/responses.hpp"
#include "controller/services/service_error.hpp"
#include "controller/services/templates.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <regex>
#include <set>

using namespace tether;
namespace templates = services::templates;
using api::automation::parse_job;

namespace {

constexpr const char* server = "0d6c1a8e-2f3b-4c5d-8e9f-0a1b2c3d4e5f";

// Good parameters for each template, and what the job's operation params must then hold: for an
// exec, lines of its command; otherwise the params themselves.
struct Sample {
  const char* parameters;
  std::vector<std::string> command_lines;  // exec
  const char* params;                      // the other types: operation.params as JSON
};

const std::map<std::string, Sample>& samples() {
  static const std::map<std::string, Sample> out{
      {"disk-usage-report",
       {R"({"path":"/var/lib/docker","threshold_percent":80,"top":"5"})",
        {"path='/var/lib/docker'", "threshold='80'", "top='5'"},
        nullptr}},
      {"prune-container-images",
       {R"({"older_than":"3d","images":"unused","runtime":"podman"})",
        {"runtime='podman'", "until='72h'", R"("$runtime" image prune --force --all --filter "until=$until")"},
        nullptr}},
      {"apt-upgrade-reboot-if-required",
       {R"({"upgrade":"dist-upgrade","reboot":"if-required","reboot_delay_minutes":5,)"
        R"j("reboot_message":"It's the weekly patch reboot (planned)"})j",
        {"upgrade='dist-upgrade'", "reboot='if-required'", "delay='5'",
         R"(message='It'\''s the weekly patch reboot (planned)')", R"(shutdown -r "+$delay" "$message")"},
        nullptr}},
      {"restart-container", {R"({"container":"shop-web-1"})", {}, R"({"container_name":"shop-web-1"})"}},
      {"weekly-reboot", {R"({"boot_timeout_seconds":600})", {}, R"({"timeout_seconds":600})"}},
      {"registry-login",
       {R"({"credential_id":"0D6C1A8E-2F3B-4C5D-8E9F-0A1B2C3D4E5F"})",
        {},
        R"({"credential_id":"0d6c1a8e-2f3b-4c5d-8e9f-0a1b2c3d4e5f"})"}},
      {"postgres-dump",
       {R"({"database":"shop","output_dir":"/srv/backups/pg","keep_days":14,"os_user":"postgres",)"
        R"("host":"db.internal","port":5433,"username":"backup"})",
        {"database='shop'", "dir='/srv/backups/pg'", "keep='14'", "os_user='postgres'", "host='db.internal'",
         "port='5433'", "username='backup'"},
        nullptr}},
      {"tls-certificate-expiry",
       {R"({"endpoint":"example.com:443","server_name":"www.example.com","warn_days":30})",
        {"endpoint='example.com:443'", "server_name='www.example.com'", "warn_days='30'"},
        nullptr}},
      {"systemd-unit-health",
       {R"({"units":"nginx.service, postgresql@15-main.service  redis","restart":"yes"})",
        {"units='nginx.service postgresql@15-main.service redis'", "restart='yes'"},
        nullptr}},
      {"journal-vacuum",
       {R"({"max_age":"14d","max_size":"500M"})", {"max_age='14d'", "max_size='500M'"}, nullptr}},
      {"deploy-application",
       {R"({"application_id":"9b2f6c1e-0a4d-4e8f-9c3b-1d2e3f4a5b6c","commit_ref":"release/2.0","timeout_seconds":600})",
        {},
        R"({"application_id":"9b2f6c1e-0a4d-4e8f-9c3b-1d2e3f4a5b6c","commit_ref":"release/2.0",)"
        R"("timeout_seconds":600})"}},
  };
  return out;
}

boost::json::object parse(const std::string& text) { return boost::json::parse(text).as_object(); }

boost::json::object apply_body(const boost::json::object& parameters) {
  return {{"targets", {{"server_ids", boost::json::array{server}}}}, {"parameters", parameters}};
}

const templates::Template& get(const std::string& id) {
  const auto* tmpl = templates::find(id);
  REQUIRE(tmpl != nullptr);
  return *tmpl;
}

// The 422 detail of applying `body`, or "" when the job body is made.
std::string refusal(const templates::Template& tmpl, const boost::json::object& body) {
  try {
    templates::job_body_from_template(tmpl, body);
    return "";
  } catch (const services::ServiceError& e) {
    CHECK(e.refusal() == services::Refusal::invalid);
    return e.what();
  }
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  const auto lines = lines_of(text);
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

// What /bin/sh prints for `script`.
std::string sh_output(const std::string& script) {
  const std::string command = "/bin/sh -c " + templates::shell_quote(script);
  std::FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  std::array<char, 256> buffer{};
  while (auto n = std::fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
  ::pclose(pipe);
  return out;
}

// Whether /bin/sh reads `script` without a syntax error (`sh -n`: nothing is run).
bool sh_syntax_ok(const std::string& script) {
  const std::string command = "/bin/sh -n -c " + templates::shell_quote(script) + " 2>&1";
  std::FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 256> buffer{};
  std::string errors;
  while (auto n = std::fread(buffer.data(), 1, buffer.size(), pipe)) errors.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  INFO(errors);
  return status == 0 && errors.empty();
}

// Values no string rule may accept: shell syntax that would end a quote or run something.
const std::vector<std::string>& hostile_strings() {
  static const std::vector<std::string> out{
      "a;b",     "$(id)",   "`id`",        "x\ny",  "\"quoted\"", "back\\slash", "a|b",
      "a&b",     "a>b",     "a<b",         "*",     "a\tb",       "$HOME",       "-rf",
      "a\x01b",  std::string(2000, 'a')};
  return out;
}

}  // namespace

TEST_CASE("the library holds the documented templates, each described and with kebab-case ids", "[templates]") {
  const std::set<std::string> documented{"disk-usage-report",      "prune-container-images",
                                         "apt-upgrade-reboot-if-required", "restart-container",
                                         "weekly-reboot",          "registry-login",
                                         "postgres-dump",          "tls-certificate-expiry",
                                         "systemd-unit-health",    "journal-vacuum",
                                         "deploy-application"};
  std::set<std::string> ids;
  const std::regex kebab("[a-z0-9]+(-[a-z0-9]+)*");
  for (const auto& tmpl : templates::list()) {
    INFO(tmpl.id);
    CHECK(std::regex_match(tmpl.id, kebab));
    CHECK(ids.insert(tmpl.id).second);
    CHECK_FALSE(tmpl.name.empty());
    CHECK_FALSE(tmpl.description.empty());
    CHECK_FALSE(tmpl.category.empty());
    CHECK(tmpl.icon.rfind("fa-", 0) == 0);
    CHECK(templates::find(tmpl.id) == &tmpl);
    for (const auto& parameter : tmpl.parameters) {
      INFO(parameter.name);
      CHECK_FALSE(parameter.description.empty());
      CHECK_FALSE((parameter.required && parameter.default_value));
    }
  }
  CHECK(templates::list().size() >= 11);
  for (const auto& id : documented) CHECK(ids.count(id) == 1);
  CHECK(templates::find("no-such-template") == nullptr);
}

TEST_CASE("every template applied with good parameters makes a job the jobs parser accepts", "[templates]") {
  for (const auto& tmpl : templates::list()) {
    INFO(tmpl.id);
    REQUIRE(samples().count(tmpl.id) == 1);
    const auto& sample = samples().at(tmpl.id);
    const auto body = templates::job_body_from_template(tmpl, apply_body(parse(sample.parameters)));
    INFO(boost::json::serialize(body));
    services::JobSpec spec;
    REQUIRE_NOTHROW(spec = parse_job(body));
    CHECK(spec.name == tmpl.name);
    CHECK(spec.run.operation.type == tmpl.operation_type);
    CHECK(spec.run.targets.server_ids == std::vector<std::string>{server});
    CHECK(spec.schedule.has_value() == tmpl.default_schedule.has_value());
    if (tmpl.default_schedule) CHECK(spec.schedule->expr == *tmpl.default_schedule);
    const auto& params = body.at("operation").at("params").as_object();
    if (tmpl.operation_type == "exec") {
      const auto& command = spec.run.operation.command;
      CHECK(sh_syntax_ok(command));
      for (const auto& line : sample.command_lines) {
        INFO("line " << line << " in\n" << command);
        CHECK(has_line(command, line));
      }
    } else {
      REQUIRE(sample.params != nullptr);
      CHECK(params == parse(sample.params));
    }
  }
}

TEST_CASE("only the required parameters are needed: the defaults fill in the rest and pass their own rules",
          "[templates]") {
  for (const auto& tmpl : templates::list()) {
    INFO(tmpl.id);
    const auto good = parse(samples().at(tmpl.id).parameters);
    boost::json::object minimal;
    for (const auto& parameter : tmpl.parameters) {
      if (parameter.required) minimal[parameter.name] = good.at(parameter.name);
    }
    const auto body = templates::job_body_from_template(tmpl, apply_body(minimal));
    INFO(boost::json::serialize(body));
    CHECK_NOTHROW(parse_job(body));
    // Each default is accepted when given explicitly, too.
    for (const auto& parameter : tmpl.parameters) {
      if (!parameter.default_value) continue;
      auto explicit_default = minimal;
      explicit_default[parameter.name] = *parameter.default_value;
      CHECK(refusal(tmpl, apply_body(explicit_default)) == "");
    }
  }
  const auto disk = templates::job_body_from_template(get("disk-usage-report"), apply_body({}));
  const std::string command(disk.at("operation").at("params").at("command").as_string());
  CHECK(has_line(command, "path='/'"));
  CHECK(has_line(command, "threshold='90'"));
  CHECK(has_line(command, "top='10'"));
}

TEST_CASE("each missing required parameter is refused naming it", "[templates]") {
  int required_count = 0;
  for (const auto& tmpl : templates::list()) {
    const auto good = parse(samples().at(tmpl.id).parameters);
    for (const auto& parameter : tmpl.parameters) {
      if (!parameter.required) continue;
      ++required_count;
      INFO(tmpl.id << " without " << parameter.name);
      for (const boost::json::value& absent : {boost::json::value(nullptr), boost::json::value("")}) {
        auto without = good;
        without.erase(parameter.name);
        CHECK(refusal(tmpl, apply_body(without)) == "parameters." + parameter.name + ": is required");
        without[parameter.name] = absent;
        CHECK(refusal(tmpl, apply_body(without)) == "parameters." + parameter.name + ": is required");
      }
    }
  }
  CHECK(required_count >= 5);
  // No parameters at all: every required one is named.
  const auto detail = refusal(get("postgres-dump"), {{"targets", {{"tags", {"db"}}}}});
  CHECK(detail == "parameters.database: is required");
}

TEST_CASE("a value that breaks its parameter's rule is refused naming the parameter; no rule takes ; or $(",
          "[templates]") {
  for (const auto& tmpl : templates::list()) {
    const auto good = parse(samples().at(tmpl.id).parameters);
    for (const auto& parameter : tmpl.parameters) {
      INFO(tmpl.id << " parameter " << parameter.name);
      std::vector<boost::json::value> bad;
      if (parameter.rule == templates::Rule::integer) {
        bad = {parameter.minimum - 1, parameter.maximum + 1, 1.5, "12abc", "1;2", true, boost::json::array{1}};
      } else {
        for (const auto& text : hostile_strings()) bad.emplace_back(text);
        bad.emplace_back(5);
        bad.emplace_back(true);
        bad.emplace_back(boost::json::array{"a"});
        if (parameter.rule == templates::Rule::choice) bad.emplace_back(parameter.allowed.front() + "x");
      }
      for (const auto& value : bad) {
        INFO("value " << boost::json::serialize(value));
        auto with = good;
        with[parameter.name] = value;
        const auto detail = refusal(tmpl, apply_body(with));
        CHECK(detail.rfind("parameters." + parameter.name + ": ", 0) == 0);
      }
    }
  }
}

TEST_CASE("the rules accept what they document and nothing near it", "[templates]") {
  struct Case {
    std::string tmpl, parameter;
    std::vector<std::string> good, bad;
  };
  const std::vector<Case> cases{
      {"disk-usage-report", "path", {"/", "/var/log", "/srv/app-1/data_2", "/mnt/backup@host", "/a/.hidden/b"},
       {"relative/path", "/var/../etc", "/..", "/a/..", "/with space", "~/x", "/a'b"}},
      {"restart-container", "container", {"web", "shop-web-1", "a.b_c", "0abc"}, {"-rm", ".hidden", "a b", "a/b"}},
      {"tls-certificate-expiry", "endpoint",
       {"example.com:443", "127.0.0.1:8443", "[::1]:443", "a-b.example:1", "host:65535"},
       {"example.com", "example.com:0", "example.com:65536", "-x.example:443", "exa_mple.com:443", ":443",
        "example.com:443:1", "[::1;]:443"}},
      {"tls-certificate-expiry", "server_name", {"www.example.com", "localhost", "10.0.0.1"},
       {"-servername", "a..b", "a b", "example.com."}},
      {"systemd-unit-health", "units",
       {"nginx", "nginx.service", "getty@tty1.service", "a.service,b.timer", "a , b  c"},
       {",nginx", "nginx,", "-nginx", "nginx;reboot", "a\\b"}},
      {"journal-vacuum", "max_age", {"30s", "5m", "2h", "14d"}, {"0d", "7days", "1w", "1h30m", "-1d", "d"}},
      {"journal-vacuum", "max_size", {"500M", "1G", "64K"}, {"1T", "0M", "500", "1.5G"}},
      {"registry-login", "credential_id", {"0d6c1a8e-2f3b-4c5d-8e9f-0a1b2c3d4e5f"},
       {"0d6c1a8e2f3b4c5d8e9f0a1b2c3d4e5f", "not-a-uuid"}},
      {"deploy-application", "commit_ref", {"main", "v1.4.2", "release/2.0", "0123abcd", "feature_x+y"},
       {"-main", "a..b", "a b", "a~1", "a^", "a:b", ".hidden"}},
      {"postgres-dump", "database", {"shop", "tether_test_0a1b", "_x", "app-prod"}, {"1db", "db name", "db.x"}},
      {"postgres-dump", "os_user", {"postgres", "backup-1", "_svc"}, {"Postgres", "1user", "a.b"}},
      {"apt-upgrade-reboot-if-required", "reboot_message",
       {"Reboot", "It's patch day (planned): back in 5 minutes!"}, {"-h now", " leading space", "a\"b"}},
  };
  for (const auto& c : cases) {
    const auto& tmpl = get(c.tmpl);
    const auto good = parse(samples().at(c.tmpl).parameters);
    for (const auto& value : c.good) {
      INFO(c.tmpl << " " << c.parameter << " accepts " << value);
      auto with = good;
      with[c.parameter] = value;
      CHECK(refusal(tmpl, apply_body(with)) == "");
    }
    for (const auto& value : c.bad) {
      INFO(c.tmpl << " " << c.parameter << " refuses " << value);
      auto with = good;
      with[c.parameter] = value;
      CHECK(refusal(tmpl, apply_body(with)).rfind("parameters." + c.parameter + ": ", 0) == 0);
    }
  }
  // The pattern shown to clients says the same as the check (a port's range aside).
  const std::set<std::string> refused_by_range{"example.com:0", "example.com:65536"};
  for (const auto& c : cases) {
    for (const auto& parameter : get(c.tmpl).parameters) {
      if (parameter.name != c.parameter) continue;
      const std::regex shown(templates::pattern_of(parameter.rule));
      for (const auto& value : c.good) CHECK(std::regex_search(value, shown));
      for (const auto& value : c.bad) {
        if (refused_by_range.count(value)) continue;
        INFO(c.parameter << " pattern refuses " << value);
        CHECK_FALSE(std::regex_search(value, shown));
      }
    }
  }
}

TEST_CASE("shell_quote keeps any value one word with its spaces and quotes", "[templates]") {
  CHECK(templates::shell_quote("plain") == "'plain'");
  CHECK(templates::shell_quote("it's") == R"('it'\''s')");
  CHECK(templates::shell_quote("") == "''");
  for (const std::string value : {"it's a \"quoted\" value", "a b  c", "'", "''", "$(touch /tmp/x); `id` \\ $HOME",
                                  "tab\there", "new\nline"}) {
    INFO(value);
    CHECK(sh_output("set -- " + templates::shell_quote(value) + "; echo $#") == "1\n");
    CHECK(sh_output("printf '%s' " + templates::shell_quote(value)) == value);
  }
  // Through a template: the message with quotes and spaces is one word of its variable.
  const auto body = templates::job_body_from_template(
      get("apt-upgrade-reboot-if-required"),
      apply_body({{"reboot_message", "It's the 'weekly' reboot (planned)"}}));
  const std::string command(body.at("operation").at("params").at("command").as_string());
  std::string assignment;
  for (const auto& line : lines_of(command)) {
    if (line.rfind("message=", 0) == 0) assignment = line;
  }
  REQUIRE_FALSE(assignment.empty());
  CHECK(sh_output(assignment + "\nprintf '%s' \"$message\"") == "It's the 'weekly' reboot (planned)");
}

TEST_CASE("unknown parameters and a parameters field that is not an object are refused", "[templates]") {
  const auto& tmpl = get("disk-usage-report");
  CHECK(refusal(tmpl, apply_body({{"paht", "/"}})) ==
        "parameters.paht: is not a parameter of disk-usage-report (its parameters: path, threshold_percent, top)");
  boost::json::object body{{"targets", {{"tags", {"web"}}}}, {"parameters", "path=/"}};
  CHECK(refusal(tmpl, body) == "parameters: must be an object");
  body["parameters"] = nullptr;
  CHECK(refusal(tmpl, body) == "");
  // Each bad one is named, in the template's order.
  CHECK(refusal(tmpl, apply_body({{"path", "x;y"}, {"top", 99}})) ==
        "parameters.path: must be an absolute path of letters, digits and . _ / @ + = , : ~ - without a '..' segment "
        "(at most 1024 characters); parameters.top: must be an integer from 0 to 50");
}

TEST_CASE("the apply body's name, schedule, timezone and enabled go to the job; targets are the jobs parser's",
          "[templates]") {
  const auto& tmpl = get("journal-vacuum");
  boost::json::object body = apply_body({});
  body["name"] = "vacuum the journal";
  body["schedule"] = {{"mode", "interval"}, {"interval", "1d"}};
  body["timezone"] = "Europe/Berlin";
  body["enabled"] = false;
  auto spec = parse_job(templates::job_body_from_template(tmpl, body));
  CHECK(spec.name == "vacuum the journal");
  REQUIRE(spec.schedule);
  CHECK(spec.schedule->mode == schedule::Spec::Mode::interval);
  CHECK(spec.timezone == "Europe/Berlin");
  CHECK_FALSE(spec.enabled);

  body["schedule"] = nullptr;  // run only when triggered
  spec = parse_job(templates::job_body_from_template(tmpl, body));
  CHECK_FALSE(spec.schedule);

  body.erase("targets");
  try {
    parse_job(templates::job_body_from_template(tmpl, body));
    FAIL("a job without targets was accepted");
  } catch (const http::ApiError& e) {
    CHECK(std::string(e.what()).rfind("targets: ", 0) == 0);
  }
  body["targets"] = {{"tags", {"web"}}};
  body["schedule"] = {{"mode", "cron"}, {"expr", "61 * * * *"}};
  try {
    parse_job(templates::job_body_from_template(tmpl, body));
    FAIL("a bad schedule was accepted");
  } catch (const http::ApiError& e) {
    CHECK(std::string(e.what()).rfind("schedule.expr: ", 0) == 0);
  }
}

TEST_CASE("weekly-reboot is the reboot operation, rolled out one server at a time", "[templates]") {
  const auto spec = parse_job(templates::job_body_from_template(get("weekly-reboot"), apply_body({})));
  CHECK(spec.run.operation.type == "reboot");
  CHECK(spec.run.operation.timeout_seconds == 300);
  CHECK(spec.run.rate.max_concurrency == "1");
  CHECK(spec.run.rate.max_errors == std::optional<std::string>("0"));
  REQUIRE(spec.schedule);
  CHECK(spec.schedule->expr == "0 4 * * 0");
}

TEST_CASE("a template as the API lists it describes each parameter's rule", "[templates]") {
  const auto json = templates::to_json(get("postgres-dump"));
  CHECK(json.at("id") == "postgres-dump");
  CHECK(json.at("icon") == "fa-database");
  CHECK(json.at("operation_type") == "exec");
  CHECK(json.at("default_schedule") == boost::json::object{{"mode", "cron"}, {"expr", "30 2 * * *"}});
  const auto& parameters = json.at("parameters").as_array();
  REQUIRE(parameters.size() == get("postgres-dump").parameters.size());
  const auto& database = parameters.at(0).as_object();
  CHECK(database.at("name") == "database");
  CHECK(database.at("type") == "string");
  CHECK(database.at("rule") == "database_name");
  CHECK(database.at("required") == true);
  CHECK(database.at("default").is_null());
  CHECK(database.at("pattern") == "^[A-Za-z_][A-Za-z0-9_-]*$");
  CHECK(database.at("max_length") == 63);
  const auto& keep = parameters.at(2).as_object();
  CHECK(keep.at("name") == "keep_days");
  CHECK(keep.at("type") == "integer");
  CHECK(keep.at("default") == 7);
  CHECK(keep.at("minimum") == 1);
  CHECK(keep.at("maximum") == 3650);
  const auto restart = templates::to_json(get("systemd-unit-health")).at("parameters").as_array().at(1).as_object();
  CHECK(restart.at("allowed") == boost::json::array{"no", "yes"});
  CHECK(restart.at("default") == "no");
  CHECK(templates::to_json(get("restart-container")).at("default_schedule").is_null());
}
