#pragma once

// Boost.Asio's and Boost.Beast's TLS streams (OpenSSL), after the one include of Beast
// (common/beast.h). Only the files that speak TLS include this: it pulls in OpenSSL's headers.

#include "signalbox/common/beast.h"

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
