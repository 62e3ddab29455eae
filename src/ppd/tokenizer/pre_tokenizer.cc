#include "ppd/tokenizer/pre_tokenizer.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "ppd/tokenizer/byte_level.h"

namespace ppd::tokenizer {
namespace {

using Behavior = PreTokenizer::Behavior;
using PrependScheme = PreTokenizer::PrependScheme;

constexpr std::string_view kPreTokenizerTypes = "ByteLevel, Metaspace, Split, Sequence";

// GPT-2's pre-tokenization regex, used by ByteLevel{use_regex: true}.
constexpr std::string_view kGpt2Regex = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

struct Segment {
  ByteRange range;
  bool is_match = false;
};

// Covers [0, size) with the matches and the gaps between them; `invert` swaps the roles.
std::vector<Segment> cover(const std::vector<ByteRange>& matches, size_t size, bool invert) {
  std::vector<Segment> out;
  size_t pos = 0;
  for (const ByteRange& match : matches) {
    if (pos < match.begin) out.push_back({{pos, match.begin}, invert});
    out.push_back({match, !invert});
    pos = match.end;
  }
  if (pos < size) out.push_back({{pos, size}, invert});
  return out;
}

// Folds matches into the neighbouring piece the way HF's SplitDelimiterBehavior does.
std::vector<ByteRange> merge_matches(const std::vector<Segment>& segments, Behavior behavior) {
  std::vector<ByteRange> out;
  bool previous_match = false;
  for (const Segment& segment : segments) {
    const bool merge = behavior == Behavior::kMergedWithPrevious ? segment.is_match && !previous_match
                                                                 : segment.is_match == previous_match;  // kContiguous
    if (merge && !out.empty()) {
      out.back().end = segment.range.end;
    } else {
      out.push_back(segment.range);
    }
    previous_match = segment.is_match;
  }
  return out;
}

std::vector<ByteRange> merge_with_next(const std::vector<Segment>& segments) {
  std::vector<ByteRange> out;
  bool previous_match = false;
  for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
    if (it->is_match && !previous_match && !out.empty()) {
      out.back().begin = it->range.begin;
    } else {
      out.push_back(it->range);
    }
    previous_match = it->is_match;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<ByteRange> apply_behavior(const std::vector<Segment>& segments, Behavior behavior) {
  std::vector<ByteRange> out;
  switch (behavior) {
    case Behavior::kRemoved:
      for (const Segment& segment : segments) {
        if (!segment.is_match) out.push_back(segment.range);
      }
      return out;
    case Behavior::kIsolated:
      for (const Segment& segment : segments) out.push_back(segment.range);
      return out;
    case Behavior::kMergedWithNext:
      return merge_with_next(segments);
    case Behavior::kMergedWithPrevious:
    case Behavior::kContiguous:
      return merge_matches(segments, behavior);
  }
  return out;
}

Result<std::vector<PreToken>> split_piece(const PreToken& piece, const TextPattern& pattern, Behavior behavior,
                                          bool invert) {
  PPD_ASSIGN_OR_RETURN(const std::vector<ByteRange> matches, pattern.find_all(piece.text));
  const std::vector<ByteRange> ranges = apply_behavior(cover(matches, piece.text.size(), invert), behavior);
  std::vector<PreToken> out;
  out.reserve(ranges.size());
  for (const ByteRange& range : ranges) {
    if (range.begin == range.end) continue;
    out.push_back({piece.text.substr(range.begin, range.end - range.begin), piece.at_origin && range.begin == 0});
  }
  return out;
}

Result<Behavior> parse_behavior(const Json& value, std::string_view path) {
  PPD_ASSIGN_OR_RETURN(const std::string name, get_string(value, "behavior", path));
  if (name == "Removed") return Behavior::kRemoved;
  if (name == "Isolated") return Behavior::kIsolated;
  if (name == "MergedWithPrevious") return Behavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return Behavior::kMergedWithNext;
  if (name == "Contiguous") return Behavior::kContiguous;
  return invalid_argument(
      "{}: unknown \"{}\"; supported: Removed, Isolated, MergedWithPrevious, MergedWithNext, "
      "Contiguous",
      field_path(path, "behavior"), name);
}

}  // namespace

Result<PreTokenizer> PreTokenizer::parse(const Json& value, std::string_view path) {
  PreTokenizer pre_tokenizer;
  if (!value.is_null()) PPD_RETURN_IF_ERROR(pre_tokenizer.append_steps(value, path, 0));
  return pre_tokenizer;
}

Status PreTokenizer::append_steps(const Json& value, std::string_view path, int depth) {
  PPD_RETURN_IF_ERROR(require_object(value, path));
  PPD_ASSIGN_OR_RETURN(const std::string type, get_type(value, path));
  if (type == "Sequence") {
    if (depth >= kMaxSequenceDepth) {
      return invalid_argument("{}: Sequence nested deeper than {}", path, kMaxSequenceDepth);
    }
    const std::string list_path = field_path(path, "pretokenizers");
    PPD_ASSIGN_OR_RETURN(const Json* list, get_array(value, "pretokenizers", path));
    for (size_t i = 0; i < list->size(); ++i) {
      PPD_RETURN_IF_ERROR(append_steps((*list)[i], index_path(list_path, i), depth + 1));
    }
    return Status::Ok();
  }
  Result<Step> step = type == "ByteLevel"   ? parse_byte_level(value, path)
                      : type == "Metaspace" ? parse_metaspace(value, path)
                      : type == "Split"     ? parse_split(value, path)
                                            : Result<Step>(unknown_type(path, type, kPreTokenizerTypes));
  if (!step.ok()) return step.status();
  steps_.push_back(std::move(step).value());
  return Status::Ok();
}

Result<PreTokenizer::Step> PreTokenizer::parse_byte_level(const Json& value, std::string_view path) {
  ByteLevelStep step;
  PPD_ASSIGN_OR_RETURN(step.add_prefix_space, get_bool(value, "add_prefix_space", path, true));
  PPD_ASSIGN_OR_RETURN(const bool use_regex, get_bool(value, "use_regex", path, true));
  if (use_regex) {
    PPD_ASSIGN_OR_RETURN(step.gpt2_regex, TextPattern::regex(kGpt2Regex, path));
  }
  return Step(std::move(step));
}

Result<PreTokenizer::Step> PreTokenizer::parse_metaspace(const Json& value, std::string_view path) {
  MetaspaceStep step;
  PPD_ASSIGN_OR_RETURN(step.replacement, get_string(value, "replacement", path, "\u2581"));
  PPD_ASSIGN_OR_RETURN(step.prepend_scheme, parse_prepend_scheme(value, path));
  PPD_ASSIGN_OR_RETURN(step.split, get_bool(value, "split", path, true));
  return Step(std::move(step));
}

Result<PreTokenizer::Step> PreTokenizer::parse_split(const Json& value, std::string_view path) {
  SplitStep step;
  if (!value.contains("pattern")) return invalid_argument("{}: missing", field_path(path, "pattern"));
  PPD_ASSIGN_OR_RETURN(step.pattern, TextPattern::parse(value["pattern"], field_path(path, "pattern")));
  PPD_ASSIGN_OR_RETURN(step.behavior, parse_behavior(value, path));
  PPD_ASSIGN_OR_RETURN(step.invert, get_bool(value, "invert", path, false));
  return Step(std::move(step));
}

Result<std::vector<PreToken>> PreTokenizer::split(PreToken piece) const {
  std::vector<PreToken> pieces;
  pieces.push_back(std::move(piece));
  for (const Step& step : steps_) {
    std::vector<PreToken> next;
    for (PreToken& current : pieces) {
      PPD_ASSIGN_OR_RETURN(std::vector<PreToken> parts, apply(step, std::move(current)));
      for (PreToken& part : parts) next.push_back(std::move(part));
    }
    pieces = std::move(next);
  }
  return pieces;
}

namespace {

Result<std::vector<PreToken>> apply_metaspace(const std::string& replacement, PrependScheme scheme, bool split,
                                              PreToken piece) {
  PPD_ASSIGN_OR_RETURN(piece.text, replace_all(TextPattern::literal(" "), piece.text, replacement));
  const bool prepend = scheme == PrependScheme::kAlways || (scheme == PrependScheme::kFirst && piece.at_origin);
  if (prepend && !piece.text.starts_with(replacement)) piece.text.insert(0, replacement);
  if (!split) return std::vector<PreToken>{std::move(piece)};
  return split_piece(piece, TextPattern::literal(replacement), Behavior::kMergedWithNext, false);
}

Result<std::vector<PreToken>> apply_byte_level(bool add_prefix_space, const std::optional<TextPattern>& regex,
                                               PreToken&& piece) {
  if (add_prefix_space && (piece.text.empty() || piece.text.front() != ' ')) {
    piece.text.insert(piece.text.begin(), ' ');
  }
  std::vector<PreToken> parts;
  if (regex) {
    PPD_ASSIGN_OR_RETURN(parts, split_piece(piece, *regex, Behavior::kIsolated, false));
  } else {
    parts.push_back(std::move(piece));
  }
  for (PreToken& part : parts) {
    std::string mapped;
    append_byte_level_text(part.text, &mapped);
    part.text = std::move(mapped);
  }
  return parts;
}

}  // namespace

bool PreTokenizer::keeps_every_byte() const {
  return std::all_of(steps_.begin(), steps_.end(), [](const Step& step) {
    if (const auto* split = std::get_if<SplitStep>(&step)) return split->behavior != Behavior::kRemoved;
    if (const auto* metaspace = std::get_if<MetaspaceStep>(&step)) return !metaspace->replacement.empty();
    return true;
  });
}

Result<PrependScheme> parse_prepend_scheme(const Json& value, std::string_view path) {
  if (!value.contains("prepend_scheme") || value["prepend_scheme"].is_null()) {
    PPD_ASSIGN_OR_RETURN(const bool add_prefix_space, get_bool(value, "add_prefix_space", path, true));
    return add_prefix_space ? PrependScheme::kAlways : PrependScheme::kNever;
  }
  PPD_ASSIGN_OR_RETURN(const std::string name, get_string(value, "prepend_scheme", path));
  if (name == "always") return PrependScheme::kAlways;
  if (name == "first") return PrependScheme::kFirst;
  if (name == "never") return PrependScheme::kNever;
  return invalid_argument("{}: unknown \"{}\"; supported: always, first, never", field_path(path, "prepend_scheme"),
                          name);
}

Result<std::vector<PreToken>> PreTokenizer::apply(const Step& step, PreToken piece) {
  if (const auto* byte_level = std::get_if<ByteLevelStep>(&step)) {
    return apply_byte_level(byte_level->add_prefix_space, byte_level->gpt2_regex, std::move(piece));
  }
  if (const auto* metaspace = std::get_if<MetaspaceStep>(&step)) {
    return apply_metaspace(metaspace->replacement, metaspace->prepend_scheme, metaspace->split, std::move(piece));
  }
  const auto& split_step = std::get<SplitStep>(step);
  return split_piece(piece, split_step.pattern, split_step.behavior, split_step.invert);
}

}  // namespace ppd::tokenizer
