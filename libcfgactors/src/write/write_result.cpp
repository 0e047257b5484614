#include "cfgactors/write_result.hpp"

namespace cfgactors {

std::string to_string(write_status x) {
  switch (x) {
    case write_status::committed: return "committed";
    case write_status::unchanged: return "unchanged";
    case write_status::rejected: return "rejected";
    case write_status::accepted: return "accepted";
  }
  return "write_status(" + std::to_string(static_cast<int>(x)) + ")";
}

std::string write_result::describe() const {
  std::string out = to_string(status);
  if (status != write_status::rejected) {
    out += " version=";
    out += std::to_string(version);
    return out;
  }
  out += " (";
  out += to_string(code);
  out += ")";
  for (auto& err : errors) {
    out += "\n  ";
    out += err.str();
  }
  return out;
}

write_result write_result::reject(errc code, validation_errors errors) {
  write_result result;
  result.status = write_status::rejected;
  result.code = code;
  result.errors = std::move(errors);
  return result;
}

write_result write_result::reject(errc code, std::string path,
                                  std::string rule, std::string message) {
  return reject(code, {validation_error{std::move(path), std::move(rule),
                                        std::move(message)}});
}

} // namespace cfgactors
