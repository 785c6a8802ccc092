#pragma once
// The keyset position of a page request as statement parameters: both null on the first page.
// The SQL casts them back (`$n::bigint` for a micros key, `$n::text` for a name, `$m::uuid`).
#include "controller/store/page.hpp"

#include <pqxx/pqxx>

#include <optional>
#include <string>

namespace tether::store {

inline std::optional<std::string> after_sort(const PageRequest& page) {
  return page.after ? std::optional<std::string>(page.after->sort) : std::nullopt;
}
inline std::optional<std::string> after_id(const PageRequest& page) {
  return page.after ? std::optional<std::string>(page.after->id) : std::nullopt;
}
// limit + 1: the extra row only says whether another page follows (page_of drops it).
inline int read_limit(const PageRequest& page) { return page.limit + 1; }

// The lines of an EXPLAIN's answer as one text (the list_plan functions tests read).
inline std::string plan_text(const pqxx::result& explained) {
  std::string plan;
  for (const auto& row : explained) plan += row[0].as<std::string>() + "\n";
  return plan;
}

}  // namespace tether::store
