#pragma once
// The built-in template library: ready-made jobs for the chores a fleet needs (disk usage, image
// pruning, package upgrades, reboots, database dumps, certificate expiry, unit health, ...),
// declared once in one table (templates.cpp) and applied into a job declaration, the body
// POST /api/automation/jobs takes, so that a template's job passes the same parser as any job.
// Invariant: a parameter's value reaches a command only once its rule has accepted it, and then
// only single-quoted by shell_quote(): no value can leave its quotes or run anything.
#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::services::templates {

// What a parameter's value may be. Every string rule is a pattern (shown to clients as it is
// enforced) and a length bound; none lets through a quote-breaking or command character
// (`;`, `$`, a backquote, a backslash, a double quote or a newline), only `message` a single quote.
enum class Rule {
  container_name,  // docker/podman container: [A-Za-z0-9][A-Za-z0-9_.-]*
  unit_names,      // one or more systemd unit names, separated by spaces or commas
  absolute_path,   // /..., letters, digits and . _ / @ + = , : ~ -; no ".." segment
  host_port,       // DNS name, IPv4 address or [IPv6 address], then :port (1-65535)
  hostname,        // DNS name or IPv4 address
  integer,         // minimum..maximum; a JSON integer or a string of digits
  duration,        // a number and one unit of s, m, h, d ("7d")
  size,            // a number and one unit of K, M, G ("500M")
  uuid,            // canonical 8-4-4-4-12 hex, lower-cased
  git_ref,         // branch, tag or commit SHA
  choice,          // one of `allowed`
  database_name,   // PostgreSQL database or role name
  user_name,       // Unix user name
  message,         // short text (a wall message): letters, digits, spaces and . , : ' ! ? ( ) _ / + -
};

struct Parameter {
  std::string name;
  std::string description;
  Rule rule = Rule::choice;
  bool required = false;
  std::optional<std::string> default_value;  // as text; an integer's in decimal
  std::vector<std::string> allowed;          // Rule::choice
  std::int64_t minimum = 0, maximum = 0;     // Rule::integer
};

// The parameters of one application of a template, each as its rule accepted it (a unit list
// normalized to names separated by single spaces, an integer to its decimal form, a UUID
// lower-cased), with the defaults of the ones not given.
class Values {
 public:
  explicit Values(const std::map<std::string, std::string>& values) : values_(values.begin(), values.end()) {}
  bool has(std::string_view name) const;
  // The value; throws std::logic_error for a parameter without one (an optional one not given).
  const std::string& text(std::string_view name) const;
  std::int64_t integer(std::string_view name) const;
  // shell_quote(text(name)).
  std::string quoted(std::string_view name) const;

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

struct Template {
  std::string id;  // kebab-case
  std::string name;
  std::string description;
  std::string category;
  std::string icon;            // Font Awesome name, as seed 000 shows it ("fa-database")
  std::string operation_type;  // exec, restart, reboot, registry_login, deploy
  std::vector<Parameter> parameters;
  std::optional<std::string> default_schedule;  // a cron expression, in the job's timezone
  std::optional<boost::json::object> rate;      // the job's rate control when not the default
  // The operation's params (operation.params of a job) from accepted values.
  std::function<boost::json::object(const Values&)> operation_params;
};

// Every template, in the order GET /api/automation/templates lists them.
const std::vector<Template>& list();
// The template of that id; nullptr when there is none.
const Template* find(std::string_view id);

// The job declaration that applying `tmpl` with `apply_body` makes: the body's `targets`,
// `name` (default: the template's name), `schedule` (default: the template's; null: none),
// `timezone` and `enabled`, with the operation built from the body's `parameters`
// ({name: value}). Throws ServiceError(invalid) naming each parameter at fault
// ("parameters.path: must be an absolute path ..."; unknown and missing ones too); the rest of
// the body is left to the jobs parser, which the caller runs on the result.
boost::json::object job_body_from_template(const Template& tmpl, const boost::json::object& apply_body);

// A template as the API lists it: id, name, description, category, icon, operation_type,
// default_schedule ({mode, expr} or null) and parameters [{name, description, type, required,
// default, and pattern and max_length, or allowed, or minimum and maximum}].
boost::json::object to_json(const Template& tmpl);

// The rule of a parameter as a regular expression (ECMAScript, whole value), empty for the
// rules that are not patterns (integer, choice).
std::string pattern_of(Rule rule);

// `value` in single quotes for /bin/sh, each embedded single quote written as '\''.
std::string shell_quote(std::string_view value);

}  // namespace tether::services::templates
