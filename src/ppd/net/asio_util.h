// Internal to ppd_net: the completion token its coroutines share. Header-only; stateless.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace ppd::net {

// Awaited operations return (error_code, ...) instead of throwing.
inline constexpr auto kUseTuple = boost::asio::as_tuple(boost::asio::use_awaitable);

}  // namespace ppd::net
