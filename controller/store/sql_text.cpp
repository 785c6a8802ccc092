#include "controller/store/sql_text.hpp"

#include <boost/json.hpp>

namespace tether::store {

std::optional<std::string> optional_text(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as<std::string>();
}

std::optional<int> optional_int(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as<int>();
}

std::optional<std::int64_t> optional_int64(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as<std::int64_t>();
}

std::string to_json_array(const std::vector<std::string>& values) {
  boost::json::array array;
  for (const auto& v : values) array.emplace_back(v);
  return boost::json::serialize(array);
}

std::vector<std::string> from_json_array(const pqxx::field& field) {
  std::vector<std::string> out;
  if (field.is_null()) return out;
  auto parsed = boost::json::parse(field.c_str());
  for (const auto& item : parsed.as_array()) out.emplace_back(item.as_string());
  return out;
}

void relax_commit_durability(pqxx::transaction_base& txn) { txn.exec("SET LOCAL synchronous_commit TO OFF"); }

}  // namespace tether::store
