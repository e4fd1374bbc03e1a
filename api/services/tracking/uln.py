"""Unique Learner Number (ULN) check digits."""

from operator import mul

from api.models.tracking import TEMPORARY_ULN  # noqa: F401 - defined beside the index that lets it repeat

WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
CODE_OFFSET = ord("0") * sum(WEIGHTS)  # the weighted sum of the digits' character codes exceeds theirs by this


def uln_problem(value: str) -> str | None:
    """None if ``value`` is a valid ULN, else what is wrong with it.

    A ULN is 10 digits, the first not 0. S is the sum of the first nine digits weighted 10, 9, ..., 2; r = S mod 11;
    r = 0 is never issued; otherwise the tenth digit is 10 - r. 9999999999 is the reserved temporary ULN.
    """
    if value == TEMPORARY_ULN:
        return None
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        return "a ULN is exactly 10 digits"
    if value[0] == "0":
        return "a ULN does not start with 0"
    remainder = (sum(map(mul, value.encode("ascii")[:9], WEIGHTS)) - CODE_OFFSET) % 11
    if remainder == 0:
        return "not a valid ULN: no ULN has these first nine digits (their weighted sum is divisible by 11)"
    if int(value[9]) != 10 - remainder:
        return f"not a valid ULN: the check digit should be {10 - remainder}"
    return None
