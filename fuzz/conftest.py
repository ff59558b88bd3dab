"""The stack under test and a signed-in user, as in integration_tests/."""

from integration_tests.conftest import *  # noqa: F403
