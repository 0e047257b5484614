// Uses only installed headers: parses a JSON document and checks its
// content hash against the value docs/HASH.md's Python reference computes
// (the same vector is pinned in the hash suite).
#include <cstdio>
#include <string>

#include <cfgactors/hash.hpp>
#include <cfgactors/parse.hpp>

int main() {
  const char* text = R"({"service": "consumer", "port": 7070,
                         "features": {"beta": true, "rollout": [1, 2, 3]},
                         "owner": null})";
  const std::string expected = "ca0fe6bc188647b95d5aefac06e8a00b563d09d9165600020a9d4090c82ba8dd";
  auto result = cfgactors::parse_document(text, cfgactors::document_format::json,
                                          "inline");
  if (!result) {
    std::fprintf(stderr, "parse failed: %s\n", result.error->str().c_str());
    return 1;
  }
  auto hash = cfgactors::canonical_hash(result.value);
  if (hash != expected) {
    std::printf("canonical_hash %s mismatch\n", hash.c_str());
    std::fprintf(stderr, "expected %s\n", expected.c_str());
    return 1;
  }
  std::printf("canonical_hash %s ok\n", hash.c_str());
  return 0;
}
