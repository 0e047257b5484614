// Tests for the text form of validation errors.
#define CAF_SUITE validation_error
#include "cfgactors_test.hpp"

#include "cfgactors/validation_error.hpp"

namespace validation_error_suite {

using namespace cfgactors;

CAF_TEST(a validation error renders as path message and rule) {
  validation_error e{"logging.level", "schema.enum", "must be one of A, B"};
  CAF_CHECK_EQUAL(e.str(), "logging.level: must be one of A, B [schema.enum]");
}

CAF_TEST(an error on the root names the root) {
  validation_error e{"", "parse", "expected an object"};
  CAF_CHECK_EQUAL(e.str(), "<root>: expected an object [parse]");
}

} // namespace validation_error_suite
