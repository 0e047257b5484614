// Shared by the journal suites: SQL run on a journal's database directly, as
// another program would (to build old formats, damage rows, add triggers).
#pragma once

#include <string>

#include <sqlite3.h>

#include "cfgactors_test.hpp"

namespace cfgactors::test {

/// Runs `sql` on the database in `file`; a failure fails the test.
inline void raw_sql(const std::string& file, const std::string& sql) {
  sqlite3* db = nullptr;
  auto rc = sqlite3_open(file.c_str(), &db);
  char* err = nullptr;
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err ? err : sqlite3_errmsg(db);
  sqlite3_free(err);
  sqlite3_close(db);
  if (rc != SQLITE_OK)
    CAF_FAIL("raw sql failed: " << msg);
}

} // namespace cfgactors::test
