#pragma once
// Walks a keyset list page by page, as a client does: each page's cursor goes out through the
// API's encoding and back before it asks for the next one.
#include "controller/api/pagination.hpp"
#include "controller/store/page.hpp"

#include <catch2/catch.hpp>
#include <pqxx/errorhandler>
#include <pqxx/pqxx>

#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

namespace tether::testing {

// The ids of every row the pages of `list` give, in order. `list(PageRequest)` returns a Page;
// `shape` is the list's cursor shape. Fails on a page longer than `limit` or a walk that does not end.
template <class List, class IdOf>
std::vector<std::string> walk_pages(List list, int limit, IdOf id_of, api::CursorShape shape = {}) {
  std::vector<std::string> seen;
  store::PageRequest request{limit, std::nullopt};
  for (int pages = 0; pages < 100000; ++pages) {
    const auto page = list(request);
    REQUIRE(page.rows.size() <= static_cast<std::size_t>(limit));
    for (const auto& row : page.rows) seen.push_back(id_of(row));
    if (!page.next) return seen;
    CHECK(page.rows.size() == static_cast<std::size_t>(limit));  // only the last page is short
    request.after = api::decode_cursor(api::encode_cursor(*page.next), shape);
    REQUIRE(request.after);
  }
  FAIL("the walk did not end");
  return seen;
}

// The first column of every row of `sql`: the order a list must give, written out in SQL.
inline std::vector<std::string> column_of(pqxx::transaction_base& txn, const std::string& sql) {
  std::vector<std::string> out;
  for (const auto& row : txn.exec(sql)) out.push_back(row[0].as<std::string>());
  return out;
}

// Every NOTICE of the connection while it lives (auto_explain's plans among them).
struct Notices : pqxx::errorhandler {
  explicit Notices(pqxx::connection_base& connection) : pqxx::errorhandler(connection) {}
  bool operator()(const char message[]) noexcept override {
    try {
      text += message;
    } catch (...) {
    }
    return false;
  }
  std::string text;
};

// The plans of the statements `run` executes, as PostgreSQL ran them (auto_explain, reported as
// notices): the store's own statements with their own parameters, no copy of their SQL.
inline std::string plans_of(pqxx::connection& connection, const std::function<void(pqxx::transaction_base&)>& run) {
  {
    pqxx::nontransaction setup(connection);
    setup.exec("LOAD 'auto_explain'");
    setup.exec("SET auto_explain.log_min_duration = 0");
    setup.exec("SET auto_explain.log_level = notice");
    setup.commit();
  }
  std::string text;
  {
    Notices notices(connection);
    pqxx::read_transaction txn(connection);
    run(txn);
    txn.commit();
    text = notices.text;
  }
  pqxx::nontransaction reset(connection);
  reset.exec("SET auto_explain.log_min_duration = -1");
  reset.commit();
  return text;
}

// The first plan of plans_of's text: a list's page statement, before any statement it runs after.
inline std::string first_plan(const std::string& plans) {
  const auto start = plans.find("plan:");
  if (start == std::string::npos) return {};
  return plans.substr(start, plans.find("plan:", start + 1) - start);
}

// The plan without its sub-plans (a per-row lookup such as a run's approval may sort its own
// few rows; what matters is how the list's own table is read).
inline std::string main_plan(const std::string& plan) { return plan.substr(0, plan.find("SubPlan")); }

// A filtered page is served by an index: its table is read through one of `indexes`, never by a
// sequential scan, and a sort (when the planner finds the filter's rows few enough) only orders
// what a bitmap scan of the index found for the filter and position, never the table.
inline void check_index_served(const std::string& plan, std::initializer_list<std::string> indexes) {
  INFO(plan);
  CHECK(plan.find("Seq Scan") == std::string::npos);
  bool through_index = false;
  for (const auto& index : indexes) {
    through_index = through_index || plan.find("using " + index + " on ") != std::string::npos ||
                    plan.find("Bitmap Index Scan on " + index) != std::string::npos;
  }
  CHECK(through_index);
  if (plan.find("Sort") != std::string::npos) CHECK(plan.find("Bitmap Index Scan on ") != std::string::npos);
}

// Whether the page's position is an index condition (the scan starts there) rather than a filter
// over the rows before it: a line "Index Cond: (... ROW(sort, id) < ROW(...) ...)".
inline bool position_in_index_cond(const std::string& plan) {
  std::size_t start = 0;
  while (start < plan.size()) {
    auto end = plan.find('\n', start);
    if (end == std::string::npos) end = plan.size();
    const auto line = plan.substr(start, end - start);
    if (line.find("Index Cond:") != std::string::npos && line.find("ROW(") != std::string::npos) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace tether::testing
