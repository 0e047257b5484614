// Tests for the paths of a file edit that a higher layer overrides (what
// the validator warns about: event=file_edit_shadowed).
#define CAF_SUITE shadowed_edits
#include "cfgactors_test.hpp"

#include "pipeline/shadowed_edits.hpp"

#include <string>
#include <vector>

namespace shadowed_edits_suite {

using namespace cfgactors;

namespace {

json j(const char* text) {
  return json::parse(text);
}

using found = std::vector<std::pair<std::string, std::string>>;

/// The stack before: defaults, file:a.yaml `before`, env, runtime; after:
/// the same with file:a.yaml = `after`.
found run(const char* before, const char* after, const char* env,
          const char* runtime, std::size_t limit = 10,
          std::size_t* total_out = nullptr) {
  layer_stack old_stack, new_stack;
  for (auto* s : {&old_stack, &new_stack}) {
    s->put("defaults", j(R"({"a": 0, "b": 0, "c": {"d": 0}})"));
    s->put("env", j(env));
    s->put("runtime", j(runtime));
  }
  old_stack.put("file:a.yaml", j(before));
  new_stack.put("file:a.yaml", j(after));
  std::size_t total = 0;
  found out;
  for (auto& x : detail::shadowed_edits(old_stack, new_stack, "file:a.yaml",
                                        limit, total))
    out.emplace_back(x.path, x.shadower);
  if (total_out)
    *total_out = total;
  return out;
}

} // namespace

CAF_TEST(a changed path a higher layer sets is shadowed by the highest) {
  CAF_CHECK_EQUAL(run(R"({"a": 1, "b": 1})", R"({"a": 2, "b": 2})",
                      R"({"a": 5})", R"({"a": 6})"),
                  (found{{"a", "runtime"}}));
  CAF_CHECK_EQUAL(run(R"({"a": 1, "b": 1})", R"({"a": 2, "b": 2})",
                      R"({"a": 5})", R"({})"),
                  (found{{"a", "env"}}));
}

CAF_TEST(unchanged paths and paths no layer above sets are not reported) {
  CAF_CHECK_EQUAL(run(R"({"a": 1, "b": 1})", R"({"a": 1, "b": 2})",
                      R"({"a": 5})", R"({})"),
                  found{});
}

CAF_TEST(a tombstone or a scalar above the path shadows it) {
  CAF_CHECK_EQUAL(run(R"({"c": {"d": 1}})", R"({"c": {"d": 2}})", R"({})",
                      R"({"c": {"d": null}})"),
                  (found{{"c.d", "runtime"}}));
  CAF_CHECK_EQUAL(run(R"({"c": {"d": 1}})", R"({"c": {"d": 2}})",
                      R"({"c": 7})", R"({})"),
                  (found{{"c.d", "env"}}));
}

CAF_TEST(an object above merges: only the keys it sets shadow) {
  CAF_CHECK_EQUAL(run(R"({"c": {"d": 1, "e": 1}})",
                      R"({"c": {"d": 2, "e": 2}})", R"({"c": {"e": 9}})",
                      R"({})"),
                  (found{{"c.e", "env"}}));
}

CAF_TEST(a first read of the file is no edit) {
  layer_stack old_stack, new_stack;
  new_stack.put("file:a.yaml", j(R"({"a": 1})"));
  new_stack.put("runtime", j(R"({"a": 2})"));
  std::size_t total = 0;
  CAF_CHECK(detail::shadowed_edits(old_stack, new_stack, "file:a.yaml", 10,
                                   total)
              .empty());
  CAF_CHECK_EQUAL(total, 0u);
}

CAF_TEST(at most limit paths are listed and all are counted) {
  std::size_t total = 0;
  auto out = run(R"({"a": 1, "b": 1})", R"({"a": 2, "b": 2})", R"({})",
                 R"({"a": 6, "b": 6})", 1, &total);
  CAF_CHECK_EQUAL(out.size(), 1u);
  CAF_CHECK_EQUAL(total, 2u);
}

} // namespace shadowed_edits_suite
