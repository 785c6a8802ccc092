// The template library's one table and its application (templates.hpp). Every parameter is
// checked against its rule before anything is built; a command gets each value once, as a shell
// variable assigned from shell_quote(value) at its top, and reads it only as "$variable".
#include "controller/services/templates.hpp"

#include "common/ids.hpp"
#include "common/utf8.hpp"
#include "controller/services/service_error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <regex>
#include <stdexcept>

namespace tether::services::templates {
namespace {

// ---------------------------------------------------------------- rules

struct RuleText {
  Rule rule;
  const char* pattern;     // ECMAScript, matched against the whole value
  std::size_t max_length;  // bytes
  const char* must;        // what the value must be, after "parameters.<name>: "
};

// A DNS name (or an IPv4 address, which has the same shape): labels of letters, digits and
// inner hyphens, at most 63 characters each.
#define TETHER_DNS_LABEL "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
#define TETHER_DNS_NAME TETHER_DNS_LABEL "(?:\\." TETHER_DNS_LABEL ")*"
#define TETHER_UNIT_NAME "[A-Za-z0-9][A-Za-z0-9:_.@-]*"

constexpr RuleText rule_texts[] = {
    {Rule::container_name, "[A-Za-z0-9][A-Za-z0-9_.-]*", 255,
     "must be a container name: a letter or digit, then letters, digits, '_', '.' or '-'"},
    {Rule::unit_names, TETHER_UNIT_NAME "(?:[ ,]+" TETHER_UNIT_NAME ")*", 1024,
     "must be systemd unit names (a letter or digit, then letters, digits and : _ . @ -) separated by spaces or "
     "commas"},
    {Rule::absolute_path, "(?!.*(?:^|/)\\.\\.(?:/|$))/[A-Za-z0-9._/@+=,:~-]*", 1024,
     "must be an absolute path of letters, digits and . _ / @ + = , : ~ - without a '..' segment"},
    {Rule::host_port, "(?:" TETHER_DNS_NAME "|\\[[0-9A-Fa-f:.]+\\]):[0-9]{1,5}", 261,
     "must be host:port: a DNS name, an IPv4 address or an [IPv6] address, then a port from 1 to 65535"},
    {Rule::hostname, TETHER_DNS_NAME, 253, "must be a DNS name or an IPv4 address"},
    {Rule::integer, "", 0, ""},
    {Rule::duration, "[1-9][0-9]{0,5}[smhd]", 7,
     "must be a duration: a number and one unit of s, m, h or d, such as 30m or 7d"},
    {Rule::size, "[1-9][0-9]{0,5}[KMG]", 7, "must be a size: a number and one unit of K, M or G, such as 500M"},
    {Rule::uuid, "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}", 36,
     "must be a UUID"},
    {Rule::git_ref, "(?!.*\\.\\.)[A-Za-z0-9_][A-Za-z0-9._/+-]*", 255,
     "must be a branch, tag or commit SHA: a letter, digit or '_', then letters, digits and . _ / + -, "
     "without '..'"},
    {Rule::choice, "", 0, ""},
    {Rule::database_name, "[A-Za-z_][A-Za-z0-9_-]*", 63,
     "must be a PostgreSQL name: a letter or '_', then letters, digits, '_' or '-'"},
    {Rule::user_name, "[a-z_][a-z0-9_-]*", 32,
     "must be a Unix user name: a lower-case letter or '_', then lower-case letters, digits, '_' or '-'"},
    {Rule::message, "[A-Za-z0-9][A-Za-z0-9 .,:'!?()_/+-]*", 200,
     "must be text of letters, digits, spaces and . , : ' ! ? ( ) _ / + -, starting with a letter or digit"},
};

#undef TETHER_DNS_NAME
#undef TETHER_DNS_LABEL
#undef TETHER_UNIT_NAME

const RuleText& text_of(Rule rule) {
  for (const auto& text : rule_texts) {
    if (text.rule == rule) return text;
  }
  throw std::logic_error("a template parameter rule without its text");
}

const std::regex& regex_of(Rule rule) {
  static const auto compiled = [] {
    std::map<Rule, std::regex> out;
    for (const auto& text : rule_texts) {
      if (*text.pattern) out.emplace(text.rule, std::regex(text.pattern, std::regex::ECMAScript));
    }
    return out;
  }();
  return compiled.at(rule);
}

const char* rule_name(Rule rule) {
  switch (rule) {
    case Rule::container_name: return "container_name";
    case Rule::unit_names: return "unit_names";
    case Rule::absolute_path: return "absolute_path";
    case Rule::host_port: return "host_port";
    case Rule::hostname: return "hostname";
    case Rule::integer: return "integer";
    case Rule::duration: return "duration";
    case Rule::size: return "size";
    case Rule::uuid: return "uuid";
    case Rule::git_ref: return "git_ref";
    case Rule::choice: return "choice";
    case Rule::database_name: return "database_name";
    case Rule::user_name: return "user_name";
    case Rule::message: return "message";
  }
  return "";
}

// Why a value breaks its parameter's rule.
struct Broken {
  std::string why;
};

std::optional<std::int64_t> integer_of(const boost::json::value& value) {
  if (value.is_int64()) return value.as_int64();
  if (value.is_uint64()) {
    if (value.as_uint64() > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<std::int64_t>(value.as_uint64());
  }
  if (value.is_double()) {
    const double d = value.as_double();
    if (d >= -9.0e15 && d <= 9.0e15 && static_cast<double>(static_cast<std::int64_t>(d)) == d) {
      return static_cast<std::int64_t>(d);
    }
    return std::nullopt;
  }
  if (value.is_string()) {
    const std::string_view text = value.as_string();
    std::int64_t n = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || text.size() > 18 || error != std::errc() || end != text.data() + text.size()) {
      return std::nullopt;
    }
    return n;
  }
  return std::nullopt;
}

// The value as the parameter's rule accepts it (normalized), or Broken.
std::string accept(const Parameter& parameter, const boost::json::value& value) {
  if (parameter.rule == Rule::integer) {
    const auto n = integer_of(value);
    if (!n || *n < parameter.minimum || *n > parameter.maximum) {
      throw Broken{fmt::format("must be an integer from {} to {}", parameter.minimum, parameter.maximum)};
    }
    return std::to_string(*n);
  }
  if (!value.is_string()) throw Broken{"must be a string"};
  const std::string text(value.as_string());
  if (parameter.rule == Rule::choice) {
    if (std::find(parameter.allowed.begin(), parameter.allowed.end(), text) == parameter.allowed.end()) {
      std::string list;
      for (const auto& item : parameter.allowed) list += (list.empty() ? "" : ", ") + item;
      throw Broken{"must be one of " + list};
    }
    return text;
  }
  const auto& rule = text_of(parameter.rule);
  const std::string must = fmt::format("{} (at most {} characters)", rule.must, rule.max_length);
  // The length first: the pattern is matched only against values of a bounded size.
  if (text.size() > rule.max_length || !std::regex_match(text, regex_of(parameter.rule))) throw Broken{must};
  switch (parameter.rule) {
    case Rule::host_port: {
      const auto port = std::stoi(text.substr(text.rfind(':') + 1));
      if (port < 1 || port > 65535) throw Broken{must};
      return text;
    }
    case Rule::uuid: return *ids::parse_uuid(text);
    case Rule::unit_names: {
      // Normalized to names separated by single spaces: the command splits it on them.
      std::string out;
      std::size_t count = 0;
      for (std::size_t i = 0; i < text.size();) {
        const auto start = text.find_first_not_of(" ,", i);
        if (start == std::string::npos) break;
        auto end = text.find_first_of(" ,", start);
        if (end == std::string::npos) end = text.size();
        out += (out.empty() ? "" : " ") + text.substr(start, end - start);
        ++count;
        i = end;
      }
      if (count > 64) throw Broken{"must name at most 64 units"};
      return out;
    }
    default: return text;
  }
}

// A short, printable echo of a name a client sent, for messages.
std::string echo_name(std::string_view name) {
  std::string out;
  for (char c : utf8::head(name, 64)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return out;
}

Values accept_parameters(const Template& tmpl, const boost::json::object& apply_body) {
  const boost::json::object* given = nullptr;
  if (const auto* parameters = apply_body.if_contains("parameters"); parameters && !parameters->is_null()) {
    if (!parameters->is_object()) throw ServiceError(Refusal::invalid, "parameters: must be an object");
    given = &parameters->as_object();
  }
  std::map<std::string, std::string> values;
  std::vector<std::string> problems;
  for (const auto& parameter : tmpl.parameters) {
    const boost::json::value* value = given ? given->if_contains(parameter.name) : nullptr;
    // null and "" are "not given": the default applies.
    if (value && (value->is_null() || (value->is_string() && value->as_string().empty()))) value = nullptr;
    if (!value) {
      if (parameter.default_value) {
        values[parameter.name] = *parameter.default_value;
      } else if (parameter.required) {
        problems.push_back(fmt::format("parameters.{}: is required", parameter.name));
      }
      continue;
    }
    try {
      values[parameter.name] = accept(parameter, *value);
    } catch (const Broken& broken) {
      problems.push_back(fmt::format("parameters.{}: {}", parameter.name, broken.why));
    }
  }
  if (given) {
    for (const auto& item : *given) {
      const bool known = std::any_of(tmpl.parameters.begin(), tmpl.parameters.end(),
                                     [&](const Parameter& p) { return p.name == item.key(); });
      if (known) continue;
      std::string names;
      for (const auto& p : tmpl.parameters) names += (names.empty() ? "" : ", ") + p.name;
      problems.push_back(fmt::format("parameters.{}: is not a parameter of {} (its parameters: {})",
                                     echo_name(item.key()), tmpl.id, names.empty() ? "none" : names));
    }
  }
  if (!problems.empty()) {
    std::string detail;
    for (const auto& problem : problems) detail += (detail.empty() ? "" : "; ") + problem;
    throw ServiceError(Refusal::invalid, detail);
  }
  return Values(values);
}

// ---------------------------------------------------------------- building blocks

Parameter param(std::string name, Rule rule, std::string description) {
  Parameter p;
  p.name = std::move(name);
  p.rule = rule;
  p.description = std::move(description);
  return p;
}

Parameter required(Parameter p) {
  p.required = true;
  return p;
}

Parameter with_default(Parameter p, std::string value) {
  p.default_value = std::move(value);
  return p;
}

Parameter integer(std::string name, std::int64_t minimum, std::int64_t maximum, std::int64_t fallback,
                  std::string description) {
  auto p = param(std::move(name), Rule::integer, std::move(description));
  p.minimum = minimum;
  p.maximum = maximum;
  p.default_value = std::to_string(fallback);
  return p;
}

Parameter choice(std::string name, std::vector<std::string> allowed, std::string description) {
  auto p = param(std::move(name), Rule::choice, std::move(description));
  p.default_value = allowed.front();
  p.allowed = std::move(allowed);
  return p;
}

// The shell variables a command reads: one `variable='value'` line each, the value quoted by
// shell_quote; '' for an optional parameter that was not given.
std::string shell_variables(const Values& values,
                            std::initializer_list<std::pair<std::string_view, std::string_view>> variables) {
  std::string out;
  for (const auto& [variable, parameter] : variables) {
    out += fmt::format("{}={}\n", variable, values.has(parameter) ? values.quoted(parameter) : shell_quote(""));
  }
  return out;
}

boost::json::object exec_params(std::string command, int timeout_seconds) {
  return {{"command", std::move(command)}, {"timeout_seconds", timeout_seconds}};
}

// A duration of the rule (one unit of s, m, h, d) as Go writes it for `docker image prune
// --filter until=` (no d unit): 7d -> 168h.
std::string go_duration(const std::string& duration) {
  const auto number = std::stoll(duration.substr(0, duration.size() - 1));
  if (duration.back() == 'd') return std::to_string(number * 24) + "h";
  return duration;
}

// ---------------------------------------------------------------- the commands

constexpr const char* disk_usage_script = R"sh(set -u
if [ ! -e "$path" ]; then echo "$path does not exist" >&2; exit 2; fi
df -hP -- "$path"
used=$(df -P -- "$path" | awk 'NR == 2 { sub("%", "", $5); print $5 }')
case "$used" in ''|*[!0-9]*) echo "could not read how full $path is" >&2; exit 2 ;; esac
if [ "$top" -gt 0 ]; then
  echo
  echo "largest entries in $path (this filesystem only):"
  du -xh --max-depth=1 -- "$path" 2>/dev/null | sort -rh | head -n "$((top + 1))"
fi
echo
if [ "$used" -ge "$threshold" ]; then
  echo "$path: ${used}% used, at or above the ${threshold}% threshold" >&2
  exit 1
fi
echo "$path: ${used}% used, below the ${threshold}% threshold"
)sh";

constexpr const char* apt_upgrade_script = R"sh(set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get -q update
apt-get -q -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$upgrade"
required=''
if [ -e /run/reboot-required ]; then required='/run/reboot-required exists'; fi
if command -v needrestart >/dev/null 2>&1; then
  kernel=$(needrestart -b -k 2>/dev/null | sed -n 's/^NEEDRESTART-KSTA: *//p')
  case "$kernel" in
    2|3) required="${required:+$required; }a newer kernel is installed than the one running" ;;
  esac
fi
if [ -z "$required" ]; then echo 'no reboot required'; exit 0; fi
echo "reboot required: $required"
if [ "$reboot" = never ]; then echo 'not rebooting (reboot: never)'; exit 0; fi
shutdown -r "+$delay" "$message"
echo "reboot scheduled in $delay minute(s)"
)sh";

constexpr const char* postgres_dump_script = R"sh(set -eu
umask 077
mkdir -p -- "$dir"
file="$dir/$database-$(date -u +%Y%m%dT%H%M%SZ).dump"
trap 'rm -f -- "$file.partial"' EXIT
set -- --format=custom --no-password --port="$port"
if [ -n "$host" ]; then set -- "$@" --host="$host"; fi
if [ -n "$username" ]; then set -- "$@" --username="$username"; fi
if [ "$(id -un)" = "$os_user" ]; then
  pg_dump "$@" -- "$database" > "$file.partial"
else
  runuser -u "$os_user" -- pg_dump "$@" -- "$database" > "$file.partial"
fi
mv -- "$file.partial" "$file"
echo "wrote $file ($(wc -c < "$file") bytes)"
find "$dir" -maxdepth 1 -type f -name "$database-[0-9]*T[0-9]*Z.dump" -mtime "+$((keep - 1))" -print -delete |
  sed 's/^/removed /'
)sh";

constexpr const char* tls_expiry_script = R"sh(set -u
set -- -connect "$endpoint"
if [ -n "$server_name" ]; then set -- "$@" -servername "$server_name"; fi
if ! cert=$(openssl s_client "$@" </dev/null 2>/dev/null | openssl x509 2>/dev/null); then
  echo "no certificate could be read from $endpoint" >&2
  exit 2
fi
printf '%s\n' "$cert" | openssl x509 -noout -subject -issuer -enddate
end=$(printf '%s\n' "$cert" | openssl x509 -noout -enddate | sed 's/^notAfter=//')
if end_s=$(date -d "$end" +%s 2>/dev/null); then
  echo "expires in $(( (end_s - $(date +%s)) / 86400 )) day(s)"
fi
if printf '%s\n' "$cert" | openssl x509 -noout -checkend "$((warn_days * 86400))" >/dev/null; then
  echo "OK: valid for more than $warn_days day(s)"
else
  echo "WARNING: the certificate of $endpoint expires within $warn_days day(s)" >&2
  exit 1
fi
)sh";

constexpr const char* unit_health_script = R"sh(set -uf
if [ -z "$units" ]; then
  units=$(systemctl list-units --state=failed --no-legend --plain | awk '{ print $1 }')
  if [ -z "$units" ]; then echo 'no failed units'; exit 0; fi
fi
status=0
for unit in $units; do
  state=$(systemctl is-active -- "$unit")
  if [ "$state" = active ]; then echo "$unit: active"; continue; fi
  echo "$unit: ${state:-unknown}"
  systemctl status --no-pager --lines=20 -- "$unit"
  if [ "$restart" = yes ]; then
    systemctl restart -- "$unit"
    state=$(systemctl is-active -- "$unit")
    echo "$unit: restarted, now ${state:-unknown}"
    if [ "$state" = active ]; then continue; fi
  fi
  status=1
done
exit "$status"
)sh";

constexpr const char* journal_vacuum_script = R"sh(set -eu
echo "before: $(journalctl --disk-usage)"
journalctl --rotate
journalctl --vacuum-time="$max_age" --vacuum-size="$max_size"
echo "after: $(journalctl --disk-usage)"
)sh";

// ---------------------------------------------------------------- the library

std::vector<Template> make_library() {
  std::vector<Template> out;

  out.push_back(Template{
      "disk-usage-report",
      "Disk usage report",
      "Shows how full the filesystem holding a path is and its largest entries; the run fails when it is at "
      "least the threshold full.",
      "monitoring",
      "fa-hard-drive",
      "exec",
      {with_default(param("path", Rule::absolute_path, "A mount point, or any path on the filesystem to report on."),
                    "/"),
       integer("threshold_percent", 1, 100, 90, "Fail the run when the filesystem is at least this full (percent)."),
       integer("top", 0, 50, 10, "How many of the largest entries directly under the path to list (0: none).")},
      "0 7 * * *",
      std::nullopt,
      [](const Values& v) {
        return exec_params(shell_variables(v, {{"path", "path"}, {"threshold", "threshold_percent"}, {"top", "top"}}) +
                               disk_usage_script,
                           300);
      }});

  out.push_back(Template{
      "prune-container-images",
      "Prune container images",
      "Removes the images no container uses that are older than a given age (docker or podman image prune).",
      "containers",
      "fa-broom",
      "exec",
      {with_default(param("older_than", Rule::duration, "Remove only images created longer ago than this (e.g. 7d)."),
                    "7d"),
       choice("images", {"unused", "dangling"},
              "unused: every image no container uses (--all); dangling: only untagged layers."),
       choice("runtime", {"docker", "podman"}, "The container runtime.")},
      "0 4 * * 0",
      std::nullopt,
      [](const Values& v) {
        const std::string all = v.text("images") == "unused" ? " --all" : "";
        return exec_params(shell_variables(v, {{"runtime", "runtime"}}) +
                               "until=" + shell_quote(go_duration(v.text("older_than"))) + "\nset -eu\n" +
                               "\"$runtime\" image prune --force" + all + " --filter \"until=$until\"\n",
                           600);
      }});

  out.push_back(Template{
      "apt-upgrade-reboot-if-required",
      "Upgrade packages (apt), reboot if required",
      "Runs apt-get update and upgrade without prompts (keeping changed configuration files), then schedules "
      "a reboot when one is required: /run/reboot-required exists, or needrestart reports a newer kernel than "
      "the one running. The reboot is scheduled with shutdown -r a few minutes ahead, so that the run "
      "reports first.",
      "updates",
      "fa-download",
      "exec",
      {choice("upgrade", {"upgrade", "dist-upgrade"},
              "upgrade keeps installed packages; dist-upgrade may also install or remove some to follow "
              "dependencies."),
       choice("reboot", {"if-required", "never"}, "Whether to reboot when a reboot is required."),
       integer("reboot_delay_minutes", 1, 1440, 2, "Minutes between the end of the upgrade and the reboot."),
       with_default(param("reboot_message", Rule::message, "The message logged-in users are shown before the reboot."),
                    "Rebooting after package upgrades")},
      "0 3 * * 0",
      std::nullopt,
      [](const Values& v) {
        return exec_params(shell_variables(v, {{"upgrade", "upgrade"},
                                               {"reboot", "reboot"},
                                               {"delay", "reboot_delay_minutes"},
                                               {"message", "reboot_message"}}) +
                               apt_upgrade_script,
                           900);
      }});

  out.push_back(Template{
      "restart-container",
      "Restart a container",
      "Restarts a container with the agent's container runtime (docker by default, or podman).",
      "containers",
      "fa-rotate-right",
      "restart",
      {required(param("container", Rule::container_name, "The container's name or id."))},
      std::nullopt,
      std::nullopt,
      [](const Values& v) { return boost::json::object{{"container_name", v.text("container")}}; }});

  out.push_back(Template{
      "weekly-reboot",
      "Weekly reboot",
      "Reboots the servers once a week, one at a time; the rollout stops at the first server that does not "
      "come back under a new boot.",
      "maintenance",
      "fa-power-off",
      "reboot",
      {integer("boot_timeout_seconds", 60, 900, 300,
               "How long a server has to come back after its reboot before the reboot counts as failed.")},
      "0 4 * * 0",
      boost::json::object{{"max_concurrency", 1}, {"max_errors", 0}},
      [](const Values& v) { return boost::json::object{{"timeout_seconds", v.integer("boot_timeout_seconds")}}; }});

  out.push_back(Template{
      "registry-login",
      "Container registry login",
      "Logs the container runtime in to a registry with a stored registry credential; the password reaches the "
      "runtime on its standard input only.",
      "containers",
      "fa-key",
      "registry_login",
      {required(param("credential_id", Rule::uuid, "The registry credential (GET /api/registry-credentials)."))},
      std::nullopt,
      std::nullopt,
      [](const Values& v) { return boost::json::object{{"credential_id", v.text("credential_id")}}; }});

  out.push_back(Template{
      "postgres-dump",
      "PostgreSQL dump",
      "Dumps a PostgreSQL database with pg_dump (custom format, for pg_restore) into "
      "<output_dir>/<database>-<UTC time>.dump, and removes that database's dumps older than keep_days.",
      "backups",
      "fa-database",
      "exec",
      {required(param("database", Rule::database_name, "The database to dump.")),
       with_default(param("output_dir", Rule::absolute_path, "Where the dumps are written (created when missing)."),
                    "/var/backups/postgresql"),
       integer("keep_days", 1, 3650, 7, "Dumps of this database older than this many days are removed."),
       with_default(param("os_user", Rule::user_name,
                          "The Unix user pg_dump runs as (runuser), for peer authentication; when the agent runs as "
                          "this user, pg_dump runs directly."),
                    "postgres"),
       param("host", Rule::hostname, "The server's host; not given: the local Unix socket."),
       integer("port", 1, 65535, 5432, "The server's port."),
       param("username", Rule::database_name, "The role to connect as; not given: pg_dump's default (os_user).")},
      "30 2 * * *",
      std::nullopt,
      [](const Values& v) {
        return exec_params(shell_variables(v, {{"database", "database"},
                                               {"dir", "output_dir"},
                                               {"keep", "keep_days"},
                                               {"os_user", "os_user"},
                                               {"host", "host"},
                                               {"port", "port"},
                                               {"username", "username"}}) +
                               postgres_dump_script,
                           900);
      }});

  out.push_back(Template{
      "tls-certificate-expiry",
      "TLS certificate expiry",
      "Connects to a TLS endpoint with openssl s_client, shows its certificate's subject, issuer and expiry, "
      "and fails the run when the certificate expires within warn_days.",
      "monitoring",
      "fa-certificate",
      "exec",
      {required(param("endpoint", Rule::host_port, "The endpoint to check, host:port (e.g. example.com:443).")),
       param("server_name", Rule::hostname,
             "The name to ask for (SNI); not given: the endpoint's host when it is a DNS name."),
       integer("warn_days", 1, 365, 21, "Fail the run when the certificate expires within this many days.")},
      "0 8 * * *",
      std::nullopt,
      [](const Values& v) {
        return exec_params(
            shell_variables(v, {{"endpoint", "endpoint"}, {"server_name", "server_name"}, {"warn_days", "warn_days"}}) +
                tls_expiry_script,
            60);
      }});

  out.push_back(Template{
      "systemd-unit-health",
      "systemd unit health",
      "Checks that systemd units are active (or, without units, that none has failed), shows the status of "
      "those that are not, and can restart them; the run fails while one is not active.",
      "monitoring",
      "fa-heart-pulse",
      "exec",
      {param("units", Rule::unit_names,
             "Units to check, separated by spaces or commas; not given: every unit systemd lists as failed."),
       choice("restart", {"no", "yes"}, "Restart a unit that is not active.")},
      "*/15 * * * *",
      std::nullopt,
      [](const Values& v) {
        return exec_params(shell_variables(v, {{"units", "units"}, {"restart", "restart"}}) + unit_health_script, 120);
      }});

  out.push_back(Template{
      "journal-vacuum",
      "Journal vacuum",
      "Rotates the systemd journal and removes its archived files older than max_age, then more until it takes "
      "at most max_size (journalctl --vacuum-time, --vacuum-size).",
      "maintenance",
      "fa-scroll",
      "exec",
      {with_default(param("max_age", Rule::duration, "Remove journal files older than this (e.g. 30d)."), "30d"),
       with_default(param("max_size", Rule::size, "Then remove the oldest until the journal takes at most this."),
                    "1G")},
      "0 5 * * 0",
      std::nullopt,
      [](const Values& v) {
        return exec_params(shell_variables(v, {{"max_age", "max_age"}, {"max_size", "max_size"}}) +
                               journal_vacuum_script,
                           300);
      }});

  out.push_back(Template{
      "deploy-application",
      "Deploy an application",
      "Deploys an application (POST /api/applications) on its server: fetches its git checkout, checks out the "
      "ref and runs its deploy command.",
      "deploys",
      "fa-rocket",
      "deploy",
      {required(param("application_id", Rule::uuid, "The application to deploy.")),
       param("commit_ref", Rule::git_ref, "The branch, tag or commit SHA; not given: the application's deploy branch."),
       integer("timeout_seconds", 1, 900, 300, "How long the fetch, checkout and deploy command may take.")},
      std::nullopt,
      std::nullopt,
      [](const Values& v) {
        boost::json::object params{{"application_id", v.text("application_id")},
                                   {"timeout_seconds", v.integer("timeout_seconds")}};
        if (v.has("commit_ref")) params["commit_ref"] = v.text("commit_ref");
        return params;
      }});

  return out;
}

}  // namespace

// ---------------------------------------------------------------- Values

bool Values::has(std::string_view name) const { return values_.find(name) != values_.end(); }

const std::string& Values::text(std::string_view name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) throw std::logic_error(fmt::format("template parameter {} has no value", name));
  return it->second;
}

std::int64_t Values::integer(std::string_view name) const { return std::stoll(text(name)); }

std::string Values::quoted(std::string_view name) const { return shell_quote(text(name)); }

// ---------------------------------------------------------------- the API

const std::vector<Template>& list() {
  static const std::vector<Template> library = make_library();
  return library;
}

const Template* find(std::string_view id) {
  for (const auto& tmpl : list()) {
    if (tmpl.id == id) return &tmpl;
  }
  return nullptr;
}

boost::json::object job_body_from_template(const Template& tmpl, const boost::json::object& apply_body) {
  const auto values = accept_parameters(tmpl, apply_body);
  boost::json::object body;
  const auto* name = apply_body.if_contains("name");
  body["name"] = name && !name->is_null() ? *name : boost::json::value(tmpl.name);
  body["operation"] = boost::json::object{{"type", tmpl.operation_type}, {"params", tmpl.operation_params(values)}};
  if (const auto* targets = apply_body.if_contains("targets")) body["targets"] = *targets;
  if (const auto* schedule = apply_body.if_contains("schedule")) {
    body["schedule"] = *schedule;  // null: no schedule
  } else if (tmpl.default_schedule) {
    body["schedule"] = boost::json::object{{"mode", "cron"}, {"expr", *tmpl.default_schedule}};
  }
  for (const char* field : {"timezone", "enabled", "requires_approval", "approvers"}) {
    if (const auto* value = apply_body.if_contains(field)) body[field] = *value;
  }
  if (tmpl.rate) body["rate"] = *tmpl.rate;
  return body;
}

boost::json::object to_json(const Template& tmpl) {
  boost::json::array parameters;
  for (const auto& p : tmpl.parameters) {
    const bool is_integer = p.rule == Rule::integer;
    boost::json::object out{{"name", p.name},
                            {"description", p.description},
                            {"type", is_integer ? "integer" : "string"},
                            {"rule", rule_name(p.rule)},
                            {"required", p.required}};
    if (!p.default_value) {
      out["default"] = nullptr;
    } else if (is_integer) {
      out["default"] = std::stoll(*p.default_value);
    } else {
      out["default"] = *p.default_value;
    }
    if (is_integer) {
      out["minimum"] = p.minimum;
      out["maximum"] = p.maximum;
    } else if (p.rule == Rule::choice) {
      boost::json::array allowed;
      for (const auto& item : p.allowed) allowed.emplace_back(item);
      out["allowed"] = std::move(allowed);
    } else {
      out["pattern"] = pattern_of(p.rule);
      out["max_length"] = text_of(p.rule).max_length;
    }
    parameters.push_back(std::move(out));
  }
  boost::json::value schedule = nullptr;
  if (tmpl.default_schedule) schedule = boost::json::object{{"mode", "cron"}, {"expr", *tmpl.default_schedule}};
  return {{"id", tmpl.id},
          {"name", tmpl.name},
          {"description", tmpl.description},
          {"category", tmpl.category},
          {"icon", tmpl.icon},
          {"operation_type", tmpl.operation_type},
          {"default_schedule", std::move(schedule)},
          {"parameters", std::move(parameters)}};
}

std::string pattern_of(Rule rule) {
  const std::string pattern = text_of(rule).pattern;
  return pattern.empty() ? pattern : "^" + pattern + "$";
}

std::string shell_quote(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

}  // namespace tether::services::templates
