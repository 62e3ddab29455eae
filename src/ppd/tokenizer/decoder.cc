#include "ppd/tokenizer/decoder.h"

#include <nlohmann/json.hpp>

#include "ppd/tokenizer/byte_level.h"
#include "ppd/tokenizer/pre_tokenizer.h"
#include "ppd/tokenizer/utf8.h"

namespace ppd::tokenizer {
namespace {

constexpr std::string_view kDecoderTypes = "ByteFallback, ByteLevel, Fuse, Metaspace, Replace, Sequence, Strip";

// Returns the byte of a "<0xNN>" byte-fallback token, or -1.
int fallback_byte(std::string_view token) {
  if (token.size() != 6 || !token.starts_with("<0x") || token.back() != '>') return -1;
  int value = 0;
  for (const char c : token.substr(3, 2)) {
    const int digit = (c >= '0' && c <= '9')   ? c - '0'
                      : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                      : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                               : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

// Removes up to `start` leading and `stop` trailing copies of `content`.
void strip_text(std::string_view content, int start, int stop, std::string* text) {
  size_t begin = 0;
  for (int i = 0; i < start && text->compare(begin, content.size(), content) == 0; ++i) {
    begin += content.size();
  }
  size_t end = text->size();
  for (int i = 0;
       i < stop && end >= begin + content.size() && text->compare(end - content.size(), content.size(), content) == 0;
       ++i) {
    end -= content.size();
  }
  *text = text->substr(begin, end - begin);
}

}  // namespace

Result<Decoder> Decoder::parse(const Json& value, std::string_view path) {
  Decoder decoder;
  if (value.is_null()) {
    decoder.steps_.push_back({.kind = Kind::kJoinWithSpace});
    return decoder;
  }
  PPD_RETURN_IF_ERROR(decoder.append_steps(value, path, 0));
  return decoder;
}

Status Decoder::append_steps(const Json& value, std::string_view path, int depth) {
  PPD_RETURN_IF_ERROR(require_object(value, path));
  PPD_ASSIGN_OR_RETURN(const std::string type, get_type(value, path));
  if (type == "Sequence") {
    if (depth >= kMaxSequenceDepth) {
      return invalid_argument("{}: Sequence nested deeper than {}", path, kMaxSequenceDepth);
    }
    const std::string list_path = field_path(path, "decoders");
    PPD_ASSIGN_OR_RETURN(const Json* list, get_array(value, "decoders", path));
    for (size_t i = 0; i < list->size(); ++i) {
      PPD_RETURN_IF_ERROR(append_steps((*list)[i], index_path(list_path, i), depth + 1));
    }
  } else if (type == "Replace") {
    PPD_ASSIGN_OR_RETURN(Step step, parse_replace(value, path));
    steps_.push_back(std::move(step));
  } else if (type == "ByteFallback") {
    steps_.push_back({.kind = Kind::kByteFallback});
  } else if (type == "ByteLevel") {
    steps_.push_back({.kind = Kind::kByteLevel});
    fused_ = true;
  } else if (type == "Fuse") {
    fused_ = true;
  } else if (type == "Metaspace") {
    PPD_ASSIGN_OR_RETURN(Step step, parse_metaspace(value, path));
    steps_.push_back(std::move(step));
  } else if (type == "Strip") {
    return parse_strip(value, path);
  } else {
    return unknown_type(path, type, kDecoderTypes);
  }
  return Status::Ok();
}

Result<Decoder::Step> Decoder::parse_replace(const Json& value, std::string_view path) {
  Step step{.kind = Kind::kReplace};
  PPD_ASSIGN_OR_RETURN(step.content, get_string(value, "content", path));
  if (!value.contains("pattern")) return invalid_argument("{}: missing", field_path(path, "pattern"));
  PPD_ASSIGN_OR_RETURN(step.pattern, TextPattern::parse(value["pattern"], field_path(path, "pattern")));
  return step;
}

Result<Decoder::Step> Decoder::parse_metaspace(const Json& value, std::string_view path) {
  Step step{.kind = Kind::kMetaspace};
  PPD_ASSIGN_OR_RETURN(step.content, get_string(value, "replacement", path, "\u2581"));
  PPD_ASSIGN_OR_RETURN(const PreTokenizer::PrependScheme scheme, parse_prepend_scheme(value, path));
  step.drop_first = scheme != PreTokenizer::PrependScheme::kNever;
  return step;
}

Status Decoder::parse_strip(const Json& value, std::string_view path) {
  Step step{.kind = Kind::kStrip};
  PPD_ASSIGN_OR_RETURN(step.content, get_string(value, "content", path));
  PPD_ASSIGN_OR_RETURN(const int64_t start, get_int(value, "start", path, 0));
  PPD_ASSIGN_OR_RETURN(const int64_t stop, get_int(value, "stop", path, 0));
  if (step.content.empty()) return invalid_argument("{}: must not be empty", field_path(path, "content"));
  if (start < 0 || start > 1024 || stop < 0 || stop > 1024) {
    return invalid_argument("{}: start and stop must be in [0, 1024]; got {} and {}", path, start, stop);
  }
  step.start = static_cast<int>(start);
  step.stop = static_cast<int>(stop);
  if (!fused_) {
    steps_.push_back(std::move(step));
    return Status::Ok();
  }
  // After Fuse the Strip sees the whole output; a trailing strip would make streaming hold
  // text back until the end, and no known tokenizer uses one.
  if (stop != 0) return invalid_argument("{}: must be 0 after Fuse; got {}", field_path(path, "stop"), stop);
  if (num_strip_leading_ > 0) return invalid_argument("{}: only one Strip after Fuse is supported", path);
  strip_content_ = step.content;
  num_strip_leading_ = step.start;
  return Status::Ok();
}

bool Decoder::apply_step(const Step& step, size_t position, std::string* text) {
  switch (step.kind) {
    case Kind::kReplace: {
      // A literal never fails; a regex fails only when ICU runs out of memory, and then
      // the token passes through unchanged.
      Result<std::string> replaced = replace_all(step.pattern, *text, step.content);
      if (replaced.ok()) *text = std::move(replaced).value();
      return false;
    }
    case Kind::kByteFallback: {
      const int byte = fallback_byte(*text);
      if (byte < 0) return false;
      text->assign(1, static_cast<char>(byte));
      return true;
    }
    case Kind::kByteLevel: {
      std::string decoded;
      if (append_bytes_of_byte_level_text(*text, &decoded)) *text = std::move(decoded);
      return true;
    }
    case Kind::kMetaspace: {
      const std::string_view space = (position == 0 && step.drop_first) ? "" : " ";
      *text = replace_all(TextPattern::literal(step.content), *text, space).value();
      return false;
    }
    case Kind::kStrip:
      strip_text(step.content, step.start, step.stop, text);
      return false;
    case Kind::kJoinWithSpace:
      if (position > 0) text->insert(text->begin(), ' ');
      return false;
  }
  return false;
}

void Decoder::append_token_bytes(std::string_view token, size_t position, std::string* bytes) const {
  std::string text(token);
  for (const Step& step : steps_) {
    // Once a step has produced output bytes, later text steps must not touch them.
    if (apply_step(step, position, &text)) break;
  }
  bytes->append(text);
}

DecodeStream::DecodeStream(const Decoder* decoder) : decoder_(decoder), num_strip_left_(decoder->num_strip_leading()) {}

void DecodeStream::push(std::string_view token, std::string* out) {
  decoder_->append_token_bytes(token, num_tokens_++, &pending_bytes_);
  std::string text;
  const size_t consumed = append_utf8_lossy(pending_bytes_, IncompleteTail::kHold, &text);
  pending_bytes_.erase(0, consumed);
  emit(text, out);
}

void DecodeStream::flush(std::string* out) {
  std::string text;
  append_utf8_lossy(pending_bytes_, IncompleteTail::kReplace, &text);
  pending_bytes_.clear();
  emit(text, out);
}

void DecodeStream::emit(std::string_view text, std::string* out) {
  const std::string& content = decoder_->strip_content();
  while (num_strip_left_ > 0 && !text.empty()) {
    if (!text.starts_with(content)) {
      num_strip_left_ = 0;
      break;
    }
    text.remove_prefix(content.size());
    --num_strip_left_;
  }
  if (!text.empty()) num_strip_left_ = 0;
  out->append(text);
}

}  // namespace ppd::tokenizer
