// The closest known name to a misspelt one (edit distance), for "did you mean" hints.
#pragma once
#include "core/no_postgres.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace deleted_record {

// EditDistance is the Levenshtein distance between two names (ASCII, case-insensitive).
std::size_t EditDistance(std::string_view a, std::string_view b);

// ClosestName returns the index in known of the name closest to unknown, when it is close
// enough to be a plausible misspelling (at most a third of its length, and at most 3 edits).
std::optional<std::size_t> ClosestName(std::string_view unknown, const std::vector<std::string_view>& known);

}  // namespace deleted_record
