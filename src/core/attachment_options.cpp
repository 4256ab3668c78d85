// Parsing, writing and checking attachment options. The argument is our own structured data,
// so it is read with nlohmann/json; PostgreSQL values inside it (the interval) stay text.
#include "core/attachment_options.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

namespace deleted_record {

namespace {

bool ReadNames(const nlohmann::json& document, const char* key, std::vector<std::string>* names, std::string* problem) {
  auto found = document.find(key);
  if (found == document.end()) return true;
  if (!found->is_array()) {
    *problem = std::string("\"") + key + "\" must be an array of column names";
    return false;
  }
  for (const auto& name : *found) {
    if (!name.is_string()) {
      *problem = std::string("\"") + key + "\" must be an array of column names";
      return false;
    }
    names->push_back(name.get<std::string>());
  }
  return true;
}

bool Contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

std::optional<AttachmentOptions> ParseAttachmentOptions(std::string_view argument, std::string* problem) {
  nlohmann::json document = nlohmann::json::parse(argument.begin(), argument.end(), nullptr, false);
  if (document.is_discarded() || !document.is_object()) {
    *problem = "the archive trigger's argument is not a JSON object";
    return std::nullopt;
  }
  AttachmentOptions options;
  for (const auto& item : document.items()) {
    if (item.key() != "attachment" && item.key() != "retention" && item.key() != "exclude" && item.key() != "mask") {
      *problem = "unknown option \"" + item.key() + "\" in the archive trigger's argument";
      return std::nullopt;
    }
  }
  if (auto attachment = document.find("attachment"); attachment != document.end()) {
    if (!attachment->is_string() || !IsAttachmentId(attachment->get<std::string>())) {
      *problem = "\"attachment\" must be a UUID as text";
      return std::nullopt;
    }
    options.attachment = attachment->get<std::string>();
  }
  if (auto retention = document.find("retention"); retention != document.end()) {
    if (!retention->is_string()) {
      *problem = "\"retention\" must be an interval as text";
      return std::nullopt;
    }
    options.retention = retention->get<std::string>();
  }
  if (!ReadNames(document, "exclude", &options.exclude, problem) || !ReadNames(document, "mask", &options.mask, problem))
    return std::nullopt;
  return options;
}

std::string SerializeAttachmentOptions(const AttachmentOptions& options) {
  nlohmann::ordered_json document = nlohmann::ordered_json::object();
  if (options.attachment) document["attachment"] = *options.attachment;
  if (options.retention) document["retention"] = *options.retention;
  if (!options.exclude.empty()) document["exclude"] = options.exclude;
  if (!options.mask.empty()) document["mask"] = options.mask;
  if (document.empty()) return "";
  return document.dump();
}

std::optional<std::string> ColumnPolicyProblem(const std::vector<std::string>& exclude, const std::vector<std::string>& mask,
                                               const std::vector<std::string>& columns,
                                               const std::vector<std::string>& key_columns) {
  std::set<std::string> seen;
  for (const auto* list : {&exclude, &mask}) {
    const char* what = list == &exclude ? "excluded" : "masked";
    for (const auto& name : *list) {
      if (!Contains(columns, name)) return "column \"" + name + "\" does not exist";
      if (Contains(key_columns, name))
        return "column \"" + name + "\" is part of the table's key, which makes object_id, so it cannot be " + what;
      if (!seen.insert(name).second) {
        if (Contains(exclude, name) && Contains(mask, name))
          return "column \"" + name + "\" cannot be both excluded and masked";
        return "column \"" + name + "\" is listed twice";
      }
    }
  }
  return std::nullopt;
}

AttachmentOptions MergeAttachmentOptions(const std::vector<AttachmentOptions>& triggers) {
  AttachmentOptions merged;
  for (const auto& options : triggers) {
    if (options.attachment && !merged.attachment) {
      merged.attachment = options.attachment;
      merged.retention = options.retention;
    }
  }
  if (!merged.attachment)
    for (const auto& options : triggers)
      if (options.retention) {
        merged.retention = options.retention;
        break;
      }
  for (const auto& options : triggers)
    for (const auto& name : options.exclude)
      if (!Contains(merged.exclude, name)) merged.exclude.push_back(name);
  for (const auto& options : triggers)
    for (const auto& name : options.mask)
      if (!Contains(merged.exclude, name) && !Contains(merged.mask, name)) merged.mask.push_back(name);
  return merged;
}

bool IsAttachmentId(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

bool FollowRename(AttachmentOptions* options, std::string_view old_name, std::string_view new_name) {
  bool changed = false;
  for (auto* list : {&options->exclude, &options->mask})
    for (auto& name : *list)
      if (name == old_name) {
        name = std::string(new_name);
        changed = true;
      }
  return changed;
}

bool ForgetMissingColumns(AttachmentOptions* options, const std::vector<std::string>& columns) {
  bool changed = false;
  for (auto* list : {&options->exclude, &options->mask}) {
    auto end = std::remove_if(list->begin(), list->end(), [&](const std::string& name) { return !Contains(columns, name); });
    changed |= end != list->end();
    list->erase(end, list->end());
  }
  return changed;
}

}  // namespace deleted_record
