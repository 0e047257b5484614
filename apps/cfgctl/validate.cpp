#include "validate.hpp"

#include <cstddef>
#include <iostream>

#include "cfgactors/parse.hpp"
#include "cfgactors/schema.hpp"

#include "client.hpp"

namespace cfgctl {

using nlohmann::json;

namespace {

json errors_json(const cfgactors::validation_errors& errors) {
  auto out = json::array();
  for (auto& e : errors)
    out.push_back({{"path", e.path}, {"rule", e.rule},
                   {"message", e.message}});
  return out;
}

/// Prints the verdict on one document, `name` its label for humans.
void report(const std::string& name, const std::string& schema_file,
            const cfgactors::validation_errors& errors, bool as_json,
            const json* index) {
  if (as_json) {
    json line{{"valid", errors.empty()}, {"errors", errors_json(errors)}};
    if (index != nullptr)
      line["index"] = *index;
    std::cout << line.dump(-1, ' ', false, json::error_handler_t::replace)
              << '\n';
  } else if (errors.empty()) {
    std::cout << name << ": valid"
              << (schema_file.empty() ? "" : " against " + schema_file)
              << '\n';
  } else {
    for (auto& e : errors)
      std::cout << name << ": " << e.str() << '\n';
  }
}

} // namespace

void add_validate_options(CLI::App& cmd, validate_options& opts) {
  cmd.add_option("file", opts.file, "a YAML, JSON or TOML config file")
    ->required();
  cmd.add_option("--schema", opts.schema, "JSON Schema file");
  cmd.add_flag("--each", opts.each,
               "FILE is a JSON array: validate each element (any JSON "
               "value) against --schema, one line each");
  cmd.add_option("--ref-dir", opts.ref_dirs,
                 "resolve $refs under URI from files under DIR (never "
                 "the network; other remote $refs are refused)")
    ->type_name("URI=DIR");
}

int cmd_validate(const validate_options& opts, bool as_json) {
  auto doc = cfgactors::parse_file(opts.file);
  if (!doc) {
    // `file:line:column: reason`, the way compilers print it.
    if (as_json)
      std::cout << json{{"valid", false},
                        {"parse_error", doc.error->str()}}.dump()
                << '\n';
    else
      std::cout << doc.error->str() << '\n';
    return exit_rejected;
  }
  cfgactors::schema_options options;
  for (auto& pair : opts.ref_dirs) {
    auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == pair.size()) {
      std::cerr << "cfgctl: --ref-dir \"" << pair
                << "\": expected URI=DIR\n";
      return exit_usage;
    }
    options.ref_dirs.push_back({pair.substr(0, eq), pair.substr(eq + 1)});
  }
  cfgactors::json_schema_ptr schema;
  if (!opts.schema.empty()) {
    std::string err;
    schema = cfgactors::json_schema::from_file(opts.schema, &err, options);
    if (!schema) {
      std::cerr << "cfgctl: schema: " << err << '\n';
      return exit_usage;
    }
  }
  // As cfgd does before it judges a write: the schema's x-normalize rules
  // first.
  auto check = [&](const json& value, cfgactors::validation_errors& errors) {
    if (!schema)
      return;
    auto normalized = schema->normalized(value);
    schema->validate(normalized ? *normalized : value, errors);
  };
  if (!opts.each) {
    cfgactors::validation_errors errors;
    check(doc.value, errors);
    report(opts.file, opts.schema, errors, as_json, nullptr);
    return errors.empty() ? exit_ok : exit_rejected;
  }
  if (!doc.value.is_array()) {
    std::cerr << "cfgctl: --each: " << opts.file
              << " does not hold a JSON array\n";
    return exit_usage;
  }
  auto all_valid = true;
  for (std::size_t i = 0; i < doc.value.size(); ++i) {
    cfgactors::validation_errors errors;
    check(doc.value[i], errors);
    all_valid = all_valid && errors.empty();
    json index = i;
    report(opts.file + "[" + std::to_string(i) + "]", opts.schema, errors,
           as_json, &index);
  }
  return all_valid ? exit_ok : exit_rejected;
}

} // namespace cfgctl
