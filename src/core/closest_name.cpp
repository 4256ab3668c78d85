// Levenshtein distance and the closest-name rule behind "did you mean".
#include "core/closest_name.hpp"

#include <algorithm>
#include <cctype>

namespace deleted_record {

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) == std::tolower(static_cast<unsigned char>(b[j - 1]));
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (same ? 0 : 1)});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::optional<std::size_t> ClosestName(std::string_view unknown, const std::vector<std::string_view>& known) {
  std::optional<std::size_t> best;
  std::size_t best_distance = 0;
  for (std::size_t i = 0; i < known.size(); ++i) {
    std::size_t distance = EditDistance(unknown, known[i]);
    if (!best || distance < best_distance) {
      best = i;
      best_distance = distance;
    }
  }
  std::size_t limit = std::min<std::size_t>(3, std::max<std::size_t>(1, unknown.size() / 3));
  if (!best || best_distance > limit) return std::nullopt;
  return best;
}

}  // namespace deleted_record
