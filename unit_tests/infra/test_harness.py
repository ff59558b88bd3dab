"""The harness itself: a failing check must fail its test (with preview=True, applies never run and every
assertion would pass unseen)."""

from __future__ import annotations

import pulumi
import pytest

from unit_tests.infra.conftest import Deployed


def test_a_failing_check_fails_the_test(deploy):
    ran: list[int] = []

    def check(deployed: Deployed) -> None:
        ran.append(len(deployed.resources))
        raise AssertionError("this check must be seen")

    @pulumi.runtime.test
    def decorated():
        return deploy(check)

    with pytest.raises(AssertionError, match="this check must be seen"):
        decorated()
    assert ran and ran[0] > 50, "the check ran after the resources were registered"


def test_checks_see_every_resource_registered(deploy):
    counts: list[int] = []

    @pulumi.runtime.test
    def decorated():
        return deploy(lambda deployed: counts.append(len(deployed.resources)))

    decorated()
    # By the time the whole program has finished (RPCs drained), nothing was registered after the check ran.
    assert counts == [len(deploy.mocks.resources)]
