#pragma once

// The one include of Boost.Beast's HTTP for Signalbox, after Asio's (common/asio.h, whose
// <utility> workaround it needs). Only the files that speak HTTP include this: Beast's HTTP
// headers are a large part of a file's compile time.

#include "signalbox/common/asio.h"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
