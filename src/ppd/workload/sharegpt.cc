// The ShareGPT reader: a filtered JSON parse (only the keys it reads are kept), a strict
// structural check of each entry, then the turn pattern of sharegpt.h.
#include "ppd/workload/sharegpt.h"

#include <algorithm>
#include <array>
#include <optional>

#include <nlohmann/json.hpp>

#include "ppd/common/json_excerpt.h"
#include "ppd/workload/option_checks.h"
#include "ppd/workload/trace_common.h"

namespace ppd::workload {
namespace {

using nlohmann::json;

enum class Role { kUser, kReply, kSystem };

struct RoleName {
  std::string_view name;
  Role role;
};
constexpr std::array<RoleName, 8> kRoles = {{{"human", Role::kUser},
                                             {"user", Role::kUser},
                                             {"gpt", Role::kReply},
                                             {"assistant", Role::kReply},
                                             {"chatgpt", Role::kReply},
                                             {"bing", Role::kReply},
                                             {"bard", Role::kReply},
                                             {"system", Role::kSystem}}};

struct Message {
  Role role;
  const std::string* text;
};

Result<json> parse_json(const std::string& path, const std::string& text) {
  // Drops every key the reader does not use, so the document holds little beyond the texts.
  const json::parser_callback_t keep_used = [](int, json::parse_event_t event, json& parsed) {
    if (event != json::parse_event_t::key) return true;
    const auto& key = parsed.get_ref<const std::string&>();
    return key == "conversations" || key == "from" || key == "value";
  };
  try {
    return json::parse(text, keep_used);
  } catch (const json::exception& e) {
    return invalid_argument("sharegpt {}: invalid JSON: {}", path, internal::json_error_reason(e));
  }
}

Result<Message> parse_message(const json& m, const std::string& where) {
  if (!m.is_object()) return invalid_argument("{}: expected an object; got {}", where, json_excerpt(m));
  const auto from = m.find("from");
  if (from == m.end()) return invalid_argument("{}.from: missing", where);
  const auto role =
      std::ranges::find_if(kRoles, [&](const RoleName& r) { return from->is_string() && *from == r.name; });
  if (role == kRoles.end()) {
    std::string supported;
    for (const RoleName& r : kRoles) supported += (supported.empty() ? "" : ", ") + std::string(r.name);
    return invalid_argument("{}.from: unknown {}; supported: {}", where, json_excerpt(*from), supported);
  }
  const auto value = m.find("value");
  if (value == m.end()) return invalid_argument("{}.value: missing", where);
  if (!value->is_string()) return invalid_argument("{}.value: expected a string; got {}", where, json_excerpt(*value));
  return Message{role->role, &value->get_ref<const std::string&>()};
}

Result<std::vector<Message>> parse_entry(const json& entry, size_t index) {
  const std::string where = fmt::format("[{}]", index);
  if (!entry.is_object()) return invalid_argument("{}: expected an object; got {}", where, json_excerpt(entry));
  const auto conversations = entry.find("conversations");
  if (conversations == entry.end()) return invalid_argument("{}.conversations: missing", where);
  if (!conversations->is_array()) {
    return invalid_argument("{}.conversations: expected an array; got {}", where, json_excerpt(*conversations));
  }
  std::vector<Message> messages;
  for (size_t i = 0; i < conversations->size(); ++i) {
    PPD_ASSIGN_OR_RETURN(Message m, parse_message((*conversations)[i], fmt::format("{}.conversations[{}]", where, i)));
    messages.push_back(m);
  }
  return messages;
}

// The entry's turns by the pattern in sharegpt.h; a conversation with no turns when none is complete.
Conversation make_conversation(const std::vector<Message>& messages, const ShareGptOptions& o,
                               const TokenCounter& count_tokens) {
  Conversation c;
  size_t i = 0;
  if (!messages.empty() && messages[0].role == Role::kSystem) {
    c.system_text = *messages[0].text;
    c.system_tokens = c.system_text.empty() ? 0 : std::max<int64_t>(count_tokens(c.system_text), 1);
    i = 1;
  }
  for (; i + 1 < messages.size(); i += 2) {
    const Message& user = messages[i];
    const Message& reply = messages[i + 1];
    if (user.role != Role::kUser || reply.role != Role::kReply || user.text->empty()) break;
    Turn t;
    t.user_text = *user.text;
    t.user_tokens = std::max<int64_t>(count_tokens(t.user_text), 1);
    t.output_tokens = std::max<int64_t>(count_tokens(*reply.text), 1);
    if (o.max_output_tokens > 0) t.output_tokens = std::min(t.output_tokens, o.max_output_tokens);
    c.turns.push_back(std::move(t));
  }
  return c;
}

}  // namespace

Result<Workload> read_sharegpt(const std::string& path, const ShareGptOptions& o, const TokenCounter& count_tokens) {
  PPD_RETURN_IF_ERROR(internal::check_at_least("max_conversations", o.max_conversations, 0));
  PPD_RETURN_IF_ERROR(internal::check_at_least("max_output_tokens", o.max_output_tokens, 0));
  PPD_ASSIGN_OR_RETURN(const std::string text, internal::read_trace_file("sharegpt", path));
  PPD_ASSIGN_OR_RETURN(const json root, parse_json(path, text));
  if (!root.is_array())
    return invalid_argument("sharegpt {}: expected a JSON array of entries; got {}", path, json_excerpt(root));
  Workload w{.name = "sharegpt", .conversations = {}};
  for (size_t i = 0; i < root.size(); ++i) {
    if (o.max_conversations > 0 && w.conversations.size() >= static_cast<size_t>(o.max_conversations)) break;
    Result<std::vector<Message>> messages = parse_entry(root[i], i);
    if (!messages.ok()) return messages.status().with_context(fmt::format("sharegpt {}", path));
    Conversation c = make_conversation(*messages, o, count_tokens);
    if (c.turns.empty()) continue;
    c.id = static_cast<int64_t>(w.conversations.size());
    w.conversations.push_back(std::move(c));
  }
  if (w.conversations.empty()) {
    return invalid_argument(
        "sharegpt {}: must hold an entry with a complete turn (a user message, then a reply); got none", path);
  }
  return w;
}

}  // namespace ppd::workload
