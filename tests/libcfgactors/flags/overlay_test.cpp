#define CAF_SUITE overlay
// Tests for config_view: lookups through a base tree and a merge-patch
// overlay (override, add, delete, merge), agreement with a full merge on
// random trees, tenant overlays for flags, and an untouched base.
#include "cfgactors_test.hpp"

#include <random>
#include <string>
#include <vector>

#include "cfgactors/config_view.hpp"
#include "cfgactors/flags.hpp"

#include "flags/twin_flags.hpp"
#include "cfgactors/merge.hpp"
#include "cfgactors/snapshot.hpp"

namespace overlay_suite {

using namespace cfgactors;

namespace {

json j(const char* text) {
  return json::parse(text);
}

json base_tree() {
  return j(R"({
    "db": {"host": "a", "port": 5432, "pool": {"min": 1, "max": 8}},
    "list": [1, 2, 3],
    "name": "svc",
    "scalar": 1
  })");
}

// The value at `path` as compact JSON, or "absent".
std::string at(const config_view& view, const char* path) {
  auto value = view.find(path);
  return value ? value->dump() : "absent";
}

} // namespace

CAF_TEST(without an overlay lookups point into the base) {
  auto base = base_tree();
  config_view view{base};
  auto port = view.find("db.port");
  CAF_REQUIRE(port);
  CAF_CHECK_EQUAL(port.get(), &base["db"]["port"]);
  CAF_CHECK(!port.owned());
  CAF_CHECK_EQUAL(at(view, "list[1]"), "2");
  CAF_CHECK_EQUAL(at(view, "db.nope"), "absent");
  CAF_CHECK_EQUAL(at(view, "db..x"), "absent");
  CAF_CHECK(view.overlay() == nullptr);
  CAF_CHECK_EQUAL(at(config_view{}, "db"), "absent");
}

CAF_TEST(an overlay overrides a leaf and the siblings stay) {
  auto base = base_tree();
  config_view view{base, j(R"({"db": {"port": 6543}})")};
  auto port = view.find("db.port");
  CAF_REQUIRE(port);
  CAF_CHECK_EQUAL(*port, 6543);
  CAF_CHECK(!port.owned()); // straight from the overlay
  auto host = view.find("db.host");
  CAF_REQUIRE(host);
  CAF_CHECK_EQUAL(host.get(), &base["db"]["host"]);
  CAF_CHECK_EQUAL(at(view, "db.pool.max"), "8");
}

CAF_TEST(an overlay adds keys at any depth) {
  auto base = base_tree();
  config_view view{base, j(R"({"db": {"pool": {"idle": 30}}, "new": {"x": 1}})")};
  CAF_CHECK_EQUAL(at(view, "db.pool.idle"), "30");
  CAF_CHECK_EQUAL(at(view, "db.pool.min"), "1");
  CAF_CHECK_EQUAL(at(view, "new.x"), "1");
  CAF_CHECK_EQUAL(at(view, "new"), R"({"x":1})");
}

CAF_TEST(null in an overlay deletes) {
  auto base = base_tree();
  config_view view{base, j(R"({"db": {"pool": null, "host": null}, "name": null})")};
  CAF_CHECK_EQUAL(at(view, "db.pool"), "absent");
  CAF_CHECK_EQUAL(at(view, "db.pool.max"), "absent");
  CAF_CHECK_EQUAL(at(view, "db.host"), "absent");
  CAF_CHECK_EQUAL(at(view, "name"), "absent");
  CAF_CHECK_EQUAL(at(view, "db"), R"({"port":5432})");
  CAF_CHECK(view.type_at({"name"}) == json::value_t::null);
  CAF_CHECK(view.type_at({"db"}) == json::value_t::object);
}

CAF_TEST(objects present in both are merged only at the looked up path) {
  auto base = base_tree();
  config_view view{base, j(R"({"db": {"port": 1, "pool": {"max": 2}}})")};
  auto db = view.find("db");
  CAF_REQUIRE(db);
  CAF_CHECK(db.owned());
  CAF_CHECK_EQUAL(db->dump(),
                  R"({"host":"a","pool":{"max":2,"min":1},"port":1})");
  // A key only the base has below a merged object is still a pointer.
  CAF_CHECK_EQUAL(view.find("db.pool.min").get(), &base["db"]["pool"]["min"]);
}

CAF_TEST(non-objects replace wholesale in both directions) {
  auto base = base_tree();
  config_view view{base, j(R"({"db": 7, "list": [9], "scalar": {"x": 1, "y": null}})")};
  CAF_CHECK_EQUAL(at(view, "db"), "7");
  CAF_CHECK_EQUAL(at(view, "db.port"), "absent");
  CAF_CHECK_EQUAL(at(view, "list"), "[9]");
  CAF_CHECK_EQUAL(at(view, "list[0]"), "9");
  CAF_CHECK_EQUAL(at(view, "list[1]"), "absent");
  // An object over a scalar is the object without its deletions.
  CAF_CHECK_EQUAL(at(view, "scalar"), R"({"x":1})");
  CAF_CHECK_EQUAL(at(view, "scalar.y"), "absent");
  // An object over an array: indexes find nothing.
  config_view objects{base, j(R"({"list": {"a": 1}})")};
  CAF_CHECK_EQUAL(at(objects, "list[0]"), "absent");
  CAF_CHECK_EQUAL(at(objects, "list.a"), "1");
}

CAF_TEST(an overlay that is not an object is ignored) {
  auto base = base_tree();
  for (auto overlay : {j("5"), j("[1]"), j("null"), j(R"("x")")}) {
    config_view view{base, overlay};
    CAF_CHECK(view.overlay() == nullptr);
    CAF_CHECK_EQUAL(view.effective(), base);
  }
}

CAF_TEST(typed gets convert or fall back) {
  auto base = base_tree();
  config_view view{base, j(R"({"db": {"port": "oops"}})")};
  CAF_CHECK_EQUAL(view.get<int>("db.pool.max", 0), 8);
  CAF_CHECK_EQUAL(view.get<int>("db.port", 7), 7);
  CAF_CHECK_EQUAL(view.get<std::string>("db.port", ""), "oops");
  CAF_CHECK_EQUAL(view.get<std::string>("name", ""), "svc");
  CAF_CHECK_EQUAL(view.get<int>("missing.path", 3), 3);
}

namespace {

// Random trees over a small set of keys, so that base and overlay collide
// often; overlays get nulls.
class tree_gen {
public:
  explicit tree_gen(uint32_t seed) : rng_(seed) {
    // nop
  }

  json tree(int depth, bool overlay) {
    auto kind = pick(depth > 0 ? 6 : 3);
    switch (kind) {
      case 0:
        return overlay && pick(2) == 0 ? json(nullptr) : json(pick(10));
      case 1:
        return "s" + std::to_string(pick(3));
      case 2:
        return pick(2) == 0;
      case 3: {
        json arr = json::array();
        for (auto n = pick(3); n > 0; --n)
          arr.push_back(tree(depth - 1, overlay));
        return arr;
      }
      default: {
        json obj = json::object();
        for (auto n = pick(4); n > 0; --n)
          obj[key()] = tree(depth - 1, overlay);
        return obj;
      }
    }
  }

  std::string key() {
    static const char* keys[] = {"a", "b", "c", "d"};
    return keys[pick(4)];
  }

private:
  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>{0, n - 1}(rng_);
  }

  std::mt19937 rng_;
};

// Every path into `value`, plus one missing key below each object.
void collect(const json& value, config_path& at,
             std::vector<config_path>& out) {
  out.push_back(at);
  if (value.is_object()) {
    for (auto& [key, child] : value.items()) {
      at.segments.emplace_back(key);
      collect(child, at, out);
      at.segments.pop_back();
    }
    at.segments.emplace_back(std::string{"zz"});
    out.push_back(at);
    at.segments.pop_back();
  } else if (value.is_array()) {
    for (std::size_t i = 0; i <= value.size(); ++i) {
      at.segments.emplace_back(i);
      if (i < value.size())
        collect(value[i], at, out);
      else
        out.push_back(at);
      at.segments.pop_back();
    }
  }
}

} // namespace

CAF_TEST(lookups agree with a full merge on random trees) {
  tree_gen gen{42};
  std::size_t checked = 0;
  for (int round = 0; round < 300; ++round) {
    json base = json::object();
    json overlay = json::object();
    for (auto n = 4; n > 0; --n) {
      base[gen.key()] = gen.tree(3, false);
      overlay[gen.key()] = gen.tree(3, true);
    }
    auto expected = merged(base, overlay);
    config_view view{base, overlay};
    CAF_CHECK_EQUAL(view.effective(), expected);
    std::vector<config_path> paths;
    config_path root;
    collect(base, root, paths);
    collect(overlay, root, paths);
    collect(expected, root, paths);
    for (auto& path : paths) {
      auto want = find(expected, path);
      auto got = view.find(path);
      if (want == nullptr || want->is_null()) {
        if (got)
          CAF_FAIL("path " << path.str() << " should be absent, is "
                           << got->dump() << " (base " << base.dump()
                           << ", overlay " << overlay.dump() << ")");
        continue;
      }
      if (!got || *got != *want)
        CAF_FAIL("path " << path.str() << " should be " << want->dump()
                         << ", is " << (got ? got->dump() : "absent")
                         << " (base " << base.dump() << ", overlay "
                         << overlay.dump() << ")");
      ++checked;
    }
  }
  CAF_MESSAGE(checked << " paths checked");
  CAF_CHECK_GREATER(checked, 3000u);
}

CAF_TEST(overlay_for takes the object at a path or nothing) {
  auto config = j(R"({"tenants": {"acme": {"features": {"f": true}},
                                  "odd": 5, "a.b": {"x": 1}}})");
  CAF_CHECK_EQUAL(overlay_for(config, "tenants.acme"),
                  j(R"({"features": {"f": true}})"));
  CAF_CHECK_EQUAL(overlay_for(config, "tenants.globex"), json::object());
  CAF_CHECK_EQUAL(overlay_for(config, "tenants.odd"), json::object());
  CAF_CHECK_EQUAL(overlay_for(config, "tenants..x"), json::object());
  CAF_CHECK_EQUAL(overlay_for(config, "tenants.a\\.b"), j(R"({"x": 1})"));
}

CAF_TEST(a tenant overlay switches a flag for that tenant only) {
  auto tree = j(R"({
    "features": {
      "new_checkout": false,
      "search": {"rollout": 0, "variants": {"a": 1, "b": 1},
                 "default_variant": "a",
                 "rules": [{"attribute": "country", "op": "eq",
                            "values": ["DE"]}]}
    },
    "tenants": {
      "acme": {"features": {"new_checkout": true,
                            "search": {"rollout": 100, "default_variant": "b"}}},
      "globex": {"features": {"search": {"rules": null}}}
    }
  })");
  auto snap = snapshot::make(5, "test", {}, tree, now_ms());
  auto hash = snap->hash;
  test::twin_flags base{snap};
  test::twin_flags acme{config_view{snap, overlay_for(*snap->effective,
                                                   "tenants.acme")}};
  test::twin_flags globex{config_view{snap, overlay_for(*snap->effective,
                                                     "tenants.globex")}};
  flag_context ctx{{"user", "7"}, {"country", "DE"}};
  CAF_CHECK(!base.enabled("new_checkout", ctx));
  CAF_CHECK(acme.enabled("new_checkout", ctx));
  CAF_CHECK(!globex.enabled("new_checkout", ctx));
  // The overlay patches the object flag: rollout and default change, the
  // rules and variants stay.
  auto out_of_de = flag_context{{"user", "7"}, {"country", "FR"}};
  CAF_CHECK_EQUAL(base.evaluate("search", out_of_de).reason, "rollout:out");
  CAF_CHECK_EQUAL(base.evaluate("search", out_of_de).variant, "a");
  CAF_CHECK_EQUAL(acme.evaluate("search", out_of_de).reason, "on");
  CAF_CHECK_EQUAL(acme.evaluate("search", ctx).reason, "rule[0]:country eq");
  // Deleting the rules for globex: DE no longer matches.
  CAF_CHECK_EQUAL(base.evaluate("search", ctx).reason, "rule[0]:country eq");
  CAF_CHECK_EQUAL(globex.evaluate("search", ctx).reason, "rollout:out");
  // Nothing of this touched the snapshot.
  CAF_CHECK_EQUAL(*snap->effective, tree);
  CAF_CHECK_EQUAL(snap->hash, hash);
  CAF_CHECK_EQUAL(snap->version, 5u);
  CAF_CHECK(!base.enabled("new_checkout", ctx));
}

CAF_TEST(a malformed overlay makes the flag malformed for that view only) {
  auto tree = j(R"({"features": {"f": {"rollout": 50}}})");
  config_view bad{tree, j(R"({"features": {"f": {"rollout": "most"}}})")};
  test::twin_flags flags{bad};
  auto result = flags.evaluate("f", {{"user", "1"}}, true);
  CAF_CHECK(result.enabled);
  CAF_CHECK_EQUAL(result.reason.compare(0, 29, "malformed:features.f.rollout:"),
                  0);
  test::twin_flags plain{tree};
  CAF_CHECK(!plain.evaluate("f", {{"user", "1"}}).malformed());
}

CAF_TEST(a request overlay stacks on a tenant overlay) {
  auto base = base_tree();
  config_view tenant{base, j(R"({"db": {"port": 1, "host": "t"}})")};
  auto request = tenant.overlaid(j(R"({"db": {"host": null, "user": "r"}})"));
  CAF_CHECK_EQUAL(at(request, "db.port"), "1");
  CAF_CHECK_EQUAL(at(request, "db.host"), "absent");
  CAF_CHECK_EQUAL(at(request, "db.user"), R"("r")");
  CAF_CHECK_EQUAL(at(request, "db.pool.min"), "1");
  // The tenant's view is unchanged.
  CAF_CHECK_EQUAL(at(tenant, "db.host"), R"("t")");
  CAF_CHECK_EQUAL(at(tenant, "db.user"), "absent");
  // Stacked, and as one merge of both overlays in turn.
  CAF_CHECK_EQUAL(request.effective(),
                  merged(merged(base, j(R"({"db": {"port": 1, "host": "t"}})")),
                         j(R"({"db": {"host": null, "user": "r"}})")));
}

CAF_TEST(a request overlay does not bring back what the tenant replaced) {
  auto base = base_tree();
  config_view tenant{base, j(R"({"db": 7, "name": null})")};
  auto request = tenant.overlaid(
    j(R"({"db": {"port": 1, "user": null}, "name": {"x": 2}})"));
  CAF_CHECK_EQUAL(at(request, "db"), R"({"port":1})");
  CAF_CHECK_EQUAL(at(request, "db.host"), "absent");
  CAF_CHECK_EQUAL(at(request, "name"), R"({"x":2})");
}

CAF_TEST(a view keeps its snapshot alive and leaves it unchanged) {
  auto tree = base_tree();
  auto snap = snapshot::make(9, "test", {}, tree, now_ms());
  auto hash = snap->hash;
  config_view view{snap, j(R"({"db": {"port": null}, "name": "x"})")};
  std::weak_ptr<const snapshot> watch = snap;
  snap.reset();
  CAF_CHECK(!watch.expired());
  CAF_CHECK_EQUAL(at(view, "name"), R"("x")");
  CAF_CHECK_EQUAL(at(view, "db.port"), "absent");
  CAF_CHECK_EQUAL(*view.source()->effective, tree);
  CAF_CHECK_EQUAL(view.source()->hash, hash);
}

} // namespace overlay_suite
