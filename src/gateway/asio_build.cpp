// Boost.Asio, its SSL part and Beast compiled once, here, instead of in every file that uses them
// (BOOST_ASIO_SEPARATE_COMPILATION and BOOST_BEAST_SEPARATE_COMPILATION, set by tranche_beast): on two
// cores each header-only copy costs tens of seconds of build.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
