// The library logs one event per line as `event=name key=value ...`; this
// reads such a line back into fields, for JSON-lines output.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace cfgactors {

/// The fields of a log line, in their order: `key="quoted text"` (escapes as
/// the library writes them: `\" \\ \n \r \xHH`) is a string, `key=[...]` a
/// JSON array, `key=12` or `key=0.5` a number, `key=true|false` a bool, any
/// other bare value a string. A key given twice collects its values in an
/// array. Words that are not `key=value` are joined into `msg`; a line with
/// none gets its `event` as `msg`, and a line without any field becomes
/// `msg` whole. Never throws; a bad escape or array is kept as text.
nlohmann::ordered_json log_fields(std::string_view line);

} // namespace cfgactors
