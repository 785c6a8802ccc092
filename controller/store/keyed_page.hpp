#pragma once
// A page whose rows were read with their keyset position beside them: for lists whose record
// does not carry its sort key exactly (a time the record shows to the second, where the order is
// by the microsecond). The position travels as extra columns of the page query:
// TETHER_SQL_US(column) (sql_text.hpp) and the id as text.
#include "controller/store/page.hpp"

#include <pqxx/pqxx>

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace tether::store {

template <class Row>
struct Keyed {
  Row row;
  PageAfter key;
};

template <class Row>
Page<Row> keyed_page(std::vector<Keyed<Row>> rows, int limit) {
  auto keyed = page_of(std::move(rows), limit, [](const Keyed<Row>& r) { return r.key; });
  Page<Row> page;
  page.next = std::move(keyed.next);
  page.rows.reserve(keyed.rows.size());
  for (auto& r : keyed.rows) page.rows.push_back(std::move(r.row));
  return page;
}

// Runs a page query whose last column is the row's sort key as text (TETHER_SQL_US of its time),
// reads each row into a record with `to_record` (a record with an `id`), and keeps limit rows.
template <class ToRecord, class... Params>
auto read_keyed_page(pqxx::transaction_base& txn, const std::string& sql, int limit, ToRecord to_record,
                     Params&&... params) {
  using Row = std::decay_t<decltype(to_record(std::declval<const pqxx::row&>()))>;
  std::vector<Keyed<Row>> rows;
  for (const auto& r : txn.exec_params(sql, std::forward<Params>(params)...)) {
    auto record = to_record(r);
    PageAfter key{r[static_cast<int>(r.size()) - 1].template as<std::string>(), record.id};
    rows.push_back({std::move(record), std::move(key)});
  }
  return keyed_page(std::move(rows), limit);
}

// The two statement parameters of a page's start: none on the first page.
inline std::optional<std::string> after_sort(const PageRequest& request) {
  return request.after ? std::optional<std::string>(request.after->sort) : std::nullopt;
}
inline std::optional<std::string> after_id(const PageRequest& request) {
  return request.after ? std::optional<std::string>(request.after->id) : std::nullopt;
}

}  // namespace tether::store
