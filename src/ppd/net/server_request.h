// HttpRequest: the server's read-only view of one parsed HTTP/1.1 request, handed to route
// handlers: method, path (target without the query), decoded query parameters, headers and
// body. Built once per request by HttpServer; immutable afterwards, so safe to read from
// any thread while the request is alive.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace ppd::net {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

class HttpRequest {
 public:
  explicit HttpRequest(boost::beast::http::request<boost::beast::http::string_body> message);

  boost::beast::http::verb method() const { return message_.method(); }
  // "GET", "POST", ...: the method as sent.
  std::string_view method_name() const { return message_.method_string(); }
  // The target without "?query", not percent-decoded: "/v1/completions".
  const std::string& path() const { return path_; }
  // Query parameters in order of appearance, percent- and '+'-decoded.
  const QueryParams& query_params() const { return query_params_; }
  // Returns the first value of query parameter `name`, or nullopt when absent.
  std::optional<std::string_view> query(std::string_view name) const;
  // Returns the first value of header `name` (case-insensitive), or nullopt when absent.
  std::optional<std::string_view> header(std::string_view name) const;
  const std::string& body() const { return message_.body(); }
  bool keep_alive() const { return message_.keep_alive(); }
  unsigned version() const { return message_.version(); }

 private:
  boost::beast::http::request<boost::beast::http::string_body> message_;
  std::string path_;
  QueryParams query_params_;
};

// Splits "a=1&b=x%20y+z&flag" into {{"a","1"},{"b","x y z"},{"flag",""}}: names and
// values are percent- and '+'-decoded; malformed escapes are kept literally. Pure.
QueryParams parse_query(std::string_view query);

}  // namespace ppd::net
