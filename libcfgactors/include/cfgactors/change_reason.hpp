// Why a write was made: the operator's free text (`X-Change-Reason`,
// `cfgctl --reason`, write_request::reason) kept with its version.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cfgactors {

/// A reason is a line for a human, not a document: longer text belongs in a
/// ticket the reason names.
inline constexpr std::size_t max_reason_bytes = 500;

/// Why `text` cannot be a write's reason (it is shown in logs, history and
/// terminals): not valid UTF-8, a control character (C0, DEL, C1), a line
/// or paragraph separator (U+2028, U+2029) or longer than max_reason_bytes. nullopt when it can; an empty text is no reason.
std::optional<std::string> reason_problem(std::string_view text);

} // namespace cfgactors
