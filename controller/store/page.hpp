#pragma once
// Keyset pages of a list. Every list is read in one fixed order of (sort key, id) that an index
// serves, and a page starts strictly after the last row of the page before it. So a row added or
// removed between two pages never shifts the rows that follow: a reader walking the pages sees
// each row that stayed exactly once, and each page is one range scan of the index however deep
// the reader is (no OFFSET).
//
// The position travels to the client as an opaque cursor (api/pagination.hpp); here it is the
// last row's sort key, as text the store's SQL casts back, and its id.
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tether::store {

struct PageAfter {
  std::string sort;  // the last row's sort key: microseconds since the epoch, or a name
  std::string id;    // the last row's id: breaks ties of the sort key
  bool operator==(const PageAfter&) const = default;
};

struct PageRequest {
  int limit = 100;
  std::optional<PageAfter> after;  // none: the first page
};

template <class Row>
struct Page {
  std::vector<Row> rows;
  std::optional<PageAfter> next;  // none: this was the last page
};

// A store reads limit + 1 rows; the extra one only says whether another page follows. The page
// keeps `limit` rows and, when more follow, continues after the last row it keeps.
template <class Row, class KeyOf>
Page<Row> page_of(std::vector<Row> rows, int limit, KeyOf key_of) {
  Page<Row> page;
  if (rows.size() > static_cast<std::size_t>(limit)) {
    rows.resize(static_cast<std::size_t>(limit));
    page.next = key_of(rows.back());
  }
  page.rows = std::move(rows);
  return page;
}

}  // namespace tether::store
