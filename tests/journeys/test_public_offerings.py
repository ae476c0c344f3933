"""The public catalogue learns the seats taken from the enrolment service's events over the
real broker (it imports no other service)."""

import time

import httpx

from credstack import devstack

from .conftest import journey_through


def test_a_confirmed_enrolment_takes_a_seat_in_the_public_listing(
    stack: devstack.Stack,
) -> None:
    journey_through(stack).run()  # the stack's only offering: capacity 30, one learner confirmed

    deadline = time.monotonic() + 30
    seats = None
    while time.monotonic() < deadline:
        (offering,) = httpx.get(f"{stack.url('catalogue')}/offerings").json()["items"]
        seats = offering["seats_left"]
        if seats == 29:
            break
        time.sleep(0.5)
    assert seats == 29
