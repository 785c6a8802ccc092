#pragma once
// Command-line flags and TETHER_* environment variables, read the same way by every binary:
// a flag `--some-name V` (or `--some-name=V`) wins over the variable TETHER_SOME_NAME.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tether::config {

class Options {
 public:
  // `known` lists the flag names (without dashes) the program accepts; `switches` those that take
  // no value. Unknown flags, or a value-taking flag without a value, throw std::invalid_argument.
  Options(int argc, const char* const* argv, std::set<std::string> known, std::set<std::string> switches = {});

  std::optional<std::string> get(const std::string& name) const;
  std::string get_or(const std::string& name, const std::string& fallback) const;
  // Throws std::invalid_argument when absent.
  std::string require(const std::string& name) const;
  // Throws std::invalid_argument when present but not an integer within [min, max].
  long get_int(const std::string& name, long fallback, long min, long max) const;
  bool has_switch(const std::string& name) const;
  // Words that are not flags, in order (sub-commands such as `admin create-key`).
  const std::vector<std::string>& positional() const { return positional_; }

  static std::string env_name(const std::string& flag);

 private:
  std::map<std::string, std::string> flags_;
  std::set<std::string> switches_set_;
  std::vector<std::string> positional_;
};

}  // namespace tether::config
