// Issue 10: the built-in templates through the API (GET /api/automation/templates, POST
// /api/automation/templates/{id}/apply), and every template's job triggered and run on a real
// agent. What must not touch this machine, or is not here to run (docker, apt-get, needrestart,
// shutdown, systemctl, journalctl, the reboot), is a stand-in script first in the agent's PATH
// that records its argv (checked call by call); pg_dump, runuser, openssl, df, du and git are the
// real ones, against the test's own PostgreSQL database, the controller's TLS port and temp dirs.
#include "tests/e2e/jobs_checks.hpp"

#include "tests/support/child_process.hpp"
#include "tests/support/git.hpp"
#include "tests/support/script_file.hpp"

#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

using namespace tether;
using namespace tether::e2e;

namespace {

using Calls = std::vector<std::vector<std::string>>;
using Args = std::vector<std::string>;

const char* const stand_ins[] = {"docker", "apt-get", "needrestart", "shutdown", "systemctl", "journalctl"};

// The stand-ins' behaviour: the shape of the real tools' answers, enough for the templates' scripts.
std::string behaviour_of(const std::string& name, const std::filesystem::path& dir) {
  const auto at = [&](const char* file) { return testing::shell_quote((dir / file).string()); };
  if (name == "docker") {
    return "case \"$1\" in\n"
           "  restart) printf '%s\\n' \"$2\" ;;\n"
           "  login) cat > " + at("docker.stdin") + "; echo 'Login Succeeded' ;;\n"
           "  image) printf 'Deleted Images:\\ndeleted: sha256:0123abcd\\n\\nTotal reclaimed space: 42MB\\n' ;;\n"
           "  *) echo \"unsupported: $1\" >&2; exit 125 ;;\n"
           "esac\n";
  }
  if (name == "apt-get") return "echo \"apt-get $* (DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-})\"\n";
  if (name == "needrestart") {
    return "printf 'NEEDRESTART-VER: 3.6\\nNEEDRESTART-KCUR: 6.1.0-17-amd64\\nNEEDRESTART-KEXP: "
           "6.1.0-18-amd64\\nNEEDRESTART-KSTA: 3\\n'\n";
  }
  if (name == "shutdown") return "echo \"Reboot scheduled ($2), use 'shutdown -c' to cancel.\"\n";
  if (name == "systemctl") {
    // Units named in active-units are active; a restart makes a unit active.
    return "for unit; do :; done\n"  // the last argument
           "case \"$1\" in\n"
           "  is-active) if grep -qx -- \"$unit\" " + at("active-units") + "; then echo active; "
           "else echo failed; exit 3; fi ;;\n"
           "  status) printf '%s - stand-in unit\\n   Active: failed (Result: exit-code)\\n' \"$unit\"; exit 3 ;;\n"
           "  restart) printf '%s\\n' \"$unit\" >> " + at("active-units") + " ;;\n"
           "  list-units) echo 'broken.service loaded failed failed Broken' ;;\n"
           "  *) exit 1 ;;\n"
           "esac\n";
  }
  if (name == "journalctl") {
    return "case \"$1\" in\n"
           "  --disk-usage) echo 'Archived and active journals take up 1.2G in the file system.' ;;\n"
           "  --rotate) ;;\n"
           "  --vacuum-*) echo 'Vacuuming done, freed 800.0M of archived journals from /var/log/journal.' ;;\n"
           "esac\n";
  }
  throw std::logic_error("no stand-in named " + name);
}

// The script for each stand-in: it appends its argv to calls/<name> (the number of arguments,
// then one per line) and answers as `behaviour_of` says.
void write_stand_in(const std::filesystem::path& bin, const std::filesystem::path& calls, const std::string& name) {
  const auto log = testing::shell_quote((calls / name).string());
  testing::write_executable(bin / name, "#!/bin/sh\n{ printf '%s\\n' \"$#\"; for argument in \"$@\"; do "
                                        "printf '%s\\n' \"$argument\"; done; } >> " + log + "\n" +
                                            behaviour_of(name, calls));
}

// The agent's reboot command: what a reboot does to the agent (a new boot id, the process
// stopped), as in reboot_test.cpp.
std::filesystem::path write_reboot_command(const std::filesystem::path& bin, const std::filesystem::path& calls) {
  const std::string record = "echo reboot >> " + testing::shell_quote((calls / "reboot").string()) + "\n";
  return testing::write_executable(bin / "reboot-stand-in",
                                   "#!/bin/sh\nset -e\n" + record +
                                       "cat /proc/sys/kernel/random/uuid > \"$E2E_BOOT_ID_FILE.new\"\n"
                                       "mv \"$E2E_BOOT_ID_FILE.new\" \"$E2E_BOOT_ID_FILE\"\n"
                                       "kill -TERM \"$(cat \"$E2E_AGENT_PID_FILE\")\"\n");
}

struct TemplateStack {
  testing::TestDatabase database;
  testing::TempDir dir{"tether-templates"};
  std::filesystem::path bin = dir / "bin";
  std::filesystem::path calls = dir / "calls";
  testing::TetherStack stack;

  TemplateStack() : stack(database, options(*this)) {}

  // calls/<name>: every call's argv since the last clear().
  Calls calls_of(const std::string& name) const {
    Calls out;
    std::istringstream lines(std::filesystem::exists(calls / name) ? testing::read_file(calls / name) : "");
    for (std::string count; std::getline(lines, count);) {
      Args args(static_cast<std::size_t>(std::stoi(count)));
      for (auto& arg : args) std::getline(lines, arg);
      out.push_back(std::move(args));
    }
    return out;
  }
  void clear(const std::string& name) const { std::filesystem::remove(calls / name); }

 private:
  // The stand-ins are written, and their directory put first in PATH, before the agent starts
  // (it passes its environment on to its commands); the agent's container runtime is `docker`
  // from PATH, as on a real server.
  static testing::StackOptions options(TemplateStack& self) {
    std::filesystem::create_directories(self.bin);
    std::filesystem::create_directories(self.calls);
    for (const char* name : stand_ins) write_stand_in(self.bin, self.calls, name);
    const char* path = std::getenv("PATH");
    ::setenv("PATH", (self.bin.string() + ":" + (path ? path : "/usr/bin:/bin")).c_str(), 1);
    testing::StackOptions out;
    out.tls = true;          // tls-certificate-expiry checks the controller's own certificate
    out.master_key = true;   // registry credentials
    out.container_runtime = "docker";
    out.reboot_command = write_reboot_command(self.bin, self.calls).string();
    out.boot_id_files = true;
    return out;
  }
};

TemplateStack& fixture() {
  static const std::unique_ptr<TemplateStack> shared = std::make_unique<TemplateStack>();
  return *shared;
}

boost::json::object apply_body(const boost::json::object& parameters) {
  return {{"targets", testing::server_targets({fixture().stack.server_id()})},
          {"schedule", nullptr},  // the runs here are triggered by hand only
          {"parameters", parameters}};
}

// POST /api/automation/templates/{id}/apply -> 201 {"job": JOB}; returns JOB.
boost::json::object apply(AutomationApi& api, const std::string& id, const boost::json::object& body) {
  const auto response = api.call("POST", "/api/automation/templates/" + id + "/apply", body);
  INFO(describe(response));
  REQUIRE(response.status == 201);
  const auto answer = json_object(response);
  CHECK(answer.size() == 1);
  return object_at(answer, "job");
}

struct Outcome {
  boost::json::object job;
  boost::json::object run;
  boost::json::object result;  // the operation's result: exit_code, stdout, stderr
  std::string out, err;
};

// Applies the template, triggers its job and waits for the run's end, which must be `status`.
Outcome run_template(AutomationApi& api, const std::string& id, const boost::json::object& parameters,
                     const std::string& status = "completed") {
  Outcome outcome;
  outcome.job = apply(api, id, apply_body(parameters));
  const auto started = api.trigger_job(string_field(outcome.job, "id"));
  outcome.run = api.wait_for_run_end(string_field(started, "id"), std::chrono::seconds(40));
  const auto operations = run_operations(outcome.run);
  REQUIRE(operations.size() == 1);
  const auto view = operation_view(api, string_field(operations.front(), "id"));
  INFO(boost::json::serialize(view));
  REQUIRE(view.at("result").is_object());
  outcome.result = view.at("result").as_object();
  outcome.out = string_field(outcome.result, "stdout");
  outcome.err = string_field(outcome.result, "stderr");
  INFO("run " << boost::json::serialize(outcome.run) << "\nstdout:\n" << outcome.out << "\nstderr:\n" << outcome.err);
  CHECK(string_field(outcome.run, "status") == status);
  return outcome;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc | std::ios::binary);
  out << text;
}

// The port of TETHER_TEST_DATABASE_URL (postgresql://user@host:port/db).
std::string database_port() {
  const std::string url = testing::TestDatabase::server_url();
  const auto authority = url.find('@') != std::string::npos ? url.find('@') + 1 : url.find("//") + 2;
  const auto slash = url.find('/', authority);
  const auto host_port = url.substr(authority, slash - authority);
  const auto colon = host_port.rfind(':');
  return colon == std::string::npos ? "5432" : host_port.substr(colon + 1);
}

}  // namespace

TEST_CASE("the templates list shows every template with its parameters' rules to a viewer", "[e2e][templates]") {
  auto& stack = fixture().stack;
  AutomationApi viewer(stack.client_options(),
                       testing::create_operator_key(stack.database(), "templates-viewer", "viewer"));
  const auto response = viewer.call("GET", "/api/automation/templates");
  INFO(describe(response));
  REQUIRE(response.status == 200);
  const auto answer = json_object(response);
  CHECK(answer.size() == 1);
  std::set<std::string> ids;
  for (const auto& tmpl : objects(array_at(answer, "templates"))) {
    INFO(boost::json::serialize(tmpl));
    ids.insert(string_field(tmpl, "id"));
    for (const char* field : {"name", "description", "category", "icon", "operation_type"}) {
      CHECK_FALSE(string_field(tmpl, field).empty());
    }
    CHECK(string_field(tmpl, "icon").rfind("fa-", 0) == 0);
    CHECK(tmpl.contains("default_schedule"));
    for (const auto& parameter : objects(array_at(tmpl, "parameters"))) {
      INFO(boost::json::serialize(parameter));
      CHECK_FALSE(string_field(parameter, "name").empty());
      CHECK(parameter.at("required").is_bool());
      CHECK(parameter.contains("default"));
      CHECK((parameter.contains("pattern") || parameter.contains("allowed") || parameter.contains("minimum")));
    }
  }
  for (const char* id : {"disk-usage-report", "prune-container-images", "apt-upgrade-reboot-if-required",
                         "restart-container", "weekly-reboot", "registry-login", "postgres-dump",
                         "tls-certificate-expiry", "systemd-unit-health", "journal-vacuum", "deploy-application"}) {
    INFO(id);
    CHECK(ids.count(id) == 1);
  }

  auto anonymous = stack.client();
  check_jobs_error(anonymous.get("/api/automation/templates"), 401);
}

TEST_CASE("applying a template answers 201 with the job; a viewer gets 403, an unknown template 404, bad "
          "parameters and targets 422 naming them",
          "[e2e][templates]") {
  auto& stack = fixture().stack;
  AutomationApi api(stack);
  boost::json::object body{{"targets", testing::server_targets({stack.server_id()})},
                           {"timezone", "Europe/Berlin"},
                           {"enabled", false},
                           {"parameters", {{"path", "/var/log"}, {"threshold_percent", 85}}}};
  const auto job = apply(api, "disk-usage-report", body);
  CHECK(ids::is_uuid(string_field(job, "id")));
  CHECK(string_field(job, "name") == "Disk usage report");
  CHECK(object_at(job, "schedule").at("mode") == "cron");
  CHECK(object_at(job, "schedule").at("expr") == "0 7 * * *");
  CHECK(string_field(job, "timezone") == "Europe/Berlin");
  CHECK(job.at("enabled") == false);
  CHECK(object_at(job, "targets").at("server_ids") == boost::json::array{stack.server_id().c_str()});
  const auto& operation = object_at(job, "operation");
  CHECK(string_field(operation, "type") == "exec");
  const auto command = string_field(object_at(operation, "params"), "command");
  CHECK(contains(command, "path='/var/log'\n"));
  CHECK(contains(command, "threshold='85'\n"));
  CHECK(api.get_job(string_field(job, "id")) == job);

  AutomationApi viewer(stack.client_options(),
                       testing::create_operator_key(stack.database(), "templates-apply-viewer", "viewer"));
  check_jobs_error(viewer.call("POST", "/api/automation/templates/disk-usage-report/apply", body), 403);

  const auto unknown = api.call("POST", "/api/automation/templates/no-such-template/apply", body);
  CHECK(check_jobs_error(unknown, 404) == "template not found");

  check_names_field(api.call("POST", "/api/automation/templates/restart-container/apply",
                             boost::json::object{{"targets", testing::server_targets({stack.server_id()})},
                                                 {"parameters", {{"container", "web; reboot"}}}}),
                    "parameters.container: ");
  check_names_field(api.call("POST", "/api/automation/templates/restart-container/apply",
                             boost::json::object{{"targets", testing::server_targets({stack.server_id()})}}),
                    "parameters.container: is required");
  check_names_field(api.call("POST", "/api/automation/templates/tls-certificate-expiry/apply",
                             boost::json::object{{"targets", testing::server_targets({stack.server_id()})},
                                                 {"parameters", {{"endpoint", "$(id):443"}}}}),
                    "parameters.endpoint: ");
  check_names_field(api.call("POST", "/api/automation/templates/restart-container/apply",
                             boost::json::object{{"parameters", {{"container", "web"}}}}),
                    "targets: ");
  check_names_field(api.call("POST", "/api/automation/templates/restart-container/apply",
                             boost::json::object{{"targets", testing::server_targets({stack.server_id()})},
                                                 {"parameters", {{"container", "web"}}},
                                                 {"schedule", {{"mode", "cron"}, {"expr", "bad"}}}}),
                    "schedule.expr: ");
}

TEST_CASE("disk-usage-report shows the filesystem and the largest entries, and fails at the threshold",
          "[e2e][templates]") {
  auto& f = fixture();
  AutomationApi api(f.stack);
  const auto dir = f.dir / "disk";
  std::filesystem::create_directories(dir / "big");
  std::filesystem::create_directories(dir / "small");
  write_text(dir / "big" / "blob", std::string(2 * 1024 * 1024, 'x'));
  write_text(dir / "small" / "note", "x");

  const auto ok =
      run_template(api, "disk-usage-report", {{"path", dir.string()}, {"threshold_percent", 100}, {"top", 3}});
  INFO(ok.out << ok.err);
  CHECK(contains(ok.out, "Filesystem"));
  const auto big = ok.out.find(dir.string() + "/big\n");
  const auto small = ok.out.find(dir.string() + "/small\n");
  CHECK(big != std::string::npos);
  CHECK(small != std::string::npos);
  CHECK(big < small);  // largest first
  CHECK(contains(ok.out, "below the 100% threshold"));

  const auto full =
      run_template(api, "disk-usage-report", {{"path", dir.string()}, {"threshold_percent", 1}}, "failed");
  CHECK(full.result.at("exit_code") == 1);
  CHECK(contains(full.err, "at or above the 1% threshold"));
}

TEST_CASE("prune-container-images runs the runtime's image prune with the age as a Go duration", "[e2e][templates]") {
  auto& f = fixture();
  AutomationApi api(f.stack);
  f.clear("docker");
  const auto outcome = run_template(api, "prune-container-images", {{"older_than", "2d"}});
  CHECK(f.calls_of("docker") == Calls{{"image", "prune", "--force", "--all", "--filter", "until=48h"}});
  CHECK(contains(outcome.out, "Total reclaimed space: 42MB"));
}

TEST_CASE("apt-upgrade-reboot-if-required upgrades without prompts and schedules the reboot needrestart asks for",
          "[e2e][templates]") {
  auto& f = fixture();
  AutomationApi api(f.stack);
  for (const char* name : {"apt-get", "needrestart", "shutdown"}) f.clear(name);
  const std::string message = "It's patch day (planned): back in 5 minutes!";
  const auto outcome =
      run_template(api, "apt-upgrade-reboot-if-required",
                   {{"upgrade", "dist-upgrade"}, {"reboot_delay_minutes", 5}, {"reboot_message", message}});
  CHECK(f.calls_of("apt-get") ==
        Calls{{"-q", "update"},
              {"-q", "-y", "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold",
               "dist-upgrade"}});
  CHECK(f.calls_of("needrestart") == Calls{{"-b", "-k"}});
  CHECK(f.calls_of("shutdown") == Calls{{"-r", "+5", message}});  // the message is one argument
  CHECK(contains(outcome.out, "(DEBIAN_FRONTEND=noninteractive)"));
  CHECK(contains(outcome.out, "a newer kernel is installed than the one running"));
  CHECK(contains(outcome.out, "reboot scheduled in 5 minute(s)"));
}

TEST_CASE("restart-container restarts the container with the agent's runtime", "[e2e][templates]") {
  auto& f = fixture();
  AutomationApi api(f.stack);
  f.clear("docker");
  const auto outcome = run_template(api, "restart-container", {{"container", "shop-web-1"}});
  CHECK(string_field(object_at(outcome.job, "operation"), "type") == "restart");
  CHECK(f.calls_of("docker") == Calls{{"restart", "shop-web-1"}});
  CHECK(outcome.out == "shop-web-1\n");
}

TEST_CASE("registry-login logs the runtime in with the stored credential, the password on stdin only",
          "[e2e][templates]") {
  auto& f = fixture();
  AutomationApi api(f.stack);
  f.clear("docker");
  const std::string password = "pw-" + crypto::hex_encode(crypto::random_bytes(12));
  const boost::json::object credential{{"name", "templates-registry"},
                                       {"registry_url", "registry.example.com"},
                                       {"registry_type", "generic"},
                                       {"username", "deployer"},
                                       {"password", password}};
  const auto created = f.stack.admin("POST", "/api/registry-credentials", boost::json::serialize(credential));
  INFO(describe(created));
  REQUIRE(created.status == 201);
  const auto credential_id = string_field(json_object(created), "id");
  const auto outcome = run_template(api, "registry-login", {{"credential_id", credential_id}});
  CHECK(f.calls_of("docker") == Calls{{"login", "registry.example.com", "-u", "deployer", "--password-stdin"}});
  CHECK(testing::read_file(f.calls / "docker.stdin") == password);
  CHECK(contains(outcome.out, "Login Succeeded"));
}

TEST_CASE("postgres-dump writes a custom-format dump of the database with the real pg_dump and removes old ones",
          "[e2e][templates]") {
  auto& f = fixture();
  AutomationApi api(f.stack);
  const auto database = f.stack.database().name();
  const auto dir = f.dir / "backups";
  std::filesystem::create_directories(dir);
  const auto old_dump = dir / (database + "-20200101T000000Z.dump");
  const auto other_database = dir / "other-20200101T000000Z.dump";
  const auto unrelated = dir / "notes.txt";
  for (const auto& path : {old_dump, other_database, unrelated}) {
    write_text(path, "old\n");
    std::filesystem::last_write_time(path, std::filesystem::file_time_type::clock::now() - std::chrono::hours(24 * 30));
  }
  // As root, pg_dump runs as the postgres user through runuser, as on a database server; otherwise
  // as the agent's own user, directly.
  const auto* self = ::getpwuid(::geteuid());
  REQUIRE(self != nullptr);
  std::string os_user = self->pw_name;
  if (::geteuid() == 0 && ::getpwnam("postgres") != nullptr) os_user = "postgres";

  const auto outcome = run_template(api, "postgres-dump",
                                    {{"database", database},
                                     {"output_dir", dir.string()},
                                     {"keep_days", 7},
                                     {"os_user", os_user},
                                     {"host", "127.0.0.1"},
                                     {"port", database_port()},
                                     {"username", "postgres"}});
  std::vector<std::filesystem::path> dumps;
  const std::regex name(database + "-[0-9]{8}T[0-9]{6}Z\\.dump");
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (std::regex_match(entry.path().filename().string(), name)) dumps.push_back(entry.path());
  }
  REQUIRE(dumps.size() == 1);
  CHECK(dumps.front() != old_dump);
  CHECK(testing::read_file(dumps.front()).rfind("PGDMP", 0) == 0);  // pg_dump's custom format
  const auto listing = testing::run_command({"pg_restore", "--list", dumps.front().string()}, std::chrono::seconds(20));
  INFO(listing.err);
  CHECK(listing.succeeded());
  CHECK(contains(listing.out, "TABLE public jobs"));
  CHECK_FALSE(std::filesystem::exists(old_dump));
  CHECK(std::filesystem::exists(other_database));
  CHECK(std::filesystem::exists(unrelated));
  CHECK(contains(outcome.out, "wrote " + dumps.front().string()));
  CHECK(contains(outcome.out, "removed " + old_dump.string()));
  CHECK_FALSE(std::filesystem::exists(dumps.front().string() + ".partial"));
}

TEST_CASE("tls-certificate-expiry reads the endpoint's certificate with openssl and fails within warn_days",
          "[e2e][templates]") {
  auto& f = fixture();
  AutomationApi api(f.stack);
  // The controller's test certificate (CN=localhost) is valid for 2 days.
  const std::string endpoint = fmt::format("127.0.0.1:{}", f.stack.port());
  const auto ok = run_template(api, "tls-certificate-expiry",
                               {{"endpoint", endpoint}, {"server_name", "localhost"}, {"warn_days", 1}});
  CHECK(contains(ok.out, "subject=CN = localhost"));
  CHECK(contains(ok.out, "notAfter="));
  CHECK(contains(ok.out, "OK: valid for more than 1 day(s)"));

  const auto soon = run_template(api, "tls-certificate-expiry", {{"endpoint", endpoint}, {"warn_days", 3}}, "failed");
  CHECK(soon.result.at("exit_code") == 1);
  CHECK(contains(soon.err, "expires within 3 day(s)"));
}

TEST_CASE("systemd-unit-health checks each unit, shows and restarts the one that is not active", "[e2e][templates]") {
  auto& f = fixture();
  AutomationApi api(f.stack);
  f.clear("systemctl");
  write_text(f.calls / "active-units", "web.service\n");
  const auto outcome =
      run_template(api, "systemd-unit-health", {{"units", "web.service, broken.service"}, {"restart", "yes"}});
  CHECK(f.calls_of("systemctl") == Calls{{"is-active", "--", "web.service"},
                                         {"is-active", "--", "broken.service"},
                                         {"status", "--no-pager", "--lines=20", "--", "broken.service"},
                                         {"restart", "--", "broken.service"},
                                         {"is-active", "--", "broken.service"}});
  CHECK(contains(outcome.out, "web.service: active\n"));
  CHECK(contains(outcome.out, "broken.service: failed\n"));
  CHECK(contains(outcome.out, "broken.service: restarted, now active\n"));
}

TEST_CASE("journal-vacuum rotates and vacuums the journal by age and size", "[e2e][templates]") {
  auto& f = fixture();
  AutomationApi api(f.stack);
  f.clear("journalctl");
  const auto outcome = run_template(api, "journal-vacuum", {{"max_age", "14d"}, {"max_size", "500M"}});
  CHECK(f.calls_of("journalctl") ==
        Calls{{"--disk-usage"}, {"--rotate"}, {"--vacuum-time=14d", "--vacuum-size=500M"}, {"--disk-usage"}});
  CHECK(contains(outcome.out, "Vacuuming done"));
}

TEST_CASE("deploy-application deploys the ref asked for with the real git", "[e2e][templates]") {
  auto& f = fixture();
  AutomationApi api(f.stack);
  const auto root = f.dir / "deploy";
  std::filesystem::create_directories(root);
  const auto origin = root / "origin.git", authoring = root / "authoring", checkout = root / "checkout";
  testing::git(root, {"init", "-q", "--bare", "-b", "main", origin.string()});
  testing::git(root, {"init", "-q", "-b", "main", authoring.string()});
  testing::git(authoring, {"remote", "add", "origin", origin.string()});
  write_text(authoring / "app.txt", "first\n");
  testing::git(authoring, {"add", "app.txt"});
  testing::git(authoring, {"commit", "-q", "-m", "first"});
  const auto first = testing::git(authoring, {"rev-parse", "HEAD"});
  testing::git(authoring, {"tag", "-a", "v1.0", "-m", "release 1.0"});
  write_text(authoring / "app.txt", "second\n");
  testing::git(authoring, {"commit", "-q", "-am", "second"});
  testing::git(authoring, {"push", "-q", "origin", "main", "v1.0"});
  testing::git(root, {"clone", "-q", "-b", "main", origin.string(), checkout.string()});

  const auto deployed = root / "deployed";
  const auto created = f.stack.admin(
      "POST", "/api/applications",
      boost::json::serialize(boost::json::object{
          {"name", "templates-app"},
          {"server_id", f.stack.server_id()},
          {"directory", checkout.string()},
          {"deploy_branch", "main"},
          {"deploy_command", "git rev-parse HEAD > " + testing::shell_quote(deployed.string())}}));
  INFO(describe(created));
  REQUIRE(created.status == 201);
  const auto application_id = string_field(json_object(created), "id");

  const auto outcome =
      run_template(api, "deploy-application", {{"application_id", application_id}, {"commit_ref", "v1.0"}});
  CHECK(string_field(object_at(outcome.job, "operation"), "type") == "deploy");
  CHECK(testing::read_file(deployed) == first + "\n");
}

// Last: the agent goes through a (stand-in) reboot.
TEST_CASE("weekly-reboot is the reboot operation: it completes when the agent comes back under a new boot",
          "[e2e][templates]") {
  auto& f = fixture();
  AutomationApi api(f.stack);
  f.clear("reboot");
  const auto job = apply(api, "weekly-reboot", apply_body({{"boot_timeout_seconds", 120}}));
  CHECK(string_field(object_at(job, "operation"), "type") == "reboot");
  CHECK(object_at(object_at(job, "operation"), "params").at("timeout_seconds") == 120);
  CHECK(object_at(job, "rate").at("max_errors") != nullptr);
  const auto boot_before = string_field(f.stack.get_server(f.stack.server_id()), "boot_id");

  const auto started = api.trigger_job(string_field(job, "id"));
  const auto stopped = f.stack.wait_for_agent_exit(0, std::chrono::seconds(20));
  INFO("agent log:\n" << f.stack.agent_log());
  REQUIRE(stopped.has_value());
  CHECK(testing::read_file(f.calls / "reboot") == "reboot\n");
  f.stack.start_agent(0);  // as the machine's init system would
  f.stack.wait_for_server_status(f.stack.server_id(), "active");

  const auto run = api.wait_for_run_end(string_field(started, "id"), std::chrono::seconds(30));
  INFO(boost::json::serialize(run));
  CHECK(string_field(run, "status") == "completed");
  CHECK(string_field(f.stack.get_server(f.stack.server_id()), "boot_id") != boot_before);
}
