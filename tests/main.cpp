// The single translation unit that provides the CAF test runner's main().
#include "cfgactors_test.hpp"

#include <caf/test/unit_test_impl.hpp>
