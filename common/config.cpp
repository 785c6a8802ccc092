#include "common/config.hpp"

#include <cctype>
#include <cstdlib>
#include <stdexcept>

namespace tether::config {

Options::Options(int argc, const char* const* argv, std::set<std::string> known, std::set<std::string> switches) {
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word.rfind("--", 0) != 0) {
      positional_.push_back(word);
      continue;
    }
    std::string name = word.substr(2);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (switches.count(name)) {
      if (value) throw std::invalid_argument("--" + name + " takes no value");
      switches_set_.insert(name);
      continue;
    }
    if (!known.count(name)) throw std::invalid_argument("unknown option --" + name);
    if (!value) {
      if (i + 1 >= argc) throw std::invalid_argument("--" + name + " needs a value");
      value = argv[++i];
    }
    flags_[name] = *value;
  }
}

std::string Options::env_name(const std::string& flag) {
  std::string out = "TETHER_";
  for (char c : flag) out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

std::optional<std::string> Options::get(const std::string& name) const {
  if (auto it = flags_.find(name); it != flags_.end()) return it->second;
  if (const char* env = std::getenv(env_name(name).c_str()); env && *env) return std::string(env);
  return std::nullopt;
}

std::string Options::get_or(const std::string& name, const std::string& fallback) const {
  return get(name).value_or(fallback);
}

std::string Options::require(const std::string& name) const {
  auto value = get(name);
  if (!value) throw std::invalid_argument("missing --" + name + " (or " + env_name(name) + ")");
  return *value;
}

long Options::get_int(const std::string& name, long fallback, long min, long max) const {
  auto value = get(name);
  if (!value) return fallback;
  std::size_t used = 0;
  long parsed = 0;
  try {
    parsed = std::stol(*value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value->size() || parsed < min || parsed > max) {
    throw std::invalid_argument("--" + name + " must be an integer from " + std::to_string(min) + " to " +
                                std::to_string(max) + ", got '" + *value + "'");
  }
  return parsed;
}

bool Options::has_switch(const std::string& name) const { return switches_set_.count(name) > 0; }

}  // namespace tether::config
