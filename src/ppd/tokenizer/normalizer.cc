#include "ppd/tokenizer/normalizer.h"

#include <optional>

#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include <nlohmann/json.hpp>

namespace ppd::tokenizer {

double Normalizer::min_length_ratio() const {
  double ratio = 1.0;
  for (const Step& step : steps_) {
    if (step.kind == Kind::kUnicodeForm) ratio /= 3.0;
    if (step.kind != Kind::kReplace) continue;
    const std::optional<size_t> pattern_size = step.pattern.literal_size();
    if (!pattern_size || *pattern_size == 0 || step.content.size() < *pattern_size) return 0.0;
  }
  return ratio;
}
namespace {

constexpr std::string_view kNormalizerTypes = "Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD";

}  // namespace

Result<Normalizer> Normalizer::parse(const Json& value, std::string_view path) {
  Normalizer normalizer;
  if (!value.is_null()) PPD_RETURN_IF_ERROR(normalizer.append_steps(value, path, 0));
  return normalizer;
}

Status Normalizer::append_steps(const Json& value, std::string_view path, int depth) {
  PPD_RETURN_IF_ERROR(require_object(value, path));
  PPD_ASSIGN_OR_RETURN(const std::string type, get_type(value, path));
  if (type == "Sequence") {
    if (depth >= kMaxSequenceDepth) {
      return invalid_argument("{}: Sequence nested deeper than {}", path, kMaxSequenceDepth);
    }
    const std::string list_path = field_path(path, "normalizers");
    PPD_ASSIGN_OR_RETURN(const Json* list, get_array(value, "normalizers", path));
    for (size_t i = 0; i < list->size(); ++i) {
      PPD_RETURN_IF_ERROR(append_steps((*list)[i], index_path(list_path, i), depth + 1));
    }
    return Status::Ok();
  }
  PPD_ASSIGN_OR_RETURN(Step step, parse_step(value, type, path));
  steps_.push_back(std::move(step));
  return Status::Ok();
}

Result<Normalizer::Step> Normalizer::parse_step(const Json& value, std::string_view type, std::string_view path) {
  Step step;
  if (type == "Prepend") {
    PPD_ASSIGN_OR_RETURN(step.content, get_string(value, "prepend", path));
  } else if (type == "Replace") {
    PPD_ASSIGN_OR_RETURN(step.content, get_string(value, "content", path));
    const auto it = value.find("pattern");
    if (it == value.end()) return invalid_argument("{}: missing", field_path(path, "pattern"));
    PPD_ASSIGN_OR_RETURN(step.pattern, TextPattern::parse(*it, field_path(path, "pattern")));
    step.kind = Kind::kReplace;
  } else if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
    step.kind = Kind::kUnicodeForm;
    step.form = type == "NFC" ? Form::kNfc : type == "NFD" ? Form::kNfd : type == "NFKC" ? Form::kNfkc : Form::kNfkd;
  } else {
    return unknown_type(path, type, kNormalizerTypes);
  }
  return step;
}

namespace {

const icu::Normalizer2* unicode_form(Normalizer::Form form, UErrorCode* status) {
  switch (form) {
    case Normalizer::Form::kNfc:
      return icu::Normalizer2::getNFCInstance(*status);
    case Normalizer::Form::kNfd:
      return icu::Normalizer2::getNFDInstance(*status);
    case Normalizer::Form::kNfkc:
      return icu::Normalizer2::getNFKCInstance(*status);
    case Normalizer::Form::kNfkd:
      return icu::Normalizer2::getNFKDInstance(*status);
  }
  return nullptr;
}

Result<std::string> unicode_normalize(std::string_view text, Normalizer::Form form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* normalizer = unicode_form(form, &status);
  if (U_FAILURE(status) || normalizer == nullptr) {
    return internal_error("ICU normalizer: {}", u_errorName(status));
  }
  const icu::UnicodeString normalized = normalizer->normalize(icu::UnicodeString::fromUTF8(text), status);
  if (U_FAILURE(status)) return internal_error("ICU normalize: {}", u_errorName(status));
  std::string out;
  normalized.toUTF8String(out);
  return out;
}

}  // namespace

Result<std::string> Normalizer::normalize(std::string_view text) const {
  std::string out(text);
  for (const Step& step : steps_) {
    switch (step.kind) {
      case Kind::kPrepend:
        if (!out.empty()) out.insert(0, step.content);
        break;
      case Kind::kReplace: {
        PPD_ASSIGN_OR_RETURN(out, replace_all(step.pattern, out, step.content));
        break;
      }
      case Kind::kUnicodeForm: {
        PPD_ASSIGN_OR_RETURN(out, unicode_normalize(out, step.form));
        break;
      }
    }
  }
  return out;
}

}  // namespace ppd::tokenizer
