// Status and Result<T>: the error channel for everything a user, a peer or load can cause.
// A Status is a code plus a one-line message naming the field, the rule and the value.
// Value types; safe to copy between threads.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace ppd {

enum class StatusCode {
  kOk,
  kInvalidArgument,     // HTTP 400
  kNotFound,            // HTTP 404
  kResourceExhausted,   // HTTP 429
  kFailedPrecondition,  // HTTP 400
  kUnavailable,         // HTTP 503
  kDeadlineExceeded,    // HTTP 504
  kAborted,
  kCancelled,
  kDataLoss,  // corrupt or truncated data
  kUnimplemented,
  kInternal,         // HTTP 500
  kUnauthenticated,  // HTTP 401: a missing or wrong API key or cluster secret
};

// Returns the code's name, e.g. "INVALID_ARGUMENT".
std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: max_tokens: must be in [1, 4096]; got 0", or "OK".
  std::string to_string() const;

  // Returns a copy whose message is "<context>: <message>".
  Status with_context(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <typename... Args>
Status invalid_argument(fmt::format_string<Args...> f, Args&&... args) {
  return {StatusCode::kInvalidArgument, fmt::format(f, std::forward<Args>(args)...)};
}
template <typename... Args>
Status not_found(fmt::format_string<Args...> f, Args&&... args) {
  return {StatusCode::kNotFound, fmt::format(f, std::forward<Args>(args)...)};
}
template <typename... Args>
Status resource_exhausted(fmt::format_string<Args...> f, Args&&... args) {
  return {StatusCode::kResourceExhausted, fmt::format(f, std::forward<Args>(args)...)};
}
template <typename... Args>
Status failed_precondition(fmt::format_string<Args...> f, Args&&... args) {
  return {StatusCode::kFailedPrecondition, fmt::format(f, std::forward<Args>(args)...)};
}
template <typename... Args>
Status unavailable(fmt::format_string<Args...> f, Args&&... args) {
  return {StatusCode::kUnavailable, fmt::format(f, std::forward<Args>(args)...)};
}
template <typename... Args>
Status data_loss(fmt::format_string<Args...> f, Args&&... args) {
  return {StatusCode::kDataLoss, fmt::format(f, std::forward<Args>(args)...)};
}
template <typename... Args>
Status internal_error(fmt::format_string<Args...> f, Args&&... args) {
  return {StatusCode::kInternal, fmt::format(f, std::forward<Args>(args)...)};
}
template <typename... Args>
Status unimplemented(fmt::format_string<Args...> f, Args&&... args) {
  return {StatusCode::kUnimplemented, fmt::format(f, std::forward<Args>(args)...)};
}

// Result<T>: either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : data_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(data_); }
  // REQUIRES: !ok() for a meaningful status; returns OK when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(data_); }

  // REQUIRES: ok().
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace ppd

#define PPD_STATUS_CONCAT_INNER(a, b) a##b
#define PPD_STATUS_CONCAT(a, b) PPD_STATUS_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function when `expr` is not OK.
#define PPD_RETURN_IF_ERROR(expr)                      \
  do {                                                 \
    ::ppd::Status ppd_status_tmp_ = (expr);            \
    if (!ppd_status_tmp_.ok()) return ppd_status_tmp_; \
  } while (0)

// Declares `lhs` from a Result<T> expression, or returns its Status.
#define PPD_ASSIGN_OR_RETURN(lhs, expr) PPD_ASSIGN_OR_RETURN_IMPL(PPD_STATUS_CONCAT(ppd_result_, __LINE__), lhs, expr)
#define PPD_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

// Like PPD_RETURN_IF_ERROR, for coroutines (co_return).
#define PPD_CO_RETURN_IF_ERROR(expr)                            \
  do {                                                          \
    ::ppd::Status ppd_co_status_tmp_ = (expr);                  \
    if (!ppd_co_status_tmp_.ok()) co_return ppd_co_status_tmp_; \
  } while (0)

// Like PPD_ASSIGN_OR_RETURN, for coroutines (co_return).
#define PPD_CO_ASSIGN_OR_RETURN(lhs, expr) \
  PPD_CO_ASSIGN_OR_RETURN_IMPL(PPD_STATUS_CONCAT(ppd_co_result_, __LINE__), lhs, expr)
#define PPD_CO_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) co_return tmp.status();             \
  lhs = std::move(tmp).value()
