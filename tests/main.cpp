// Entry point of the cqrsd test executable; suites live in their own files.
#define BOOST_TEST_MODULE cqrsd
#include <boost/test/unit_test.hpp>
